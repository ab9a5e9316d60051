"""External reconciliation: the ledger against the bank's statements, as one run of type
'external'. The run first matches (statements.matching, committed: matches are evidence whatever
the checks find), then computes its four checks in one snapshot (sql/checks/external/), has Great
Expectations validate them and records the outcome, as the engine does for the ledger's checks."""

import datetime as dt
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Optional

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from ..platform.sql_files import render
from ..statements import matching
from . import recorder
from .checks import EXTERNAL, EXTERNAL_CHECKS, Scope
from .engine import CheckOutcome, RunResult, describe, judge, summary
from .reading import insert_items
from .sight import check_sight


@dataclass
class ExternalResult:
    matching: matching.MatchResult
    run: Optional[RunResult]  # None: a dry run, which records nothing


def bank_accounts(db: LedgerDatabase, account_code: Optional[str]) -> Optional[list[uuid.UUID]]:
    """The bank accounts mirrored by the ledger account ``account_code``; None: every one."""
    if account_code is None:
        return None
    with db.system_context() as conn:
        found = [row[0] for row in conn.execute(
            "SELECT b.id FROM bank_accounts b JOIN accounts a ON a.id = b.account_id WHERE a.code = %s ORDER BY b.id",
            (account_code,))]
    if not found:
        raise LedgerError(f"no bank account is mapped to a ledger account {account_code!r}"
                          " (ledger-pipeline statements map IDENTIFIER ACCOUNT_CODE)")
    return found


def reconcile_external(db: LedgerDatabase, account_code: Optional[str] = None, dry_run: bool = False,
                       rules: Optional[matching.Rules] = None, dagster_run_id: Optional[str] = None,
                       partition_key: Optional[str] = None, through: Optional[dt.date] = None) -> ExternalResult:
    """Matches, then checks. ``through``: the last booking day judged (the lines booked and the
    statements closed by then; None: all). ``dry_run``: what would match, and no run. Once the
    run's row is written a broken run does not raise: it ends 'error', the reason stored."""
    scoped = bank_accounts(db, account_code)
    rules = rules or matching.Rules.configured()
    if dry_run:
        return ExternalResult(matching.match(db, rules, scoped, dry_run=True, through=through), None)
    started = time.monotonic()
    scope = Scope(EXTERNAL)
    checks: dict[uuid.UUID, dict[str, CheckOutcome]] = {}
    matched = matching.MatchResult(recorded=True)
    recorder.sweep_abandoned(db)
    with db.connect(autocommit=True) as guard:
        run_id = recorder.start(guard, scope, dagster_run_id, partition_key)
        try:
            matched = matching.match(db, rules, scoped, through=through)
            with db.system_context(repeatable_read=True) as conn:
                check_sight(conn)
                placed = {"run_id": run_id, "bank_accounts": scoped, "through": through,
                          "timezone": settings.timezone(), "grace_days": settings.match_grace_days()}
                conn.execute(render("checks/external/statements", **placed))
                for name in EXTERNAL_CHECKS:
                    insert_items(conn, name, render(f"checks/external/{name}", **placed))
                counts = conn.execute("SELECT count(DISTINCT account_id), coalesce(sum(line_count), 0)"
                                      " FROM external_statements").fetchone()
                snapshot = conn.execute("SELECT pg_current_snapshot()::text").fetchone()[0]
            rows = judge(db, [(run_id, scope)], checks, {run_id: counts}, snapshot, started,
                         extra={"matching": _matching_summary(matched, rules, account_code),
                                "through": through.isoformat() if through else None})
        except Exception as exc:
            rows = {run_id: recorder.fail(db, run_id, describe(exc), summary(scope, checks.get(run_id, {}), started))}
        except BaseException as exc:  # interrupted: still close the row
            recorder.fail(db, run_id, f"interrupted: {describe(exc)}", summary(scope, checks.get(run_id, {}), started))
            raise
    row = rows[run_id]
    return ExternalResult(matched, RunResult(run_id, row["status"], scope, checks.get(run_id, {}), row,
                                             time.monotonic() - started))


def _matching_summary(matched: matching.MatchResult, rules: matching.Rules, account_code: Optional[str]) -> dict:
    return {"account": account_code, "new_matches": matched.made, "by_rule": matched.counts(),
            "lines_tried": matched.lines_read,
            "rules": {k: str(v) if not isinstance(v, (int, tuple)) else v for k, v in asdict(rules).items()}}
