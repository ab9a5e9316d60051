"""One reconciliation, or a batch of period runs (the days of a backfill) done in one pass: check
that the batch sees every row, compute every check's findings in one snapshot (on the primary, or
on a streaming replica recent enough to judge by), have Great Expectations validate them, record
the outcome."""

import datetime as dt
import time
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from typing import Optional

import psycopg

from ..audit import anchors as audit_anchors
from ..audit import verification
from ..ledger.balance_cache import BalanceCache, CachedBalance
from ..platform import replica, settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from . import checkpoints, findings, opt_in, recorder
from .checks import CACHE_CHECK, Scope
from .reading import Reader
from .sight import check_sight


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    unexpected_count: Optional[int]  # rows in violation (None when the check errored)
    sample: list[dict] = field(default_factory=list)  # the largest violations, amounts exact
    error: Optional[str] = None
    skipped: Optional[str] = None  # why the check had nothing to look at (no cache configured)


@dataclass
class RunResult:
    run_id: uuid.UUID
    status: str  # 'passed', 'failed' or 'error'
    scope: Scope
    checks: dict[str, CheckOutcome]
    row: dict  # the completed reconciliation_runs row
    duration_seconds: float

    @property
    def error(self) -> Optional[str]:
        return self.row.get("error")


def reconcile(
    db: LedgerDatabase,
    scope: Scope,
    dagster_run_id: Optional[str] = None,
    partition_key: Optional[str] = None,
    cache: Optional[BalanceCache] = None,
    anchors: Optional[Sequence[audit_anchors.Anchor]] = None,
    audit_full: bool = False,
) -> RunResult:
    """Runs one reconciliation. Once its row is written, a broken run does not raise: it ends
    'error', the reason stored. (If the row cannot even be written, that error is raised.)
    ``cache``: the hot-balance cache cached_balances_match_ledger compares with the ledger; without
    one that check is recorded as skipped. ``anchors``: the seal hashes kept outside the database
    that audit_log_intact compares the chain with; None: the anchor file's (callers with a Dagster
    instance pass its anchors too). ``audit_full``: the audit checks re-hash the whole log and
    read the archived months back (`audit verify --full`) instead of the nightly verification."""
    return _reconcile(db, [(scope, partition_key)], dagster_run_id, cache, anchors, audit_full=audit_full)[0]


def reconcile_windows(
    db: LedgerDatabase,
    run_type: str,
    windows: Sequence[tuple[str, dt.datetime, dt.datetime]],
    dagster_run_id: Optional[str] = None,
    plan: Optional[uuid.UUID] = None,
) -> list[RunResult]:
    """Reconciles many periods, each (partition key, start, end), in one pass over their entries,
    recording one run per period with the items a run of that period alone would record.
    ``plan``: a fanned-out backfill's plan, which holds what moved after these periods
    (backfill_plans); without it, or if the run cannot use it, the entries after them are read."""
    if not windows:
        raise LedgerError("no periods to reconcile")
    ordered = sorted(windows, key=lambda w: w[1])
    for (key, _, end), (next_key, start, _) in zip(ordered, ordered[1:]):
        if start < end:
            raise LedgerError(f"periods {key} and {next_key} overlap")
    return _reconcile(db, [(Scope(run_type, start, end), key) for key, start, end in ordered], dagster_run_id,
                      plan=plan)


def _reconcile(db: LedgerDatabase, batch: list[tuple[Scope, Optional[str]]],
               dagster_run_id: Optional[str], cache: Optional[BalanceCache] = None,
               anchors: Optional[Sequence] = None, plan: Optional[uuid.UUID] = None,
               audit_full: bool = False) -> list[RunResult]:
    started = time.monotonic()
    scopes = [scope for scope, _ in batch]
    checks: dict[uuid.UUID, dict[str, CheckOutcome]] = {}
    source = db.replica()
    # Taken before this run writes anything, so its own rows are not what the replica lags behind.
    primary_lsn = replica.primary_position(db) if source else None
    recorder.sweep_abandoned(db)
    # The guard connection holds each run's advisory lock for as long as the batch lives.
    with db.connect(autocommit=True) as guard:
        run_ids = [recorder.start(guard, scope, dagster_run_id, key) for scope, key in batch]
        runs = list(zip(run_ids, scopes))
        try:
            skipped = opt_in.skipped(scopes[0].checks, cache_configured=cache is not None)
            # Read before the run's snapshot is taken, so the ledger it compares with is newer.
            cached = list(cache.entries()) if cache is not None and scopes[0].checks_cache else []
            if source:
                position = replica.replay(source, primary_lsn, db.max_replica_lag())
                recorder.note_replay(db, run_ids, position)
                replica.check_lag(position, db.max_replica_lag())
            with db.system_context(repeatable_read=True) as conn, \
                    (source.system_context(repeatable_read=True) if source else nullcontext()) as on_replica:
                reader = Reader(conn, on_replica)
                # Some checks read the primary even when a replica serves the rest: both must see every row.
                check_sight(conn)
                if on_replica:
                    check_sight(on_replica)
                if cache is not None and scopes[0].checks_cache:
                    write_cached(conn, cached)
                # A run of the audit checks alone reads no entry totals and leaves the checkpoint be.
                horizon = checkpoints.read_totals(reader, scopes[0].from_scratch) if scopes[0].ledger_checks else None
                snapshot = horizon.snapshot if horizon else conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
                audit = verification.plan(
                    conn, reader, audit_anchors.from_file() if anchors is None else list(anchors),
                    settings.audit_archive_dir(), audit_full, settings.audit_verify_days(),
                ) if scopes[0].audit_checks else None
                counts = findings.write(reader, runs, horizon.previous if horizon else None, plan, skipped, audit)
                if audit:
                    verification.record(conn, audit, run_ids[0])
                if cache is not None and scopes[0].checks_cache:
                    withdraw_settled(conn, cache, run_ids[0])
                if horizon:
                    checkpoints.save(conn, horizon, run_ids[0])
            rows = judge(db, runs, checks, counts, snapshot, started, skipped)
        except Exception as exc:
            rows = {run_id: recorder.fail(db, run_id, describe(exc), summary(scope, checks.get(run_id, {}), started))
                    for run_id, scope in runs}
        except BaseException as exc:  # interrupted (Ctrl-C, Dagster terminating the run): still close the rows
            for run_id, scope in runs:
                recorder.fail(db, run_id, f"interrupted: {describe(exc)}", summary(scope, checks.get(run_id, {}), started))
            raise
    duration = time.monotonic() - started
    return [RunResult(run_id, rows[run_id]["status"], scope, checks.get(run_id, {}), rows[run_id], duration)
            for run_id, scope in runs]


def judge(db: LedgerDatabase, runs: list[tuple[uuid.UUID, Scope]], checks: dict[uuid.UUID, dict[str, CheckOutcome]],
          counts: dict[uuid.UUID, tuple[int, int]], snapshot: str, started: float,
          skipped: Optional[dict[str, str]] = None, extra: Optional[dict] = None) -> dict[uuid.UUID, dict]:
    """Has Great Expectations validate the runs' recorded items, fills ``checks`` with each run's
    outcomes, and completes the runs (``extra``: more for their summaries); raises if a check
    could not run. Returns the completed rows."""
    from . import expectations  # Great Expectations is slow to import; only runs pay for it.

    run_ids = [run_id for run_id, _ in runs]
    validated = expectations.validate(db.database_url(), runs[0][1].checks, run_ids)
    found = recorder.outcomes(db, run_ids)
    for name, validation in validated.items():
        recorded = sum(found[run_id, name][0] for run_id in run_ids)
        if validation.error is None and validation.unexpected_count != recorded:
            validation.error = (f"Great Expectations counted {validation.unexpected_count} mismatches,"
                                f" the recorded items {recorded}")
    for run_id, scope in runs:
        checks[run_id] = {name: _outcome(name, validated[name], *found[run_id, name]) for name in scope.checks}
        for name, reason in (skipped or {}).items():
            checks[run_id][name].skipped = reason
    broken = [f"{c.name}: {c.error}" for c in checks[run_ids[0]].values() if c.error]
    if broken:
        raise LedgerError("check could not run: " + "; ".join(broken))
    return recorder.complete(db, {
        run_id: (_status(checks[run_id]), {**summary(scope, checks[run_id], started), **(extra or {})}, counts[run_id])
        for run_id, scope in runs
    }, snapshot)


def _outcome(name: str, validation, mismatches: int, sample: list[dict]) -> CheckOutcome:
    if validation.error:
        return CheckOutcome(name, False, None, error=validation.error)
    return CheckOutcome(name, mismatches == 0, mismatches, sample)


def _status(outcomes: dict[str, CheckOutcome]) -> str:
    return "passed" if all(c.passed for c in outcomes.values()) else "failed"


def write_cached(conn: psycopg.Connection, cached: list[CachedBalance]) -> None:
    """The cache's entries as the temporary table cached_balances the cache check joins."""
    conn.execute("CREATE TEMP TABLE cached_balances (key text, account_id uuid, balance numeric, version bigint)"
                 " ON COMMIT DROP")
    with conn.cursor().copy("COPY cached_balances FROM STDIN") as copy:
        for entry in cached:
            copy.write_row((entry.key, entry.account_id, entry.balance, entry.version))


def withdraw_settled(conn: psycopg.Connection, cache: BalanceCache, run_id: uuid.UUID) -> None:
    """Withdraws the cache check's items whose key no longer holds what the scan read: the
    invalidation of a posting that had committed but not yet invalidated when the cache was read
    has landed since, so that key was on its way out, not stale. (Items are few: one per stale key.)"""
    items = conn.execute(
        "SELECT id, details ->> 'key', details ->> 'cached_version', details ->> 'cached_balance'"
        " FROM reconciliation_items WHERE run_id = %s AND check_name = %s", (run_id, CACHE_CHECK),
    ).fetchall()
    now = cache.read([key for _, key, _, _ in items])
    def text(value):
        return None if value is None else str(value)

    settled = [item_id for item_id, key, version, balance in items
               if key not in now or (text(now[key].version), text(now[key].balance)) != (version, balance)]
    if settled:
        conn.execute("DELETE FROM reconciliation_items WHERE id = ANY(%s)", (settled,))


def summary(scope: Scope, checks: dict[str, CheckOutcome], started: float) -> dict:
    return {
        "scope": scope.describe(),
        "checks": {name: {k: v for k, v in asdict(c).items() if k != "name" and (k != "skipped" or v)}
                   for name, c in checks.items()},
        "duration_seconds": round(time.monotonic() - started, 3),
    }


def describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
