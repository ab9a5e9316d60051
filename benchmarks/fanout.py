"""Beyond one machine (issue 11): a 365-day backfill fanned out over one worker and over two,
and the primary's share of a reconciliation's reads with and without a streaming replica.

It starts a private primary with a streaming replica (tests/replication.py, the binaries of
LEDGER_DATABASE_URL's server version, or the embedded wheel's), builds an --entries ledger on the
primary (benchmarks/suite.py's synthetic wallets over the 365 days before 2026-01-01), then
measures side by side in one run:
- the backfill of those 365 days, its time and the blocks the primary read: as one run (one
  pass); for each --chunk-days, as chunks run one after the other in this process, each reading
  what moved after it, and then after the plan (backfill_plans); and as fanned_out_backfill_job
  (the first --chunk-days) on Dagster's multiprocess executor: two workers with each step a
  spawned interpreter, then one worker and two with steps forked from a server that has imported
  the code (the job's default);
- a full run, and a run of the ledger checks alone, each reading the primary and then the
  replica: the blocks (pg_stat_database blks_hit + blks_read) and rows (tup_returned +
  tup_fetched) each server read meanwhile.
It prints a markdown section, and with --write replaces that section of BENCHMARKS.md.

Usage: uv run python benchmarks/fanout.py --entries 10000000 --chunk-days 31,7 [--write BENCHMARKS.md]
"""

import argparse
import os
import sys
import tempfile
import time
from contextlib import closing, contextmanager
from pathlib import Path

os.environ["LEDGER_PARTITIONS_START"] = "2025-01-01"  # the synthetic history's first day

import dagster as dg  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from ledger_pipeline.defs.reconciliation import backfill_job
from ledger_pipeline.platform import settings  # noqa: E402
from ledger_pipeline.platform.db import LedgerDatabase, database_url  # noqa: E402
from ledger_pipeline.platform.migrations import Runner  # noqa: E402
from ledger_pipeline.reconciliation import Scope, backfill_plans, reconcile, reconcile_windows  # noqa: E402
from ledger_pipeline.reconciliation.checks import LEDGER_CHECKS  # noqa: E402

sys.path.insert(0, str(settings.PROJECT_DIR))
from benchmarks.suite import DAY, T0, build_ledger, log, write_section  # noqa: E402
from tests.replication import StreamingPair, binaries_for  # noqa: E402

SECTION = "## Beyond one machine"
READS = ("SELECT blks_hit + blks_read, tup_returned + tup_fetched FROM pg_stat_database"
         " WHERE datname = current_database()")




def backfill(url: str, instance: dg.DagsterInstance, workers: int, chunk_days: int, forkserver: bool) -> None:
    first, last = (T0 - 365 * DAY).date().isoformat(), (T0 - DAY).date().isoformat()
    result = dg.execute_job(dg.reconstructable(backfill_job.fanned_out_backfill), instance=instance, run_config={
        "ops": {"plan_chunks": {"config": {"first_day": first, "last_day": last, "chunk_days": chunk_days}}},
        "resources": {"ledger_db": {"config": {"url": url}}},
        "execution": {"config": {"max_concurrent": workers, "forkserver": forkserver}},
    })
    if not result.success:
        raise SystemExit(f"the fanned-out backfill over {workers} workers failed")
    with psycopg.connect(url) as conn:
        statuses = conn.execute("SELECT status, count(*) FROM reconciliation_runs WHERE dagster_run_id = %s"
                                " GROUP BY 1", (result.run_id,)).fetchall()
    if statuses != [("passed", 365)]:
        raise SystemExit(f"the fanned-out backfill recorded {statuses}, not 365 passed days")


def chunk_count(days: int) -> int:
    return -(-365 // days)


def windows() -> list[tuple]:
    return [(str(i), T0 - (365 - i) * DAY, T0 - (364 - i) * DAY) for i in range(365)]


def one_pass(url: str) -> None:
    with closing(LedgerDatabase(url)) as db:
        if {r.status for r in reconcile_windows(db, "backfill", windows())} != {"passed"}:
            raise SystemExit("the one-pass backfill did not pass")


def chunks_in_turn(url: str, chunk_days: int, planned: bool) -> None:
    """The fanned-out job's chunks run one after the other in this process, without Dagster's
    steps around them: what the chunks read, with the plan or each reading its own tail."""
    days = windows()
    chunks = [days[i:i + chunk_days] for i in range(0, len(days), chunk_days)]
    with closing(LedgerDatabase(url)) as db:
        plan = backfill_plans.make(db, [chunk[-1][2] for chunk in chunks]) if planned else None
        for chunk in chunks:
            if {r.status for r in reconcile_windows(db, "backfill", chunk, plan=plan)} != {"passed"}:
                raise SystemExit("a chunk did not pass")
        if plan:
            backfill_plans.drop(db, plan)


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


def measured(fn, url: str) -> tuple[float, int]:
    """Seconds ``fn`` took, and the blocks the server at ``url`` read meanwhile."""
    spent = []

    def timed():
        started = time.perf_counter()
        fn()
        spent.append(time.perf_counter() - started)

    blocks = reads_during(timed, {"server": url})["server"][0]
    return spent[0], blocks


def full_run(db: LedgerDatabase, checks: tuple[str, ...] | None = None) -> None:
    try:
        if reconcile(db, Scope("manual", checks=checks)).status != "passed":
            raise SystemExit("the full run did not pass")
    finally:
        db.close()


@contextmanager
def replicated_ledger(entries: int, database: str, wallets: int = 100_000):
    """A private primary with a streaming replica (tests/replication.py, the binaries of
    LEDGER_DATABASE_URL's server version, or the embedded wheel's) and a ledger of ``entries`` built
    in ``database`` on the primary and replayed; yields (pair, primary URL, replica URL, server
    version) and stops the pair after."""
    pair = StreamingPair(binaries_for(os.environ.get(settings.DATABASE_URL_VAR) or database_url()))
    try:
        with psycopg.connect(pair.primary_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
        primary_url = pair.primary_url(database)
        Runner(primary_url).up()
        log(f"building {entries:,} entries")
        build_ledger(primary_url, entries, wallets=wallets)
        pair.wait_replayed(timeout=3600)
        yield pair, primary_url, pair.replica_url(database), version
    finally:
        pair.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--chunk-days", default="31,7",
                        help="days per chunk, comma-separated: the first for the fanned-out job, each for the"
                             " chunks run in turn")
    parser.add_argument("--write", type=Path, help="replace this section of the file")
    args = parser.parse_args()
    chunkings = [int(days) for days in args.chunk_days.split(",")]

    with replicated_ledger(args.entries, "ledger_bench", args.wallets) as (pair, primary_url, replica_url, version):
        primary = LedgerDatabase(primary_url)
        log("full run (the checkpoint and the transactions it judged)")
        full_run(primary)

        log("backfills")
        with tempfile.TemporaryDirectory() as home, dg.instance_for_test(temp_dir=home) as instance:
            backfills = {"one run, one pass": measured(lambda: one_pass(primary_url), primary_url)}
            for days in chunkings:
                for planned, how in ((False, "each reading what moved after it"), (True, "after the plan")):
                    backfills[f"{chunk_count(days)} chunks of {days} days in turn, {how}"] = measured(
                        lambda: chunks_in_turn(primary_url, days, planned), primary_url)
            for workers, forkserver in ((2, False), (1, True), (2, True)):
                backfills[f"fanned out: {chunk_count(chunkings[0])} chunks of {chunkings[0]} days,"
                          f" {workers} worker{'s' if workers > 1 else ''},"
                          f" steps {'forked' if forkserver else 'spawned'}"] = measured(
                    lambda: backfill(primary_url, instance, workers, chunkings[0], forkserver), primary_url)
        log("reads")
        urls = {"primary": primary_url, "replica": replica_url}
        reads = {}
        for label, checks in (("a full run", None), ("the ledger checks alone", LEDGER_CHECKS)):
            for replica in (None, replica_url):
                pair.wait_replayed(timeout=600)
                reads[label, replica is not None] = reads_during(
                    lambda: full_run(LedgerDatabase(primary_url, replica_url=replica), checks), urls)

    lines = [
        SECTION, "",
        f"`uv run python benchmarks/fanout.py --entries {args.entries} --chunk-days {args.chunk_days}`:"
        f" PostgreSQL {version}, a private primary and streaming replica on loopback (fsync off),"
        f" {args.entries:,} entries, {args.wallets:,} wallets, machine: {os.cpu_count()} CPUs.", "",
        "A 365-day backfill, and the blocks the primary read meanwhile (pg_stat_database). The chunks in"
        " turn run one after the other in one process, without Dagster; the fanned-out job runs the plan,"
        " each chunk and the plan's removal as steps on Dagster's multiprocess executor:", "",
        "| backfill | seconds | primary blocks read |", "|---|---|---|",
        *(f"| {name} | {seconds:.1f} | {blocks:,} |" for name, (seconds, blocks) in backfills.items()), "",
        "A whole-ledger run's reads on each server (pg_stat_database, over the run):", "",
        "| run | reads | primary blocks | replica blocks | primary rows | replica rows | primary's share of blocks |",
        "|---|---|---|---|---|---|---|",
    ]
    for (label, on_replica), counted in reads.items():
        (pb, pr), (rb, rr) = counted["primary"], counted["replica"]
        lines.append(f"| {label} | {'the replica' if on_replica else 'the primary'} | {pb:,} | {rb:,} | {pr:,}"
                     f" | {rr:,} | {pb / max(pb + rb, 1):.0%} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if args.write:
        write_section(args.write, section)


if __name__ == "__main__":
    main()
