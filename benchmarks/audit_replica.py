"""The primary's share of a nightly full run's reads with a streaming replica (issue 18).

It starts a private primary with a streaming replica (tests/replication.py, the binaries of
LEDGER_DATABASE_URL's server version, or the embedded wheel's), builds an --entries ledger on the
primary (benchmarks/suite.py's builder, with its audit rows) and seals it, and runs one nightly
full run (ledger and audit checks) reading the replica, so that the next ones are nights. Then, in
turn: a night (--new deposits posted and sealed, the replica caught up) and a full run reading the
primary alone; another night and a full run with LEDGER_REPLICA_URL, reading the replica. For each,
the blocks (pg_stat_database blks_hit + blks_read) and rows (tup_returned + tup_fetched) each
server read meanwhile (benchmarks/fanout.py's reads_during). What the primary still reads with a
replica is the run's own bookkeeping (its runs, items, checkpoint and verification rows) and what
plan() reads there (the last verification, the seals up to its head, the archived months).

    uv run python benchmarks/audit_replica.py --entries 1000000
"""

import argparse
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.fanout import reads_during, replicated_ledger  # noqa: E402
from benchmarks.suite import log, passed, post_new_deposits  # noqa: E402
from ledger_pipeline.platform.db import LedgerDatabase  # noqa: E402
from ledger_pipeline.reconciliation import Scope, reconcile  # noqa: E402
from tests.replication import StreamingPair  # noqa: E402


def full_run(primary_url: str, replica_url: str | None) -> None:
    db = LedgerDatabase(primary_url, replica_url=replica_url, replica_max_lag_seconds=600)
    try:
        passed(reconcile(db, Scope("manual"), anchors=[]))
    finally:
        db.close()


def night(pair: StreamingPair, primary_url: str, new: int) -> None:
    db = LedgerDatabase(primary_url)
    try:
        post_new_deposits(db, new)
    finally:
        db.close()
    with psycopg.connect(primary_url, autocommit=True) as conn:
        conn.execute("SELECT audit_seal()")
    pair.wait_replayed(timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=2000, help="deposits posted and sealed before each measured run")
    args = parser.parse_args()

    with replicated_ledger(args.entries, "ledger_audit") as (pair, primary_url, replica_url, version):
        with psycopg.connect(primary_url, autocommit=True) as conn:
            conn.execute("SELECT audit_seal()")
        pair.wait_replayed(timeout=3600)
        log("the first nightly run (every seal is new to it)")
        full_run(primary_url, replica_url)
        urls = {"primary": primary_url, "replica": replica_url}
        reads = {}
        for on_replica in (False, True):
            night(pair, primary_url, args.new)
            reads[on_replica] = reads_during(lambda r=on_replica: full_run(primary_url, replica_url if r else None),
                                             urls)
        with psycopg.connect(primary_url) as conn:
            for row in conn.execute("SELECT kind, new_seals, slice, slices, blocks, audit_rows, ledger_rows"
                                    " FROM audit_verifications ORDER BY id"):
                print("verified:", *row)
    print(f"PostgreSQL {version}, {args.entries:,} entries, a night of {args.new:,} deposits before each run")
    print("| a nightly full run reading | primary blocks | replica blocks | primary rows | replica rows"
          " | primary's share of blocks |")
    print("|---|---:|---:|---:|---:|---:|")
    for on_replica, counted in reads.items():
        (pb, pr), (rb, rr) = counted["primary"], counted["replica"]
        print(f"| {'the replica' if on_replica else 'the primary'} | {pb:,} | {rb:,} | {pr:,} | {rr:,}"
              f" | {pb / max(pb + rb, 1):.0%} |")
    (alone, _), (with_replica, _) = reads[False]["primary"], reads[True]["primary"]
    print(f"the primary's blocks with the replica / without: {with_replica / max(alone, 1):.0%}")


if __name__ == "__main__":
    main()
