"""Run rows and items in reconciliation_runs / reconciliation_items.

A run's row is committed as 'running' before any check starts, and its process holds an advisory
lock named after the run until it ends. The row is then completed as 'passed', 'failed' or
'error', with its items, in one transaction. A 'running' row whose lock nobody holds belongs to a
process that died: the next run marks it 'error' (sweep_abandoned).
"""

import uuid
from typing import Optional

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ..db import LedgerDatabase
from ..errors import LedgerError
from .checks import Scope


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


def sweep_abandoned(db: LedgerDatabase) -> int:
    with db.system_context() as conn:
        return conn.execute(
            "UPDATE reconciliation_runs"
            " SET status = 'error', completed_at = now(),"
            "     error = 'abandoned: the process running it ended before completing it'"
            " WHERE status = 'running' AND pg_try_advisory_xact_lock(hashtextextended(id::text, 0))"
        ).rowcount


def complete(db: LedgerDatabase, run_id: uuid.UUID, status: str, item_queries: dict[str, str],
             counts: tuple[int, int], summary: dict) -> dict:
    """Writes the items of each check in ``item_queries`` (set-based, from the check's own SQL)
    and completes the run, all in one transaction; returns the completed row."""
    with db.system_context() as conn:
        for name, query in item_queries.items():
            conn.execute(
                sql.SQL(
                    "INSERT INTO reconciliation_items (run_id, check_name, account_id, transaction_id,"
                    " currency, expected, actual, difference, status, details)"
                    " SELECT %(run_id)s, %(check)s, c.account_id, c.transaction_id, c.currency,"
                    "        c.expected, c.actual, c.difference,"
                    "        CASE WHEN c.expected IS DISTINCT FROM c.actual THEN 'mismatch' ELSE 'matched' END,"
                    "        c.details"
                    " FROM ({}) AS c"
                ).format(sql.SQL(query)),
                {"run_id": run_id, "check": name},
            )
        row = conn.cursor(row_factory=dict_row).execute(
            "UPDATE reconciliation_runs r"
            " SET status = %(status)s, completed_at = now(), summary = %(summary)s,"
            "     accounts_checked = %(accounts)s, transactions_checked = %(transactions)s,"
            "     total_debits = i.debits, total_credits = i.credits, mismatch_count = i.mismatches"
            " FROM (SELECT sum(expected) FILTER (WHERE check_name = 'debits_equal_credits') AS debits,"
            "              sum(actual) FILTER (WHERE check_name = 'debits_equal_credits') AS credits,"
            "              count(*) FILTER (WHERE status = 'mismatch') AS mismatches"
            "       FROM reconciliation_items WHERE run_id = %(run_id)s) i"
            # Only a running row: one that a sweep already closed as abandoned stays closed.
            " WHERE r.id = %(run_id)s AND r.status = 'running' RETURNING r.*",
            {"status": status, "summary": Jsonb(summary), "accounts": counts[0],
             "transactions": counts[1], "run_id": run_id},
        ).fetchone()
        if row is None:  # rolls the items back with it
            raise LedgerError(f"reconciliation {run_id} was closed by another process before it completed")
        return row


def fail(db: LedgerDatabase, run_id: uuid.UUID, error: str, summary: Optional[dict] = None) -> dict:
    """Completes the run as 'error' on a fresh connection (the run's own may be what broke);
    returns the row as it ends up."""
    with db.system_context() as conn:
        cursor = conn.cursor(row_factory=dict_row)
        row = cursor.execute(
            "UPDATE reconciliation_runs SET status = 'error', completed_at = now(), error = %s,"
            " summary = coalesce(%s, summary) WHERE id = %s AND status = 'running' RETURNING *",
            (error, Jsonb(summary) if summary else None, run_id),
        ).fetchone()
        return row or cursor.execute("SELECT * FROM reconciliation_runs WHERE id = %s", (run_id,)).fetchone()


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
