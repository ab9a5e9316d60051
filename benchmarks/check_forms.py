"""What one SQL form would cost the two checks that keep a part per kind of run.

transactions_balanced finds its unbalanced transactions, and exchange_rates_available its days,
in sql/checks/ledger/ for whole-ledger runs and in sql/checks/periods/ for period runs
(sql/checks/README.md). At each --entries size this builds the suite's ledger
(benchmarks/suite.py) and times, best of --repeat, interleaved, the engine as it is against the
engine with one file of sql/ replaced by the other kind's part, as one form would have it:
- a full run (the ledger checks, as the suite's), transactions_balanced by the period part over
  one period from -infinity to infinity with no full run before it (a full run judges every
  transaction anew);
- after --new-transactions postings and a full run, a --backfill-days backfill as one run,
  transactions_balanced by the whole-ledger part over the backfill's range, and, separately,
  exchange_rates_available with the whole-ledger part's days (the days with entries) over the
  range, bucketed by the periods' bounds.
It prints a markdown section, and with --write replaces that section of BENCHMARKS.md.

Usage: uv run python benchmarks/check_forms.py --entries 1000000,10000000 [--write BENCHMARKS.md]
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

from benchmarks.suite import (
    DAY,
    LEDGER_RUN,
    T0,
    Scratch,
    all_passed,
    build_ledger,
    log,
    passed,
    post_new_deposits,
    run,
    side_by_side,
)
from ledger_pipeline.platform import sql_files
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.reconciliation import reconcile, reconcile_windows

SECTION = "## One SQL form per check"

# The period runs' part as a full run would use it: no full run judged anything before it.
UNBALANCED_BY_PERIOD_PART = (
    sql_files.text("checks/periods/unbalanced_transactions")
    .replace("{full_run}", "NULL").replace("{full_watermark}", "'0'")
)
# The whole-ledger part over a range of periods, each entry's transaction in its period.
UNBALANCED_BY_WHOLE_LEDGER_PART = """
SELECT e.transaction_id, a.currency
FROM entries e
JOIN accounts a ON a.id = e.account_id
WHERE e.created_at >= {range_start} AND e.created_at < {range_end}
GROUP BY e.transaction_id, a.currency
HAVING sum(CASE WHEN e.entry_type = 'debit' THEN e.amount ELSE -e.amount END) <> 0
"""
DAYS_BY_WHOLE_LEDGER_PART = """
SELECT ({bucket_runs}::uuid[])[d.bucket] AS run_id, d.currency, d.day
FROM (SELECT DISTINCT width_bucket(created_at, {bounds}::timestamptz[]) AS bucket, currency,
                      (created_at AT TIME ZONE {timezone})::date AS day
      FROM entries
      WHERE currency <> {reporting_currency} AND created_at >= {range_start} AND created_at < {range_end}) d
WHERE ({bucket_runs}::uuid[])[d.bucket] IS NOT NULL
"""


@contextmanager
def replaced(name: str, text: str) -> Iterator[None]:
    """The engine with sql/<name>.sql read as ``text``."""
    original = sql_files.text
    with mock.patch.object(sql_files, "text", lambda wanted: text if wanted == name else original(wanted)):
        yield


def measure(scratch: Scratch, entries: int, args) -> dict[str, float]:
    url = scratch.create("ledger_bench_forms")
    log(f"{entries:,} entries: building")
    build_ledger(url, entries, wallets=args.wallets)
    db = LedgerDatabase(url)
    windows = [((T0 - (d + 1) * DAY).date().isoformat(), T0 - (d + 1) * DAY, T0 - d * DAY)
               for d in reversed(range(args.backfill_days))]

    def full():
        passed(reconcile(db, LEDGER_RUN))

    def backfill():
        all_passed(reconcile_windows(db, "backfill", windows))

    def with_form(name: str, text: str, run):
        def timed():
            with replaced(name, text):
                run()
        return timed

    try:
        full()  # warm-up, and the checkpoint
        log(f"{entries:,} entries: full runs")
        m = side_by_side(args.repeat, full=full,
                         full_one_form=with_form("checks/ledger/unbalanced_transactions", UNBALANCED_BY_PERIOD_PART, full))
        post_new_deposits(db, args.new_transactions)
        full()  # what the period part of transactions_balanced reads beyond
        backfill()  # warm-up: the first run after the postings reads them beyond the checkpoint
        log(f"{entries:,} entries: backfills")
        m |= side_by_side(
            args.repeat, backfill=backfill,
            backfill_unbalanced=with_form("checks/periods/unbalanced_transactions", UNBALANCED_BY_WHOLE_LEDGER_PART,
                                          backfill),
            backfill_days=with_form("checks/periods/currency_days", DAYS_BY_WHOLE_LEDGER_PART, backfill),
        )
    finally:
        db.close()
    return m


def report(sizes: dict[int, dict[str, float]], args, version: str) -> str:
    head = " | ".join(f"{n:,} entries" for n in sizes)

    def row(label, kept, one_form):
        cells = " | ".join(f"{m[kept]:.2f} s / {m[one_form]:.2f} s = {m[one_form] / m[kept]:.2f}x" for m in sizes.values())
        return f"| {label} | {cells} |"

    return "\n".join([
        SECTION, "",
        f"PostgreSQL {version}; `uv run python benchmarks/check_forms.py {' '.join(sys.argv[1:])}`. Best of "
        f"{args.repeat}, the two sides interleaved, the engine as it is against the engine with one part of a check "
        "taken from the other kind of run; other jobs may share the machine, so compare the figures of a row with "
        "each other.", "",
        f"| as it is / with one form (ratio: one form to as it is) | {head} |",
        f"|---|{'---:|' * len(sizes)}",
        row("full run: `transactions_balanced` by the whole-ledger part / by the period part", "full", "full_one_form"),
        row(f"{args.backfill_days}-day backfill: `transactions_balanced` by the period part / by the whole-ledger part",
            "backfill", "backfill_unbalanced"),
        row(f"{args.backfill_days}-day backfill: `exchange_rates_available`'s days of the periods / the days with "
            "entries", "backfill", "backfill_days"),
        "",
    ])


def main() -> None:
    run(__doc__, measure, report)


if __name__ == "__main__":
    main()
