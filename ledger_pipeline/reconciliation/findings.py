"""A batch's findings, computed in one snapshot and written straight into reconciliation_items
(INSERT ... SELECT, or COPY from a replica: no row is held in Python, however many there are).

A batch is one whole-ledger run, or one or more period runs (the days of a backfill), which
share a single pass over the entries by value date.
"""

import uuid
from collections.abc import Callable, Collection, Sequence

from psycopg import sql

from ..audit import verification
from ..ledger import currencies
from ..platform import settings
from ..platform.sql_files import render
from . import backfill_plans, checkpoints
from .checks import AUDIT_CHECKS, Scope
from .reading import Reader, insert_items

# A whole-ledger run's bounds: its one period.
WHOLE_LEDGER = ("-infinity", "infinity")
# Each check is sql/checks/<check>.sql, one form for every kind of run (audit/ for the audit
# checks). These two take a part that a whole-ledger run and a period run find in different ways,
# from sql/checks/ledger/ or periods/: the placeholder and the file.
PARTS = {"transactions_balanced": ("unbalanced", "unbalanced_transactions"),
         "exchange_rates_available": ("days", "currency_days")}
# The one check that reads the entries themselves (grouped by transaction), so it runs where the
# run reads (a replica, when there is one).
READS_ENTRIES = "transactions_balanced"
# The audit checks that read the log and the ledger; the triggers' check reads the catalog of the
# session that writes.
REPLICA_AUDIT_CHECKS = ("audit_log_intact", "audit_trail_complete", "audit_verification_fresh")
REHASH = "audit_log_intact"
# These read the run's totals with the accounts as the run's snapshot has them: a replica's
# accounts are mirrored onto the primary for them.
READS_TOTALS = ("debits_equal_credits", "liability_balances_non_negative", "stored_balances_match_entries",
                "amounts_within_currency_precision")


def write(reader: Reader, runs: Sequence[tuple[uuid.UUID, Scope]], previous: str | None,
          plan: uuid.UUID | None = None, skipped: Collection[str] = (),
          audit: verification.Plan | None = None) -> dict[uuid.UUID, tuple[int, int]]:
    """Writes every check's rows for each run, reading the run_totals table built for the batch;
    returns each run's (accounts checked, transactions checked). ``plan``: the fanned-out
    backfill's plan that holds what moved after the batch's periods (backfill_plans). ``skipped``:
    checks not to make (opt_in). ``audit``: what the audit checks verify (audit.verification.plan)."""
    scope = runs[0][1]
    windows, placed = _periods(reader, runs, plan) if scope.is_period else _whole_ledger(runs)
    reader.run.execute("CREATE TEMP TABLE run_windows (run_id uuid, bucket int, period_start timestamptz,"
                       " period_end timestamptz) ON COMMIT DROP")
    with reader.run.cursor().copy("COPY run_windows FROM STDIN") as copy:
        for window in windows:
            copy.write_row(window)
    reader.run.execute("ANALYZE run_windows")
    if scope.is_period:
        reader.materialize("run_period_totals", render("checks/periods/period_totals", **placed))
    kind = "periods" if scope.is_period else "ledger"
    made = [name for name in scope.checks if name not in skipped]
    _write(reader, scope, made, lambda name: _query(kind, name, placed, audit), audit)

    if scope.is_period:
        bucket_of = {run_id: bucket for run_id, bucket, _, _ in windows}
        transactions = dict(reader.execute(render("checks/periods/transactions_checked", **placed)).fetchall())
        return {run_id: (accounts, transactions.get(bucket_of[run_id], 0))
                for run_id, accounts in reader.run.execute(render("checks/periods/accounts_checked", **placed))}
    [(run_id, _)] = runs
    if not scope.ledger_checks:  # the audit checks alone: audit_trail_complete covers every row
        return {run_id: reader.run.execute(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transactions)").fetchone()}
    counted = {"full": scope.from_scratch, "previous": previous or checkpoints.NO_CHECKPOINT}
    accounts = reader.run.execute(render("checks/ledger/accounts_checked", **counted)).fetchone()[0]
    transactions = reader.execute(render("checks/ledger/transactions_checked", **counted)).fetchone()[0]
    return {run_id: (accounts, transactions)}


def _periods(reader: Reader, runs: Sequence[tuple[uuid.UUID, Scope]], plan: uuid.UUID | None) -> tuple[list, dict]:
    """The batch's windows (run, bucket, start, end) and the checks' placeholders."""
    bounds = sorted({bound for _, s in runs for bound in (s.period_start, s.period_end)})
    # width_bucket numbers buckets from 1 at the first bound; a gap between periods is a bucket too.
    windows = [(run_id, bounds.index(s.period_start) + 1, s.period_start, s.period_end) for run_id, s in runs]
    full_run, full_watermark = checkpoints.last_full_run(reader)
    return windows, _placed(bounds, windows, full_run=full_run, full_watermark=full_watermark,
                            **backfill_plans.tail(reader, plan, bounds[-1]))


def _whole_ledger(runs: Sequence[tuple[uuid.UUID, Scope]]) -> tuple[list, dict]:
    """A whole-ledger run is one period, from -infinity to infinity: one bucket."""
    [(run_id, _)] = runs
    windows = [(run_id, 1, *WHOLE_LEDGER)]
    return windows, _placed(WHOLE_LEDGER, windows, run_id=run_id)


def _placed(bounds: Sequence, windows: list, **values) -> dict:
    bucket_runs: list[uuid.UUID | None] = [None] * (len(bounds) - 1)
    for run_id, bucket, _, _ in windows:
        bucket_runs[bucket - 1] = run_id
    # The days of the rates and conversion checks are the schedules' days.
    return {"bounds": list(bounds), "range_start": bounds[0], "range_end": bounds[-1], "bucket_runs": bucket_runs,
            "timezone": settings.timezone(), "reporting_currency": currencies.reporting_currency(),
            "tolerance": settings.fx_rate_tolerance(), **values}


def _query(kind: str, check: str, placed: dict, audit: verification.Plan | None) -> sql.Composable:
    if check in AUDIT_CHECKS:
        return audit.query(check, placed["run_id"])
    path = f"checks/{check}"
    if check in PARTS:
        placeholder, part = PARTS[check]
        return render(path, **{placeholder: render(f"checks/{kind}/{part}", **placed)}, **placed)
    return render(path, **placed)


def _write(reader: Reader, scope: Scope, checks: Sequence[str], query: Callable[[str], sql.Composable],
           audit: verification.Plan | None) -> None:
    """Writes each check's rows. The checks that read neither the entries as the run reads them nor
    its totals (currencies, tax, the cache, the audit trail) need temporary tables a hot standby
    cannot hold, so they read the primary in the run's snapshot there, which holds every row a
    replica has replayed and more; they go first, before the mirror shadows the primary's accounts.
    The nightly audit checks need none, so they read where the run reads."""
    for name in checks:
        if name in REPLICA_AUDIT_CHECKS and not audit.reads_temporary:
            reader.insert_items(name, query(name))
        elif name == REHASH:
            # INSERT ... SELECT never runs with parallel workers; CREATE TABLE AS can, and the full
            # re-hash is the one query that reads the whole log.
            with verification.costed_as_hashing(reader.run):
                reader.run.execute(sql.SQL("CREATE TEMP TABLE audit_rehashed ON COMMIT DROP AS {}").format(query(name)))
            insert_items(reader.run, name, sql.SQL("SELECT * FROM audit_rehashed"))
        elif name != READS_ENTRIES and name not in READS_TOTALS:
            insert_items(reader.run, name, query(name))
    reader.mirror("accounts")
    if not scope.is_period and scope.ledger_checks:
        # A view, made after the mirror so that it reads the accounts the run's totals belong to;
        # it goes with run_totals, which it depends on, when the run's transaction ends.
        reader.run.execute(sql.SQL("CREATE TEMP VIEW run_period_totals AS {}").format(
            render("checks/ledger/period_totals")))
    for name in checks:
        if name == READS_ENTRIES:
            reader.insert_items(name, query(name))
        elif name in READS_TOTALS:
            insert_items(reader.run, name, query(name))
