"""One reconciliation run: check that the run sees every row, validate each check with Great
Expectations, record the outcome."""

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Optional

import psycopg

from ..db import LedgerDatabase
from ..errors import LedgerError
from . import recorder
from .checks import Scope, render


class SightError(LedgerError):
    """The run could not be sure it sees every row, so it refuses to judge the ledger."""


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    unexpected_count: Optional[int]  # rows GX found in violation (None when the check errored)
    sample: list[dict] = field(default_factory=list)  # the first violating rows, amounts exact
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
    from . import expectations  # Great Expectations is slow to import; only runs pay for it.

    started = time.monotonic()
    recorder.sweep_abandoned(db)
    checks: dict[str, CheckOutcome] = {}
    # The guard connection holds the run's advisory lock for as long as the run lives.
    with db.connect(autocommit=True) as guard:
        run_id = recorder.start(guard, scope, dagster_run_id, partition_key)
        try:
            with db.system_context() as conn:
                check_sight(conn)
                queries = {name: render(name, scope, conn) for name in scope.checks}
                counts = conn.execute(render("scope_counts", scope, conn)).fetchone()
            for name, found in expectations.validate(db.database_url(), queries, str(run_id)).items():
                checks[name] = CheckOutcome(name, found.success, found.unexpected_count, found.sample, found.error)
            broken = [f"{c.name}: {c.error}" for c in checks.values() if c.error]
            if broken:
                raise LedgerError("check could not run: " + "; ".join(broken))
            # Items for every currency's totals (few rows, always useful) and for each failed check.
            item_queries = {n: q for n, q in queries.items() if n == "debits_equal_credits" or not checks[n].passed}
            status = "passed" if all(c.passed for c in checks.values()) else "failed"
            row = recorder.complete(db, run_id, status, item_queries, counts, summary(scope, checks, started))
        except Exception as exc:
            row = recorder.fail(db, run_id, describe(exc), summary(scope, checks, started))
        except BaseException as exc:  # interrupted (Ctrl-C, Dagster terminating the run): still close the row
            recorder.fail(db, run_id, f"interrupted: {describe(exc)}", summary(scope, checks, started))
            raise
    return RunResult(run_id, row["status"], scope, checks, row, time.monotonic() - started)


def check_sight(conn: psycopg.Connection) -> None:
    problems = []
    for table, reading_as, system_policy, restrictive in conn.execute(render("sight", None, conn)):
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
