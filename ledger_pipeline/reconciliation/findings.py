"""A batch's findings, computed in one snapshot and written straight into reconciliation_items
(INSERT ... SELECT: no row passes through Python, however many there are).

A batch is one whole-ledger run, or one or more period runs (the days of a backfill), which
share a single pass over the entries by value date.
"""

import uuid
from collections.abc import Sequence

import psycopg
from psycopg import sql

from .. import settings
from . import checkpoints
from .checks import Scope, render

INSERT_ITEMS = sql.SQL(
    "INSERT INTO reconciliation_items (run_id, check_name, account_id, transaction_id, currency,"
    " expected, actual, difference, status, details)"
    " SELECT c.run_id, {check}, c.account_id, c.transaction_id, c.currency, c.expected, c.actual, c.difference,"
    "        CASE WHEN c.expected IS DISTINCT FROM c.actual THEN 'mismatch' ELSE 'matched' END, c.details"
    " FROM ({query}) AS c"
)


def write(conn: psycopg.Connection, runs: Sequence[tuple[uuid.UUID, Scope]], previous: str | None
          ) -> dict[uuid.UUID, tuple[int, int]]:
    """Writes every check's rows for each run, reading the run_totals table built for the batch;
    returns each run's (accounts checked, transactions checked)."""
    checks = runs[0][1].checks
    # The days of the rates and conversion checks are the schedules' days.
    common = {"timezone": settings.timezone(), "reporting_currency": settings.reporting_currency(),
              "tolerance": settings.fx_rate_tolerance()}
    if not runs[0][1].is_period:
        [(run_id, scope)] = runs
        for name in checks:
            kind = "audit" if name in scope.audit_checks else "ledger"
            _insert(conn, name, render(f"checks/{kind}/{name}", run_id=run_id, **common))
        if scope.ledger_checks:
            counts = conn.execute(render("checks/ledger/scope_counts", full=scope.from_scratch,
                                         previous=previous or checkpoints.NO_CHECKPOINT)).fetchone()
        else:  # the audit checks alone: audit_trail_complete covers every account and transaction
            counts = conn.execute("SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions)").fetchone()
        return {run_id: counts}

    bounds = sorted({bound for _, s in runs for bound in (s.period_start, s.period_end)})
    full_run, full_watermark = checkpoints.last_full_run(conn)
    placed = {"bounds": bounds, "range_start": bounds[0], "range_end": bounds[-1],
              "full_run": full_run, "full_watermark": full_watermark, **common}
    conn.execute("CREATE TEMP TABLE run_windows (run_id uuid, bucket int, period_start timestamptz,"
                 " period_end timestamptz) ON COMMIT DROP")
    with conn.cursor().copy("COPY run_windows FROM STDIN") as copy:
        for run_id, scope in runs:
            # width_bucket numbers buckets from 1 at the first bound.
            copy.write_row((run_id, bounds.index(scope.period_start) + 1, scope.period_start, scope.period_end))
    conn.execute("ANALYZE run_windows")
    conn.execute(render("checks/periods/period_totals", **placed))
    for name in checks:
        _insert(conn, name, render(f"checks/periods/{name}", **placed))
    return {run_id: (accounts, transactions)
            for run_id, accounts, transactions in conn.execute(render("checks/periods/scope_counts", **placed))}


def _insert(conn: psycopg.Connection, check: str, query: sql.Composable) -> None:
    conn.execute(INSERT_ITEMS.format(check=sql.Literal(check), query=query))
