"""A batch's findings, computed in one snapshot and written straight into reconciliation_items
(INSERT ... SELECT, or COPY from a replica: no row is held in Python, however many there are).

A batch is one whole-ledger run, or one or more period runs (the days of a backfill), which
share a single pass over the entries by value date.
"""

import uuid
from collections.abc import Callable, Sequence

from psycopg import sql

from ..ledger import currencies
from ..platform import settings
from ..platform.sql_files import render
from . import backfill_plans, checkpoints
from .checks import Scope
from .reading import Reader, insert_items

# The one check that reads the entries themselves (grouped by transaction), so it runs where the
# run reads (a replica, when there is one).
READS_ENTRIES = "transactions_balanced"
# These read the run's tables of totals with the accounts as the run's snapshot has them: a
# replica's accounts are mirrored onto the primary for them.
READS_TOTALS = ("debits_equal_credits", "liability_balances_non_negative", "stored_balances_match_entries")
# Checks of single transactions, one form for every kind of run (sql/checks/transactions).
PER_TRANSACTION = ("fx_conversions_consistent", "vat_matches_rate")


def write(reader: Reader, runs: Sequence[tuple[uuid.UUID, Scope]], previous: str | None,
          plan: uuid.UUID | None = None) -> dict[uuid.UUID, tuple[int, int]]:
    """Writes every check's rows for each run, reading the run_totals table built for the batch;
    returns each run's (accounts checked, transactions checked). ``plan``: the fanned-out
    backfill's plan that holds what moved after the batch's periods (backfill_plans)."""
    checks = runs[0][1].checks
    # The days of the rates and conversion checks are the schedules' days.
    common = {"timezone": settings.timezone(), "reporting_currency": currencies.reporting_currency(),
              "tolerance": settings.fx_rate_tolerance()}
    if not runs[0][1].is_period:
        [(run_id, scope)] = runs
        kind = {name: "audit" if name in scope.audit_checks else "ledger" for name in checks}
        # To the checks of single transactions, the whole ledger is one period.
        whole = {"bounds": ["-infinity", "infinity"], "bucket_runs": [run_id], "range_start": "-infinity",
                 "range_end": "infinity"}
        _write(reader, checks, lambda name: render(_path(kind[name], name), run_id=run_id, **whole, **common))
        if not scope.ledger_checks:  # the audit checks alone: audit_trail_complete covers every row
            return {run_id: reader.run.execute(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions)").fetchone()}
        counted = {"full": scope.from_scratch, "previous": previous or checkpoints.NO_CHECKPOINT}
        accounts = reader.run.execute(render("checks/ledger/accounts_checked", **counted)).fetchone()[0]
        transactions = reader.execute(render("checks/ledger/transactions_checked", **counted)).fetchone()[0]
        return {run_id: (accounts, transactions)}

    bounds = sorted({bound for _, s in runs for bound in (s.period_start, s.period_end)})
    # width_bucket numbers buckets from 1 at the first bound; a gap between periods is a bucket too.
    bucket_of = {run_id: bounds.index(scope.period_start) + 1 for run_id, scope in runs}
    bucket_runs: list[uuid.UUID | None] = [None] * (len(bounds) - 1)
    for run_id, bucket in bucket_of.items():
        bucket_runs[bucket - 1] = run_id
    full_run, full_watermark = checkpoints.last_full_run(reader)
    placed = {"bounds": bounds, "range_start": bounds[0], "range_end": bounds[-1], "bucket_runs": bucket_runs,
              "full_run": full_run, "full_watermark": full_watermark,
              **backfill_plans.tail(reader, plan, bounds[-1]), **common}
    reader.run.execute("CREATE TEMP TABLE run_windows (run_id uuid, bucket int, period_start timestamptz,"
                       " period_end timestamptz) ON COMMIT DROP")
    with reader.run.cursor().copy("COPY run_windows FROM STDIN") as copy:
        for run_id, scope in runs:
            copy.write_row((run_id, bucket_of[run_id], scope.period_start, scope.period_end))
    reader.run.execute("ANALYZE run_windows")
    reader.materialize("run_period_totals", render("checks/periods/period_totals", **placed))
    _write(reader, checks, lambda name: render(_path("periods", name), **placed))
    transactions = dict(reader.execute(render("checks/periods/transactions_checked", **placed)).fetchall())
    return {run_id: (accounts, transactions.get(bucket_of[run_id], 0))
            for run_id, accounts in reader.run.execute(render("checks/periods/accounts_checked", **placed))}


def _path(kind: str, check: str) -> str:
    return f"checks/transactions/{check}" if check in PER_TRANSACTION else f"checks/{kind}/{check}"


def _write(reader: Reader, checks: Sequence[str], query: Callable[[str], sql.Composable]) -> None:
    """Writes each check's rows. The checks that read neither the entries as the run reads them nor
    its totals (currencies, tax, the cache, the audit trail) need temporary tables a hot standby
    cannot hold, so they read the primary in the run's snapshot there, which holds every row a
    replica has replayed and more; they go first, before the mirror shadows the primary's accounts."""
    for name in checks:
        if name != READS_ENTRIES and name not in READS_TOTALS:
            insert_items(reader.run, name, query(name))
    reader.mirror("accounts")
    for name in checks:
        if name == READS_ENTRIES:
            reader.insert_items(name, query(name))
        elif name in READS_TOTALS:
            insert_items(reader.run, name, query(name))
