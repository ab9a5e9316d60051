"""Run rows and items in reconciliation_runs / reconciliation_items.

A run's row is committed as 'running' before any check starts, and its process holds an advisory
lock named after the run until it ends. Its items are written as the checks compute them
(findings.py); the row is then completed as 'passed' or 'failed', or as 'error' with its items
withdrawn. A 'running' row whose lock nobody holds belongs to a
process that died: the next run marks it 'error' (sweep_abandoned).
"""

import json
import uuid
from collections import defaultdict
from typing import Optional

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from .checks import Scope

ABANDONED = "abandoned: the process running it ended before completing it"
INTERRUPTED = "interrupted: ledger-pipeline start was stopped before the run completed"
# How the error of a run whose process ended before it did begins (ABANDONED, INTERRUPTED, and the
# engine's own "interrupted: ..." on Ctrl-C or a terminated Dagster run).
CUT_SHORT = ("abandoned:", "interrupted:")
SAMPLE_SIZE = 5  # mismatches per check kept in a run's summary; every one is an item


def start(guard: psycopg.Connection, scope: Scope, dagster_run_id: Optional[str],
          partition_key: Optional[str]) -> uuid.UUID:
    """Inserts the 'running' row on ``guard``, an autocommit connection kept open for the run."""
    with guard.transaction():
        guard.execute("SELECT set_system_context()")
        run_id = guard.execute(
            "INSERT INTO reconciliation_runs (run_type, status, period_start, period_end, dagster_run_id,"
            " partition_key) VALUES (%s, 'running', %s, %s, %s, %s) RETURNING id",
            (scope.run_type, scope.period_start, scope.period_end, dagster_run_id, partition_key),
        ).fetchone()[0]
        # Taken before the row commits, so no sweep can see the row without the lock held.
        guard.execute("SELECT pg_advisory_lock(hashtextextended(%s::text, 0))", (run_id,))
    return run_id


def sweep_abandoned(db: LedgerDatabase, reason: str = ABANDONED) -> int:
    """Marks 'error' every running row whose process died, withdrawing any items it had written."""
    with db.system_context() as conn:
        return conn.execute(
            "WITH swept AS ("
            "  UPDATE reconciliation_runs"
            "  SET status = 'error', completed_at = now(), error = %s"
            "  WHERE status = 'running' AND pg_try_advisory_xact_lock(hashtextextended(id::text, 0))"
            "  RETURNING id"
            "), withdrawn AS (DELETE FROM reconciliation_items WHERE run_id IN (SELECT id FROM swept))"
            " SELECT count(*) FROM swept",
            (reason,),
        ).fetchone()[0]


def note_replay(db: LedgerDatabase, run_ids: list[uuid.UUID], position) -> None:
    """Records on each running row where the replica it reads stands (a ``replica.Replay``)."""
    with db.system_context() as conn:
        conn.execute(
            "UPDATE reconciliation_runs SET replica_replay_lsn = %s, replica_replayed_at = %s,"
            " replica_lag_seconds = %s, replica_lag_bytes = %s WHERE id = ANY(%s) AND status = 'running'",
            (position.lsn, position.replayed_at, position.lag_seconds, position.lag_bytes, run_ids),
        )


def outcomes(db: LedgerDatabase, run_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], tuple[int, list[dict]]]:
    """Per run and check with mismatches: how many, and the largest few (amounts as exact strings)."""
    with db.system_context() as conn:
        rows = conn.execute(
            "SELECT run_id, check_name, mismatches, item FROM ("
            "  SELECT run_id, check_name, count(*) OVER per_check AS mismatches,"
            "         row_number() OVER (per_check ORDER BY abs(difference) DESC NULLS LAST, id) AS rank,"
            "         jsonb_build_object('account_id', account_id, 'transaction_id', transaction_id,"
            "             'currency', currency, 'expected', expected::text, 'actual', actual::text,"
            "             'difference', difference::text, 'details', details)::text AS item"
            "  FROM reconciliation_items WHERE run_id = ANY(%s) AND status = 'mismatch'"
            "  WINDOW per_check AS (PARTITION BY run_id, check_name)"
            ") ranked WHERE rank <= %s",
            (run_ids, SAMPLE_SIZE),
        ).fetchall()
    found: dict = defaultdict(lambda: (0, []))  # a check without mismatches: none, no sample
    for run_id, check, count, item in rows:
        # Decimals as exact strings, so the sample is plain JSON for summaries and Dagster metadata.
        found.setdefault((run_id, check), (count, []))[1].append(json.loads(item, parse_float=str))
    return found


def complete(db: LedgerDatabase, results: dict[uuid.UUID, tuple[str, dict, tuple[int, int]]],
             snapshot: str) -> dict[uuid.UUID, dict]:
    """Completes each run (run id -> status, summary, (accounts, transactions) checked) from its
    recorded items, in one transaction; returns the completed rows."""
    rows = {}
    with db.system_context() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        for run_id, (status, summary, counts) in results.items():
            row = cursor.execute(
                "UPDATE reconciliation_runs r"
                " SET status = %(status)s, completed_at = now(), summary = %(summary)s, snapshot = %(snapshot)s,"
                "     accounts_checked = %(accounts)s, transactions_checked = %(transactions)s,"
                "     total_debits = i.debits, total_credits = i.credits, mismatch_count = i.mismatches"
                " FROM (SELECT sum(expected) FILTER (WHERE check_name = 'debits_equal_credits') AS debits,"
                "              sum(actual) FILTER (WHERE check_name = 'debits_equal_credits') AS credits,"
                "              count(*) FILTER (WHERE status = 'mismatch') AS mismatches"
                "       FROM reconciliation_items WHERE run_id = %(run_id)s) i"
                # Only a running row: one that a sweep already closed as abandoned stays closed.
                " WHERE r.id = %(run_id)s AND r.status = 'running' RETURNING r.*",
                {"status": status, "summary": Jsonb(summary), "snapshot": snapshot, "accounts": counts[0],
                 "transactions": counts[1], "run_id": run_id},
            ).fetchone()
            if row is None:  # rolls every completion back with it
                raise LedgerError(f"reconciliation {run_id} was closed by another process before it completed")
            rows[run_id] = row
    return rows


def fail(db: LedgerDatabase, run_id: uuid.UUID, error: str, summary: Optional[dict] = None) -> dict:
    """Completes the run as 'error' on a fresh connection (the run's own may be what broke), its
    items withdrawn: a broken run judged nothing. Returns the row as it ends up."""
    with db.system_context() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        row = cursor.execute(
            "UPDATE reconciliation_runs SET status = 'error', completed_at = now(), error = %s,"
            " summary = coalesce(%s, summary) WHERE id = %s AND status = 'running' RETURNING *",
            (error, Jsonb(summary) if summary else None, run_id),
        ).fetchone()
        if row is None:
            return cursor.execute("SELECT * FROM reconciliation_runs WHERE id = %s", (run_id,)).fetchone()
        conn.execute("DELETE FROM reconciliation_items WHERE run_id = %s", (run_id,))
        return row


def history(db: LedgerDatabase, limit: int) -> list[dict]:
    with db.system_context() as conn:
        return conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM reconciliation_runs ORDER BY started_at DESC, id LIMIT %s", (limit,)
        ).fetchall()


def run_with_items(db: LedgerDatabase, run_id: uuid.UUID, status: Optional[str] = "mismatch") -> Optional[dict]:
    with db.system_context() as conn:
        run = conn.cursor(row_factory=dict_row).execute("SELECT * FROM reconciliation_runs WHERE id = %s", (run_id,)).fetchone()
        if run is None:
            return None
        run["items"] = conn.cursor(row_factory=dict_row).execute(
            "SELECT * FROM reconciliation_items WHERE run_id = %s AND (%s::text IS NULL OR status = %s)"
            " ORDER BY check_name, abs(difference) DESC NULLS LAST, id",
            (run_id, status, status),
        ).fetchall()
        return run
