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

from .. import replica
from ..db import LedgerDatabase
from ..errors import LedgerError
from . import checkpoints, findings, recorder
from .checks import Scope, render
from .reading import Reader


class SightError(LedgerError):
    """The run could not be sure it sees every row, so it refuses to judge the ledger."""


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    unexpected_count: Optional[int]  # rows in violation (None when the check errored)
    sample: list[dict] = field(default_factory=list)  # the largest violations, amounts exact
    error: Optional[str] = None


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
) -> RunResult:
    """Runs one reconciliation. Once its row is written, a broken run does not raise: it ends
    'error', the reason stored. (If the row cannot even be written, that error is raised.)"""
    return _reconcile(db, [(scope, partition_key)], dagster_run_id)[0]


def reconcile_windows(
    db: LedgerDatabase,
    run_type: str,
    windows: Sequence[tuple[str, dt.datetime, dt.datetime]],
    dagster_run_id: Optional[str] = None,
) -> list[RunResult]:
    """Reconciles many periods, each (partition key, start, end), in one pass over their entries,
    recording one run per period with the items a run of that period alone would record."""
    if not windows:
        raise LedgerError("no periods to reconcile")
    ordered = sorted(windows, key=lambda w: w[1])
    for (key, _, end), (next_key, start, _) in zip(ordered, ordered[1:]):
        if start < end:
            raise LedgerError(f"periods {key} and {next_key} overlap")
    return _reconcile(db, [(Scope(run_type, start, end), key) for key, start, end in ordered], dagster_run_id)


def _reconcile(db: LedgerDatabase, batch: list[tuple[Scope, Optional[str]]],
               dagster_run_id: Optional[str]) -> list[RunResult]:
    from . import expectations  # Great Expectations is slow to import; only runs pay for it.

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
            if source:
                position = replica.replay(source, primary_lsn, db.max_replica_lag())
                recorder.note_replay(db, run_ids, position)
                replica.check_lag(position, db.max_replica_lag())
            with db.system_context(repeatable_read=True) as conn, \
                    (source.system_context(repeatable_read=True) if source else nullcontext()) as on_replica:
                reader = Reader(conn, on_replica)
                check_sight(reader)
                horizon = checkpoints.read_totals(reader, scopes[0].from_scratch)
                counts = findings.write(reader, runs, horizon.previous)
                checkpoints.save(conn, horizon, run_ids[0])
            validated = expectations.validate(db.database_url(), scopes[0].checks, run_ids)
            found = recorder.outcomes(db, run_ids)
            for name, validation in validated.items():
                recorded = sum(found[run_id, name][0] for run_id in run_ids)
                if validation.error is None and validation.unexpected_count != recorded:
                    validation.error = (f"Great Expectations counted {validation.unexpected_count} mismatches,"
                                        f" the recorded items {recorded}")
            for run_id, scope in runs:
                checks[run_id] = {name: _outcome(name, validated[name], *found[run_id, name])
                                  for name in scope.checks}
            broken = [f"{c.name}: {c.error}" for c in checks[run_ids[0]].values() if c.error]
            if broken:
                raise LedgerError("check could not run: " + "; ".join(broken))
            rows = recorder.complete(db, {
                run_id: (_status(checks[run_id]), summary(scope, checks[run_id], started), counts[run_id])
                for run_id, scope in runs
            }, horizon.snapshot)
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


def _outcome(name: str, validation, mismatches: int, sample: list[dict]) -> CheckOutcome:
    if validation.error:
        return CheckOutcome(name, False, None, error=validation.error)
    return CheckOutcome(name, mismatches == 0, mismatches, sample)


def _status(outcomes: dict[str, CheckOutcome]) -> str:
    return "passed" if all(c.passed for c in outcomes.values()) else "failed"


def check_sight(reader: Reader) -> None:
    problems = []
    for table, reading_as, system_policy, restrictive in reader.execute(render("checks/sight")):
        if reading_as != "ledger_system":
            problems.append(f"reading as {reading_as}, not ledger_system")
        if not system_policy:
            problems.append(f"{table} has no ledger_system policy that shows every row")
        if restrictive:
            problems.append(f"{table} has {restrictive} restrictive policies that may hide rows")
    if problems:
        raise SightError("reconciliation cannot see every row: " + "; ".join(sorted(set(problems))))


def summary(scope: Scope, checks: dict[str, CheckOutcome], started: float) -> dict:
    return {
        "scope": scope.describe(),
        "checks": {name: {k: v for k, v in asdict(c).items() if k != "name"} for name, c in checks.items()},
        "duration_seconds": round(time.monotonic() - started, 3),
    }


def describe(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__
