"""The `ledger-pipeline` command."""

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from dataclasses import asdict
from pathlib import Path

import psycopg

from .audit import anchors, lifecycle, seals, verification
from .ledger import fx
from .ledger.balance_cache import BalanceCache
from .ledger.demo import ledger_is_empty, write_demo_data
from .ledger.faults import FAULTS, inject
from .platform import settings
from .platform.db import LedgerDatabase
from .platform.errors import LedgerError
from .platform.migrations import Runner
from .platform.progress import Progress
from .platform.settings import MATCHING_RULES_VAR
from .reconciliation import RUN_TYPES, Scope, reconcile
from .reconciliation.checks import AUDIT_CHECKS, EXTERNAL, describe_period
from .reconciliation.external import reconcile_external
from .reconciliation.recorder import INTERRUPTED, history, run_with_items, sweep_abandoned
from .statements.commands import add_statement_commands
from .statements.demo_statements import write_demo_statements
from .statements.matching import Rules

# Exit codes of `reconcile`; every command exits 2 on bad input or a broken run.
PASSED, FAILED, ERROR = 0, 1, 2
EXIT_CODES = {"passed": PASSED, "failed": FAILED, "error": ERROR}


def whole_number(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {value}")
        return value

    return parse


def timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a timestamp: {text!r} (use ISO 8601, e.g. 2026-11-25 or 2026-11-25T00:00:00Z)"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def month(text: str) -> dt.date:
    try:
        return lifecycle.parse_month(text)
    except LedgerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a run id (a UUID): {text!r}") from None


def to_json(value) -> str:
    def plain(v):
        return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else str(v)  # Decimal stays exact

    return json.dumps(value, default=plain, indent=2)


# --- migrate, demo-data, start -----------------------------------------------------------------

def cmd_migrate(args, db: LedgerDatabase) -> int:
    runner = Runner(db.database_url())
    if args.action == "up":
        applied = runner.up()
        print(f"applied: {', '.join(applied)}" if applied else "nothing to apply: the schema is up to date")
    elif args.action == "down":
        rolled_back = runner.down(args.version)
        print(f"rolled back: {', '.join(rolled_back)}")
    else:
        print_status(runner)
    return 0


def print_status(runner: Runner) -> None:
    rows = runner.status()
    print(f"{'version':<8} {'name':<24} {'state':<22} applied at")
    for row in rows:
        at = row["applied_at"].isoformat(timespec="seconds") if row["applied_at"] else ""
        print(f"{row['version']:<8} {row['name']:<24} {row['state']:<22} {at}")


def cmd_demo_data(args, db: LedgerDatabase) -> int:
    with Progress("demo-data", args.transactions, "transactions") as progress:
        demo = write_demo_data(db, args.transactions, users=args.users, days=args.days, seed=args.seed,
                               progress=progress.advance)
    print(f"wrote {demo.transactions} transactions for {len(demo.users)} users on {len(demo.accounts)} accounts")
    for fault in args.fault or []:
        injected = inject(db, demo, fault, BalanceCache.from_settings())
        details = "; ".join(f"{k.replace('_', ' ')} {_text(v)}" for k, v in injected.items() if k != "fault")
        print(f"injected {fault}: {details}")
    return 0


def cmd_setup(args, db: LedgerDatabase) -> int:
    runner = Runner(db.database_url())
    applied = runner.up()
    print(f"database: {settings.redact(db.database_url())}")
    print(f"migrations applied now: {', '.join(applied) or 'none'}")
    if ledger_is_empty(db):
        demo = write_demo_data(db, args.transactions)
        print(f"the ledger was empty: wrote {demo.transactions} demo transactions")
        try:
            statements = write_demo_statements(db, demo)
        except LedgerError as exc:
            print(f"no demo bank statements: {exc}")
        else:
            print(f"demo bank statements for the inbox sensor to import: {', '.join(map(str, statements.files))}")
    print_status(runner)
    return 0


def cmd_start(args, db: LedgerDatabase) -> int:
    from .platform.dev import run_dagster

    cmd_setup(args, db)
    db.close()

    def close_interrupted_runs():
        closed = sweep_abandoned(db, INTERRUPTED)
        if closed:
            print(f"{closed} reconciliation(s) left running by the stopped pipeline marked 'error'", flush=True)

    def first_runs():
        if args.first_runs:
            from .first_start import launch_first_runs

            launch_first_runs(args.host, args.port, say=lambda line: print(line, flush=True))

    return run_dagster(db.database_url(), args.host, args.port, after_start=first_runs,
                       after_stop=close_interrupted_runs)


def cmd_dagster(args, db: LedgerDatabase) -> int:
    from .platform.dev import dagster_command

    return dagster_command(db.database_url(), args.dagster_args)


def cmd_rates_load(args, db: LedgerDatabase) -> int:
    loaded = fx.load_rates(db, args.file)
    print(f"loaded {loaded} exchange rates from {args.file}")
    return 0


# --- reconcile ---------------------------------------------------------------------------------

def cmd_reconcile(args, db: LedgerDatabase) -> int:
    if args.type == "hourly":
        if args.period_start or args.period_end:
            raise LedgerError("the hourly quick check covers the whole ledger; it takes no period")
        scope = Scope.quick()
    else:
        scope = Scope(args.type, args.period_start, args.period_end)
    result = reconcile(db, scope, cache=BalanceCache.from_settings(),
                       anchors=all_anchors(db) if scope.audit_checks else None)
    show_run(db, result.run_id, args.json)
    return EXIT_CODES[result.status]


def cmd_statements_reconcile(args, db: LedgerDatabase) -> int:
    result = reconcile_external(db, args.account, args.dry_run, Rules.from_toml(args.rules) if args.rules else None)
    if result.run is None:
        proposed = [asdict(m) for m in result.matching.matches]
        if args.json:
            print(to_json({"dry_run": True, "matches": proposed}))
        else:
            print(f"dry run: {len(proposed)} matches would be made (nothing recorded)")
            for m in result.matching.matches:
                print(f"  {m.rule:<11} {m.strategy:<11} lines {' '.join(map(str, m.line_ids))}"
                      f" <-> entries {' '.join(map(str, m.entry_ids))} (amount difference {m.amount_difference},"
                      f" {m.days_difference} days)")
        return 0
    if not args.json:
        print(f"matching: {result.matching.made} new matches"
              + "".join(f", {n} by {rule}" for rule, n in result.matching.counts().items())
              + f" ({result.matching.lines_read} unmatched lines tried)")
    show_run(db, result.run.run_id, args.json)
    return EXIT_CODES[result.run.status]


def cmd_history(args, db: LedgerDatabase) -> int:
    runs = history(db, args.limit)
    if args.json:
        print(to_json(runs))
        return 0
    print(f"{'run id':<36}  {'type':<10} {'status':<7} {'started at':<25} {'mismatches':>10}  scope")
    for run in runs:
        print(f"{str(run['id']):<36}  {run['run_type']:<10} {run['status']:<7} "
              f"{run['started_at'].isoformat(timespec='seconds'):<25} {_text(run['mismatch_count']):>10}  {_scope(run)}")
    if not runs:
        print("(no reconciliation runs yet)")
    return 0


def cmd_show(args, db: LedgerDatabase) -> int:
    show_run(db, args.run_id, args.json)
    return 0


def show_run(db: LedgerDatabase, run_id: uuid.UUID, as_json: bool) -> None:
    run = run_with_items(db, run_id)
    if run is None:
        raise LedgerError(f"no reconciliation run with id {run_id}")
    run["checks"] = (run["summary"] or {}).get("checks", {})
    if as_json:
        print(to_json(run))
    else:
        print_run(run)


def print_run(run: dict) -> None:
    print(f"reconciliation {run['id']}  type {run['run_type']}  {run['status'].upper()}  ({_scope(run)})")
    if run["error"]:
        print(f"error: {run['error']}")
    if run["run_type"] == EXTERNAL:  # what it counts: mirrored accounts and statement lines
        print(f"accounts {_text(run['accounts_checked'])}  statement lines {_text(run['transactions_checked'])}")
    else:
        print(f"debits {_text(run['total_debits'])}  credits {_text(run['total_credits'])}  "
              f"accounts {_text(run['accounts_checked'])}  transactions {_text(run['transactions_checked'])}")
    if run["checks"]:
        print()
        print(f"  {'check':<34} {'result':<8} {'mismatches':>10}")
        for name, check in run["checks"].items():
            result = ("error" if check.get("error") else "skipped" if check.get("skipped")
                      else "passed" if check["passed"] else "FAILED")
            print(f"  {name:<34} {result:<8} {_text(check.get('unexpected_count')):>10}")
    if run["items"]:
        print()
        print("mismatches:")
        for item in run["items"]:
            if "subject" in item["details"]:  # the audit checks say in words what is wrong
                problems = "; ".join(item["details"].get("problems") or [])
                print(f"  {item['check_name']:<32} {item['details']['subject']}" + (f": {problems}" if problems else ""))
                continue
            subject = _subject(item)
            print(f"  {item['check_name']:<32} {subject}  {item['currency'] or ''}  expected {item['expected']}"
                  f"  actual {item['actual']}  difference {item['difference']}")


def _subject(item: dict) -> str:
    """What an item is about: an account, a transaction, a currency's day, or the ledger's total; an
    external check's item, its fault and the statement, line, entry or match."""
    if "aspect" in item["details"]:
        details = item["details"]
        about = next((f"{key} {details[key]}" for key in ("statement", "line_id", "entry_id", "match_id")
                      if details.get(key)), "")
        return f"{details['aspect']} {about}".strip()
    if "unexplained" in item["details"]:
        return f"statement {item['details']['statement']}"
    if item["account_id"]:
        return f"account {item['details'].get('account_code') or item['account_id']}"
    if item["transaction_id"]:
        return f"transaction {item['transaction_id']}"
    if "day" in item["details"]:
        return f"{item['currency']} on {item['details']['day']}"
    return f"ledger total in {item['currency']}" if item["currency"] else "ledger total"


# --- audit --------------------------------------------------------------------------------------

def dagster_instance(db: LedgerDatabase):
    """The Dagster instance that keeps the anchors, when DAGSTER_HOME names one (the same instance
    `start` runs, with its DAGSTER_PG_URL defaulting the same way)."""
    if not os.environ.get("DAGSTER_HOME"):
        return None
    from .platform.dev import dagster_env

    os.environ.update(dagster_env(db.database_url()))
    import dagster as dg

    return dg.DagsterInstance.get()


def all_anchors(db: LedgerDatabase) -> list[anchors.Anchor]:
    """The anchor file's, and those in the Dagster instance DAGSTER_HOME names, if it names one."""
    from .defs.audit import dagster_anchors  # imports Dagster, which the other commands do without

    return dagster_anchors.read(dagster_instance(db))


def cmd_audit_seal(args, db: LedgerDatabase) -> int:
    new = seals.seal(db)
    if new is None:
        print("nothing to seal: no audit row became final since the last seal")
        return 0
    anchors.append_to_file([new])
    instance = dagster_instance(db)
    if instance is not None:
        from .defs.audit import dagster_anchors

        dagster_anchors.report(instance, [new], new)
    print(f"seal {new.seal_no}: {new.row_count} audit rows (txid {new.from_txid} to {new.to_txid}), hash {new.hash}")
    places = [str(p) for p in [settings.audit_anchor_file()] if p] + (["Dagster"] if instance is not None else [])
    print(f"anchored in: {', '.join(places)}" if places else
          f"not anchored outside the database: set {settings.AUDIT_ANCHOR_FILE_VAR} or DAGSTER_HOME")
    return 0


def cmd_audit_verify(args, db: LedgerDatabase) -> int:
    found = all_anchors(db)
    result = reconcile(db, Scope("manual", checks=AUDIT_CHECKS), anchors=found, audit_full=args.full)
    show_run(db, result.run_id, args.json)
    if not args.json:
        sources = sorted({a.source for a in found})
        print(f"\nanchors compared: {len(found)} ({', '.join(sources) or 'none: the chain is checked only against itself'})")
        with db.system_context() as conn:
            done = verification.recorded(conn, result.run_id)
        if done:
            how = "every sealed block" if done["kind"] == "full" else (
                f"{done['new_seals']} new seals in full, slice {done['slice'] + 1} of {done['slices']} of the older blocks")
            print(f"re-hashed: {how}: {done['blocks']} blocks, {done['audit_rows']} audit rows;"
                  f" ledger rows compared with their trail: {done['ledger_rows']}")
    return EXIT_CODES[result.status]


def cmd_audit_archive(args, db: LedgerDatabase) -> int:
    retention = settings.audit_retention_months()
    months = lifecycle.archivable(db, args.before, retention)
    if not months:
        print(f"nothing to archive before {args.before:%Y-%m} and older than {retention} months")
    for each in months:
        manifest = lifecycle.archive(db, each, settings.audit_archive_dir())
        print(f"archived {manifest.month}: {manifest.rows} rows to {settings.audit_archive_dir() / manifest.file}"
              f" (sha256 {manifest.sha256}), verified against the chain, partition dropped")
    return 0


def cmd_audit_restore(args, db: LedgerDatabase) -> int:
    manifest = lifecycle.restore(db, args.month, settings.audit_archive_dir())
    print(f"restored {manifest.month}: {manifest.rows} rows, the chain verifies over them")
    return 0


def _scope(run: dict) -> str:
    if run["run_type"] == EXTERNAL:
        through = (run["summary"] or {}).get("through")
        return "bank statements" + (f" through {through}" if through else "")
    return describe_period(run["period_start"], run["period_end"])


def _text(value) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "-" if value is None else str(value)


# --- the parser ----------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ledger-pipeline", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    start = commands.add_parser(
        "start", help="set up, then run the Dagster webserver and daemon on localhost until Ctrl-C"
    )
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=whole_number(1), default=3000)
    start.add_argument("--no-first-runs", dest="first_runs", action="store_false",
                       help="on a first start, do not launch the schema, a full reconciliation and an hourly check")
    setup = commands.add_parser("setup", help="migrate, load demo data into an empty ledger, show status")
    for command in (start, setup):
        command.add_argument("--transactions", type=whole_number(1), default=2000,
                             help="demo transactions to write into an empty ledger")
    start.set_defaults(run=cmd_start)
    setup.set_defaults(run=cmd_setup)

    dagster = commands.add_parser(
        "dagster", help="run a dagster command against this pipeline's instance, e.g. schedule start NAME -w workspace.yaml"
    )
    dagster.add_argument("dagster_args", nargs=argparse.REMAINDER)
    dagster.set_defaults(run=cmd_dagster)

    migrate = commands.add_parser("migrate", help="apply, roll back or list schema migrations")
    actions = migrate.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="apply every pending migration")
    down = actions.add_parser("down", help="roll back VERSION and everything newer")
    down.add_argument("version")
    actions.add_parser("status", help="list migrations and their state")
    migrate.set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo-data", help="write a plausible demo ledger through the posting path")
    demo.add_argument("--transactions", type=whole_number(0), default=1000)
    demo.add_argument("--users", type=whole_number(2), default=6)
    demo.add_argument("--days", type=whole_number(1), default=7, help="spread value dates over this many days")
    demo.add_argument("--seed", type=int, help="write the same ledger again (default: a new one each time)")
    demo.add_argument("--fault", action="append", choices=FAULTS,
                      help="inject this fault after writing (repeatable), to watch the checks fire")
    demo.set_defaults(run=cmd_demo_data)

    rates = commands.add_parser("rates", help="exchange rates")
    rate_actions = rates.add_subparsers(dest="action", required=True)
    load = rate_actions.add_parser(
        "load", help="load a CSV (base,quote,rate,as_of,source) in one transaction: every row or, on a bad row, none")
    load.add_argument("file", type=Path)
    load.set_defaults(run=cmd_rates_load)

    recon = commands.add_parser(
        "reconcile", help="run a reconciliation (exit 0 passed, 1 failed, 2 error), or list and show past runs"
    )
    recon.add_argument("--type", choices=RUN_TYPES,
                           default="manual", help="hourly is the quick check: debits equal credits")
    recon.add_argument("--period-start", type=timestamp, help="check only this window (needs --period-end)")
    recon.add_argument("--period-end", type=timestamp)
    recon.add_argument("--json", action="store_true", help="print JSON for machines")
    recon.set_defaults(run=cmd_reconcile)
    views = recon.add_subparsers(dest="view")
    past = views.add_parser("history", help="past runs, newest first")
    past.add_argument("--limit", type=whole_number(1), default=30)
    past.add_argument("--json", action="store_true")
    past.set_defaults(run=cmd_history)
    show = views.add_parser("show", help="one run with its mismatches")
    show.add_argument("run_id", type=run_id)
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=cmd_show)

    audit = commands.add_parser("audit", help="the audit trail: seal it, verify it, archive and restore months")
    audit_actions = audit.add_subparsers(dest="action", required=True)
    audit_actions.add_parser("seal", help="seal the audit rows written since the last seal, and anchor the seal"
                             ).set_defaults(run=cmd_audit_seal)
    verify = audit_actions.add_parser(
        "verify", help="run the audit checks (seals and anchors, trail, triggers); exit 1 when anything is wrong")
    verify.add_argument("--json", action="store_true", help="print JSON for machines")
    verify.add_argument("--full", action="store_true",
                        help="re-hash every audit row and read every archived month back, instead of the nightly"
                             " verification (new seals, a rotating slice, every seal and anchor)")
    verify.set_defaults(run=cmd_audit_verify)
    archive = audit_actions.add_parser(
        "archive", help="archive sealed months before YYYY-MM (and older than the retention) to Parquet, then drop them")
    archive.add_argument("--before", type=month, required=True)
    archive.set_defaults(run=cmd_audit_archive)
    restore = audit_actions.add_parser("restore", help="bring an archived month back into audit_log")
    restore.add_argument("month", type=month)
    restore.set_defaults(run=cmd_audit_restore)
    statement_actions = add_statement_commands(commands)
    external = statement_actions.add_parser(
        "reconcile", help="match statement lines with ledger entries, then check the ledger against the statements"
                          " (exit 0 passed, 1 failed, 2 error)")
    external.add_argument("--account", metavar="CODE", help="only the bank accounts this ledger account mirrors")
    external.add_argument("--rules", type=Path, help=f"a TOML file of matching rules (default: ${MATCHING_RULES_VAR},"
                                                     " else the README's defaults)")
    external.add_argument("--dry-run", action="store_true", help="show what would match; record nothing")
    external.add_argument("--json", action="store_true", help="print JSON for machines")
    external.set_defaults(run=cmd_statements_reconcile)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    db = LedgerDatabase()
    try:
        return args.run(args, db)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    except (psycopg.errors.UndefinedFunction, psycopg.errors.UndefinedTable) as exc:
        print(f"error: the ledger database is not migrated (run `ledger-pipeline migrate up`): "
              f"{str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return ERROR
    except psycopg.Error as exc:
        print(f"error: database: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return ERROR
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
