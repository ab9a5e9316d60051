"""What issue 10's checks and reports add to a reconciliation, side by side in one run.

At each --entries size it builds the suite's synthetic ledger (benchmarks/suite.py: USD and EUR
wallets, an EUR/USD rate per day) and measures, best of --repeat, interleaved: a full run with the
four original checks against a full run with every check (the new ones: currency precision,
conversions, rates available, VAT; the cache check is skipped, no cache configured); the checkpoint
pass's grouping of every entry with and without the finest scale it now keeps; and, after
--new-transactions postings, the day run [T0, T0 + 1 day) both ways. Once: the trial balance and
the tax report of that day. It prints a markdown section, and with --write replaces that section
of BENCHMARKS.md.

Usage: uv run python benchmarks/currency_checks.py --entries 1000000 [--write BENCHMARKS.md]
"""

import sys
import tempfile
from pathlib import Path

import psycopg

from benchmarks.suite import (
    DAY,
    T0,
    Scratch,
    build_ledger,
    log,
    passed,
    post_new_deposits,
    run,
    seconds,
    side_by_side,
)
from ledger_pipeline.ledger import tax, trial_balance
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.reconciliation import Scope, reconcile

SECTION = "## Currency, tax and cache checks"
ORIGINAL = ("debits_equal_credits", "liability_balances_non_negative", "transactions_balanced",
            "stored_balances_match_entries")
PASS = ("SELECT account_id, currency, sum(amount) FILTER (WHERE entry_type = 'debit'),"
        " sum(amount) FILTER (WHERE entry_type = 'credit'), count(*){extra} FROM entries GROUP BY 1, 2")


def measure_empty(scratch: Scratch, args) -> dict[str, float]:
    """The fixed part: each check costs a Great Expectations validation, whatever the ledger."""
    db = LedgerDatabase(scratch.create("ledger_bench_currency_empty"))
    try:
        passed(reconcile(db, Scope("manual")))  # warm-up
        return side_by_side(
            args.repeat,
            empty_original=lambda: passed(reconcile(db, Scope("manual", checks=ORIGINAL))),
            empty_all=lambda: passed(reconcile(db, Scope("manual"))),
        )
    finally:
        db.close()


def measure(scratch: Scratch, entries: int, args) -> dict[str, float]:
    url = scratch.create("ledger_bench_currency")
    log(f"{entries:,} entries: building")
    build_ledger(url, entries, wallets=args.wallets)
    db = LedgerDatabase(url)
    try:
        passed(reconcile(db, Scope("manual")))  # warm-up
        m = side_by_side(
            args.repeat,
            full_original=lambda: passed(reconcile(db, Scope("manual", checks=ORIGINAL))),
            full_all=lambda: passed(reconcile(db, Scope("manual"))),
        )
        with psycopg.connect(url) as conn:
            m |= side_by_side(
                args.repeat,
                pass_without=lambda: conn.execute(PASS.format(extra="")).fetchall(),
                pass_with=lambda: conn.execute(PASS.format(extra=", max(min_scale(amount))")).fetchall(),
            )
        post_new_deposits(db, args.new_transactions)
        m |= side_by_side(
            args.repeat,
            day_original=lambda: passed(reconcile(db, Scope("daily", T0, T0 + DAY, checks=ORIGINAL))),
            day_all=lambda: passed(reconcile(db, Scope("daily", T0, T0 + DAY))),
        )
        m["trial_balance"] = seconds(lambda: trial_balance.write(db, T0.date(), T0, T0 + DAY))
        with tempfile.TemporaryDirectory() as directory:
            m["tax_report"] = seconds(lambda: tax.write_report(db, T0.date(), T0, T0 + DAY, Path(directory)))
    finally:
        db.close()
    return m


def report(sizes: dict[int, dict[str, float]], empty: dict[str, float], args, version: str) -> str:
    head = " | ".join(f"{n:,} entries" for n in sizes)
    def row(label, cell):
        return f"| {label} | {' | '.join(cell(m) for m in sizes.values())} |"
    ratio = lambda a, b: lambda m: f"{m[a]:.2f} s / {m[b]:.2f} s = {m[a] / m[b]:.2f}x"  # noqa: E731
    return "\n".join([
        SECTION, "",
        f"PostgreSQL {version}; `uv run python benchmarks/currency_checks.py {' '.join(sys.argv[1:])}`. "
        f"Best of {args.repeat}, the two sides interleaved; other jobs shared the 2-core machine, so compare the "
        "figures of a row with each other.", "",
        f"| measurement | {head} |",
        f"|---|{'---:|' * len(sizes)}",
        row("full run: every check / the four original ones", ratio("full_all", "full_original")),
        row("the full run's pass over entries: with / without each account's finest scale", ratio("pass_with", "pass_without")),
        row(f"day run after {args.new_transactions:,} postings: every check / the four original ones",
            ratio("day_all", "day_original")),
        row("reporting_trial_balance of that day (one run)", lambda m: f"{m['trial_balance']:.2f} s"),
        row("tax_report of that day, table and files (one run)", lambda m: f"{m['tax_report']:.2f} s"),
        "",
        f"On an empty ledger (the fixed part, mostly one Great Expectations validation per check), a full run with "
        f"every check takes {empty['empty_all']:.2f} s, with the four original ones {empty['empty_original']:.2f} s.",
        "",
    ])


def main() -> None:
    run(__doc__, measure, report, once=measure_empty, entries="1000000")


if __name__ == "__main__":
    main()
