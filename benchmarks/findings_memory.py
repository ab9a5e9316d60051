"""Peak memory of a full run under mass findings (issue 19), side by side in one run.

At each --entries size it builds the suite's synthetic ledger (benchmarks/suite.py) with its audit
rows, seals the log, makes one full run (the verification the next ones start from), and measures
the peak RSS (a fresh process, ru_maxrss) of a full run (`reconcile(LedgerDatabase(url),
Scope("manual"))`: the ledger checks and the audit checks) three ways: on the clean ledger; on a
copy of it with --findings ledger rows written without their audit rows (suite.plant_unaudited:
findings of audit_trail_complete alone); and on the ledger itself with --findings unbalanced
transactions (suite.plant_faults, which also writes them with the triggers off, so the audit
trail check finds their rows too). It prints a markdown section with each ratio to the clean run,
and with --write replaces that section of BENCHMARKS.md.

Usage: uv run python benchmarks/findings_memory.py --entries 1000000 [--findings 100000] [--write BENCHMARKS.md]
It uses LEDGER_DATABASE_URL's server, or the embedded one, and drops its scratch databases after.
"""

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable

from benchmarks.suite import Scratch, build_ledger, log, passed, peak_memory_mb, plant_faults, plant_unaudited, run
from ledger_pipeline.audit import seals
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.reconciliation import Scope, reconcile

SECTION = "## Memory under mass findings (issue 19)"
DATABASE = "ledger_findings_memory"  # not ledger_bench*: the suite's runs own those names
TARGET = 1.2


def options(parser) -> None:
    parser.add_argument("--findings", type=int, default=100_000,
                        help="unbalanced transactions, and rows without audit rows (a multiple of 5)")


def measure(scratch: Scratch, entries: int, args) -> dict[str, float]:
    count = args.findings
    url = scratch.create(DATABASE)
    log(f"{entries:,} entries: building")
    build_ledger(url, entries, wallets=args.wallets)
    db = LedgerDatabase(url)
    try:
        seals.seal(db)
        passed(reconcile(db, Scope("manual")))  # the verification the measured runs start from
    finally:
        db.close()
    log(f"{entries:,} entries: peak memory, clean")
    m = {"clean": peak_memory_mb(url)}
    log(f"{entries:,} entries: peak memory, {count:,} rows without their audit rows")
    unaudited = scratch.copy(f"{DATABASE}_unaudited", DATABASE)
    plant_unaudited(unaudited, count)
    m["unaudited"] = peak_memory_mb(unaudited, count)
    scratch.drop(f"{DATABASE}_unaudited")
    log(f"{entries:,} entries: peak memory, {count:,} unbalanced transactions")
    plant_faults(url, unbalanced=count)
    m["unbalanced"] = peak_memory_mb(url, count)
    return m


def report(sizes: dict[int, dict[str, float]], args, version: str) -> str:
    count = args.findings
    revision = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())

    def row(label: str, cell: Callable[[dict], str], target: str = "") -> str:
        return f"| {label} | {' | '.join(cell(m) for m in sizes.values())} | {target} |"

    def ratio(key: str) -> Callable[[dict], str]:
        return lambda m: f"{m[key]:.0f} MB ({m[key] / m['clean']:.2f}x)"

    head = " | ".join(f"{n:,} entries" for n in sizes)
    return "\n".join([
        SECTION,
        "",
        f"PostgreSQL {version}, {os.cpu_count()} cores, {memory:.0f} GiB; "
        f"`uv run python benchmarks/findings_memory.py {' '.join(sys.argv[1:])}`, "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, revision {revision or '?'}, "
        f"load average at the end {load}. Peak RSS of a full run (the ledger and the audit checks) in a "
        "fresh process (ru_maxrss), one run each, on the same ledger.",
        "",
        f"| full run | {head} | target |",
        f"|---|{'---:|' * len(sizes)}---|",
        row("clean", lambda m: f"{m['clean']:.0f} MB"),
        row(f"{count:,} ledger rows without their audit rows (audit_trail_complete)", ratio("unaudited"),
            f"≤ {TARGET}x"),
        row(f"{count:,} unbalanced transactions (transactions_balanced; written with the triggers off, so "
            f"audit_trail_complete finds their {3 * count:,} rows too)", ratio("unbalanced"), f"≤ {TARGET}x"),
        "",
    ])


def main() -> None:
    run(__doc__, measure, report, entries="1000000", more=options)


if __name__ == "__main__":
    main()
