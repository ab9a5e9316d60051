"""The `ledger-pipeline` command."""

import argparse
import sys

import psycopg

from . import settings
from .db import LedgerDatabase
from .errors import LedgerError
from .ledger import ledger_is_empty, write_demo_data
from .migrations import Runner


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number above zero, got {value}")
    return value


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
    demo = write_demo_data(db, args.transactions, users=args.users, days=args.days, seed=args.seed)
    print(f"wrote {demo.transactions} transactions for {len(demo.users)} users on {len(demo.accounts)} accounts")
    return 0


def cmd_start(args, db: LedgerDatabase) -> int:
    runner = Runner(db.database_url())
    applied = runner.up()
    print(f"database: {settings.redact(db.database_url())}")
    print(f"migrations applied now: {', '.join(applied) or 'none'}")
    if ledger_is_empty(db):
        demo = write_demo_data(db, args.transactions)
        print(f"the ledger was empty: wrote {demo.transactions} demo transactions")
    print_status(runner)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ledger-pipeline", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    start = commands.add_parser("start", help="migrate, load demo data into an empty ledger, show status")
    start.add_argument("--transactions", type=positive_int, default=2000)
    start.set_defaults(run=cmd_start)

    migrate = commands.add_parser("migrate", help="apply, roll back or list schema migrations")
    actions = migrate.add_subparsers(dest="action", required=True)
    actions.add_parser("up", help="apply every pending migration")
    down = actions.add_parser("down", help="roll back VERSION and everything newer")
    down.add_argument("version")
    actions.add_parser("status", help="list migrations and their state")
    migrate.set_defaults(run=cmd_migrate)

    demo = commands.add_parser("demo-data", help="write a plausible demo ledger through the posting path")
    demo.add_argument("--transactions", type=positive_int, default=1000)
    demo.add_argument("--users", type=positive_int, default=6)
    demo.add_argument("--days", type=positive_int, default=7, help="spread value dates over this many days")
    demo.add_argument("--seed", type=int, help="write the same ledger again (default: a new one each time)")
    demo.set_defaults(run=cmd_demo_data)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    db = LedgerDatabase()
    try:
        return args.run(args, db)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except psycopg.Error as exc:
        print(f"error: database: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    finally:
        db.close()


if __name__ == "__main__":
    sys.exit(main())
