"""Beyond one machine (issue 11): a 365-day backfill fanned out over one worker and over two,
and the primary's share of a reconciliation's reads with and without a streaming replica.

It starts a private primary with a streaming replica (tests/replication.py, the binaries of
LEDGER_DATABASE_URL's server version, or the embedded wheel's), builds an --entries ledger on the
primary (benchmarks/suite.py's synthetic wallets over the 365 days before 2026-01-01), then
measures side by side in one run:
- the backfill of those 365 days: as one run (one pass), and as fanned_out_backfill_job with
  --chunk-days chunks on Dagster's multiprocess executor with one worker process and with two;
- a full run reading the primary and one reading the replica: the blocks (pg_stat_database
  blks_hit + blks_read) and rows (tup_returned + tup_fetched) each server read meanwhile.
It prints a markdown section, and with --write replaces that section of BENCHMARKS.md.

Usage: uv run python benchmarks/fanout.py --entries 1000000 [--write BENCHMARKS.md]
"""

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ["LEDGER_PARTITIONS_START"] = "2025-01-01"  # the synthetic history's first day

import dagster as dg  # noqa: E402
import psycopg  # noqa: E402

from ledger_pipeline import jobs, settings  # noqa: E402
from ledger_pipeline.db import LedgerDatabase  # noqa: E402
from ledger_pipeline.migrations import Runner  # noqa: E402
from ledger_pipeline.reconciliation import Scope, reconcile, reconcile_windows  # noqa: E402

sys.path.insert(0, str(settings.PROJECT_DIR))
from benchmarks.suite import DAY, T0, build_ledger, log  # noqa: E402
from tests.replication import StreamingPair, binaries_for  # noqa: E402

SECTION = "## Beyond one machine"
READS = ("SELECT blks_hit + blks_read, tup_returned + tup_fetched FROM pg_stat_database"
         " WHERE datname = current_database()")


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def backfill(url: str, instance: dg.DagsterInstance, workers: int, chunk_days: int) -> None:
    first, last = (T0 - 365 * DAY).date().isoformat(), (T0 - DAY).date().isoformat()
    result = dg.execute_job(dg.reconstructable(jobs.fanned_out_backfill), instance=instance, run_config={
        "ops": {"plan_chunks": {"config": {"first_day": first, "last_day": last, "chunk_days": chunk_days}}},
        "resources": {"ledger_db": {"config": {"url": url}}},
        "execution": {"config": {"max_concurrent": workers}},
    })
    if not result.success:
        raise SystemExit(f"the fanned-out backfill over {workers} workers failed")
    with psycopg.connect(url) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM reconciliation_runs WHERE dagster_run_id = %s"
                                " GROUP BY 1", (result.run_id,)).fetchall()
    if statuses != [("passed", 365)]:
        raise SystemExit(f"the fanned-out backfill recorded {statuses}, not 365 passed days")


def one_pass(db: LedgerDatabase) -> None:
    windows = [(str(i), T0 - (365 - i) * DAY, T0 - (364 - i) * DAY) for i in range(365)]
    if {r.status for r in reconcile_windows(db, "backfill", windows)} != {"passed"}:
        raise SystemExit("the one-pass backfill did not pass")


def reads_during(fn, urls: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Blocks and rows each server read while ``fn`` ran; every connection of fn's is closed by
    then, and a backend flushes its statistics as it exits."""
    def counters():
        out = {}
        for name, url in urls.items():
            with psycopg.connect(url) as conn:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                out[name] = conn.execute(READS).fetchone()
        return out

    before = counters()
    fn()
    time.sleep(2)
    after = counters()
    return {name: tuple(a - b for a, b in zip(after[name], before[name])) for name in urls}


def full_run(db: LedgerDatabase) -> None:
    try:
        if reconcile(db, Scope("manual")).status != "passed":
            raise SystemExit("the full run did not pass")
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--chunk-days", type=int, default=92)
    parser.add_argument("--write", type=Path, help="replace this section of the file")
    args = parser.parse_args()

    server = os.environ.get(settings.DATABASE_URL_VAR) or settings.database_url()
    pair = StreamingPair(binaries_for(server))
    try:
        with psycopg.connect(pair.primary_url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ledger_bench")
            version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        primary_url, replica_url = pair.primary_url("ledger_bench"), pair.replica_url("ledger_bench")
        Runner(primary_url).up()
        log(f"building {args.entries:,} entries")
        build_ledger(primary_url, args.entries, wallets=args.wallets)
        pair.wait_replayed(timeout=3600)
        primary = LedgerDatabase(primary_url)
        log("full run (the checkpoint and the transactions it judged)")
        full_run(primary)

        log("backfills")
        with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
            times = {
                "one run, one pass": timed(lambda: one_pass(LedgerDatabase(primary_url))),
                "fanned out, 1 worker": timed(lambda: backfill(primary_url, instance, 1, args.chunk_days)),
                "fanned out, 2 workers": timed(lambda: backfill(primary_url, instance, 2, args.chunk_days)),
            }
        log("reads")
        urls = {"primary": primary_url, "replica": replica_url}
        pair.wait_replayed(timeout=600)
        alone = reads_during(lambda: full_run(LedgerDatabase(primary_url)), urls)
        pair.wait_replayed(timeout=600)
        replicated = reads_during(lambda: full_run(LedgerDatabase(primary_url, replica_url=replica_url)), urls)
    finally:
        pair.stop()

    chunks = -(-365 // args.chunk_days)
    lines = [
        SECTION, "",
        f"`uv run python benchmarks/fanout.py --entries {args.entries} --chunk-days {args.chunk_days}`:"
        f" PostgreSQL {version}, a private primary and streaming replica on loopback (fsync off),"
        f" {args.entries:,} entries, {args.wallets:,} wallets, machine: {os.cpu_count()} CPUs.", "",
        f"A 365-day backfill ({chunks} chunks of {args.chunk_days} days for the fanned-out job, each a step"
        " on Dagster's multiprocess executor):", "",
        "| backfill | seconds |", "|---|---|",
        *(f"| {name} | {value:.1f} |" for name, value in times.items()), "",
        "A full run's reads on each server (pg_stat_database, over the run):", "",
        "| the run reads | primary blocks | replica blocks | primary rows | replica rows | primary's share of blocks |",
        "|---|---|---|---|---|---|",
    ]
    for label, reads in (("the primary", alone), ("the replica", replicated)):
        (pb, pr), (rb, rr) = reads["primary"], reads["replica"]
        lines.append(f"| {label} | {pb:,} | {rb:,} | {pr:,} | {rr:,} | {pb / max(pb + rb, 1):.0%} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        text = args.write.read_text()
        pattern = re.compile(rf"^{SECTION}.*?(?=^## |\Z)", re.S | re.M)
        args.write.write_text(pattern.sub(lambda _: section + "\n", text, count=1) if pattern.search(text)
                              else text.rstrip() + "\n\n" + section)


if __name__ == "__main__":
    main()
