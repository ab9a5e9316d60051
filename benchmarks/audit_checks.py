"""The audit checks and sealing before and after a change to their SQL, side by side on one ledger.

Builds a ledger with benchmarks/suite.py's builder (with its audit rows), copies the database, and
puts in the copy the audit_row_digest and audit_seal of migration 009 as they stood at --before (a
git revision); the checks' SQL is read from the same revision. Each side is then sealed once (its
own digests), and timed, interleaved, best of --repeat: sealing the whole log (audit_seal() in a
transaction rolled back), audit_log_intact and audit_trail_complete over the whole log. A full
run's ledger checks, a full run with the nightly audit verification and a full run with
`audit verify --full`'s re-hash (this tree's code) are timed beside them. The nightly run is timed
first once, right after the first seal (it reads everything), then in its steady state: after a
previous nightly run with nothing new; after one with --new deposits posted and sealed (a night);
and the same with a slice too small to matter (LEDGER_AUDIT_VERIFY_DAYS = SLICELESS), its audit part
apart from the slice. Last, after one more night's deposits, the nightly checks' plans (EXPLAIN
ANALYZE) are printed. --nightly-only (for sizes where the rest takes too long) times the ledger
checks and the nightly runs alone. The full re-hash is also timed with max_parallel_workers_per_gather = 0: the
same query, serial.

    uv run python benchmarks/audit_checks.py --entries 1000000 --before 0c998e2
"""

import argparse
import os
import re
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.suite import (  # noqa: E402
    LEDGER_RUN,
    Scratch,
    build_ledger,
    log,
    passed,
    post_new_deposits,
    seconds,
    side_by_side,
)
from ledger_pipeline.audit import verification  # noqa: E402
from ledger_pipeline.platform import settings  # noqa: E402
from ledger_pipeline.platform.db import LedgerDatabase, database_url  # noqa: E402
from ledger_pipeline.reconciliation import Scope, reconcile  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ("audit_log_intact", "audit_trail_complete")
SLICELESS = "100000"  # nights per cycle: the rotating slice is at most a block or two
SERIAL = "-c max_parallel_workers_per_gather=0"


def at(revision: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def functions_of_009(revision: str) -> str:
    """audit_row_digest and audit_seal as migration 009 defined them at ``revision``."""
    text = at(revision, "sql/migrations/009_audit_seals.up.sql")
    bodies = [re.search(rf"CREATE FUNCTION {name}\(.*?\n\$\$;\n", text, re.S).group(0)
              for name in ("audit_row_digest", "audit_seal")]
    return "\n".join(b.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1) for b in bodies)


def run_check(url: str, query: Callable[[psycopg.Connection], sql.Composable], costed: bool = False) -> int:
    """``costed``: planned as the full verification plans its re-hash (this tree's code only)."""
    with psycopg.connect(url) as conn:
        verification.prepare(conn, [], settings.audit_archive_dir())
        with verification.costed_as_hashing(conn) if costed else nullcontext():
            found = conn.execute(sql.SQL("SELECT count(*) FROM ({}) AS c").format(query(conn))).fetchone()[0]
        conn.rollback()
    if found:
        raise SystemExit(f"a clean ledger has {found} audit findings")
    return found


def explain_rehash(url: str) -> None:
    """EXPLAIN (ANALYZE, VERBOSE) of the full re-hash as the full verification runs it: whether each
    row's digest is computed by parallel workers (under a Gather node)."""
    print("--- EXPLAIN ANALYZE, the full re-hash (audit_log_intact, audit verify --full)")
    with psycopg.connect(url) as conn:
        verification.prepare(conn, [], settings.audit_archive_dir())
        with verification.costed_as_hashing(conn):
            for (line,) in conn.execute(sql.SQL("EXPLAIN (ANALYZE, VERBOSE, BUFFERS) CREATE TEMP TABLE t AS {}").format(
                    verification.full_query(conn, "audit_log_intact", None))):
                print(line[:300])
        conn.rollback()


def reseal(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")  # audit_seals is append-only
        conn.execute("DELETE FROM audit_seals")
        conn.execute("SELECT audit_seal()")
        conn.rollback()


def serial(url: str) -> str:
    """``url`` whose sessions plan without parallel workers (it already carries options: with_session)."""
    return url.replace("options=", "options=" + SERIAL.replace(" ", "%20").replace("=", "%3D") + "%20", 1)


def full_rehash(url: str) -> None:
    """A full run with `audit verify --full`'s re-hash, on connections of its own: the full
    verification's temporary view audit_rows outlives its transaction, so a second one on a pooled
    session fails (DuplicateTable)."""
    db = LedgerDatabase(url)
    try:
        passed(reconcile(db, Scope("manual"), anchors=[], audit_full=True))
    finally:
        db.close()


def night(db: LedgerDatabase, url: str, new: int, days: str | None = None) -> float:
    """A night's new deposits posted and sealed (not timed), then the nightly full run, timed."""
    post_new_deposits(db, new)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT audit_seal()")
    before = os.environ.get(settings.AUDIT_VERIFY_DAYS_VAR)
    if days:
        os.environ[settings.AUDIT_VERIFY_DAYS_VAR] = days
    try:
        return seconds(lambda: passed(reconcile(db, Scope("manual"), anchors=[])))
    finally:
        if days:
            os.environ.pop(settings.AUDIT_VERIFY_DAYS_VAR)
            if before is not None:
                os.environ[settings.AUDIT_VERIFY_DAYS_VAR] = before


def explain_night(url: str) -> None:
    """EXPLAIN ANALYZE of each of a nightly run's audit checks (plan() has read what was written
    since, unexplained), in a transaction rolled back: where the time of a night goes."""
    with psycopg.connect(url) as conn:
        night_plan = verification.plan(conn, conn, [], settings.audit_archive_dir(), False, settings.audit_verify_days())
        queries = {name: night_plan.query(name, None) for name in CHECKS}
        for what, query in queries.items():
            print(f"--- EXPLAIN ANALYZE, nightly {what}")
            for (line,) in conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS) {}").format(query)):
                print(line)
        conn.rollback()


def nights(db: LedgerDatabase, url: str, args) -> dict[str, float]:
    """Posting and sealing change the ledger: these come after the interleaved timings."""
    m = {"full_night": min(night(db, url, args.new) for _ in range(args.repeat)),
         "full_night_sliceless": min(night(db, url, args.new, SLICELESS) for _ in range(args.repeat)),
         "full_after_nights": min(seconds(lambda: passed(reconcile(db, LEDGER_RUN))) for _ in range(args.repeat))}
    with psycopg.connect(url) as conn:
        for row in conn.execute("SELECT kind, new_seals, slice, slices, blocks, audit_rows, ledger_rows"
                                " FROM audit_verifications ORDER BY id"):
            print("verified:", *row)
    post_new_deposits(db, args.new)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT audit_seal()")
    if args.before:
        m |= written_since_side_by_side(url, args.before, args.repeat)
    explain_night(url)
    return m


def written_since_by_xmin(revision: str, since: int) -> sql.Composable:
    """What plan() read at ``revision`` (before migration 021): every row of each trailed table, by xmin."""
    table = sql.SQL(at(revision, "sql/audit/nightly/written_table.sql"))
    tables = sql.SQL("").join(table.format(table_name=sql.Literal(name), table=sql.Identifier(name),
                                           since=sql.Literal(since)) for name in verification.TRAILED)
    return sql.SQL(at(revision, "sql/audit/nightly/written_since.sql")).format(since=sql.Literal(since), tables=tables)


def written_since_side_by_side(url: str, revision: str, repeat: int) -> dict[str, float]:
    """The records new to a night (one night's deposits posted since the last verification), found
    as ``revision`` found them and by arrival, interleaved; both must find the same records (no row
    here was written with the triggers off)."""
    with psycopg.connect(url) as conn:
        [since] = conn.execute("SELECT watermark::text FROM audit_verifications WHERE intact"
                               " ORDER BY id DESC LIMIT 1").fetchone()
    queries = {"written_since_by_xmin": written_since_by_xmin(revision, int(since)),
               "written_since_by_arrival": verification.written_since(int(since))}
    found = {}

    def read(name: str) -> None:
        with psycopg.connect(url) as conn:
            found[name] = {table: set(ids.strip("{}").split(",")) for table, ids in conn.execute(queries[name])}

    m = side_by_side(repeat, **{name: (lambda n=name: read(n)) for name in queries})
    if found["written_since_by_xmin"] != found["written_since_by_arrival"]:
        raise SystemExit("written since: the two forms found different records")
    print("written since:", {table: len(ids) for table, ids in found["written_since_by_arrival"].items()})
    return m


def print_nights(m: dict[str, float]) -> None:
    print(f"first nightly after the first seal / ledger checks only = {m['first_nightly'] / m['full']:.2f}x")
    print(f"a night (--new posted and sealed) / ledger checks only after the nights = "
          f"{m['full_night'] / m['full_after_nights']:.2f}x")
    print(f"a night, sliceless / ledger checks only after the nights = "
          f"{m['full_night_sliceless'] / m['full_after_nights']:.2f}x")
    if "written_since_by_arrival" in m:
        print(f"records new to a night, by xmin / by arrival = "
              f"{m['written_since_by_xmin'] / m['written_since_by_arrival']:.2f}x")


def nightly_only(url: str, args) -> None:
    m = {"first_seal": seconds(lambda: psycopg.connect(url, autocommit=True).execute("SELECT audit_seal()"))}
    log("side by side")
    db = LedgerDatabase(url)
    try:
        passed(reconcile(db, Scope.quick()))  # warm-up
        m["first_nightly"] = seconds(lambda: passed(reconcile(db, Scope("manual"), anchors=[])))
        m |= side_by_side(args.repeat, full=lambda: passed(reconcile(db, LEDGER_RUN)),
                          full_nightly=lambda: passed(reconcile(db, Scope("manual"), anchors=[])))
        m |= nights(db, url, args)
    finally:
        db.close()
    for key, value in m.items():
        print(f"{key:32} {value:8.2f} s")
    print(f"full run with the nightly audit verification / ledger checks only = {m['full_nightly'] / m['full']:.2f}x")
    print_nights(m)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--before", help="git revision whose audit SQL is the 'before' side (with --nightly-only:"
                        " how it found the records new to a night)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work-mem", default="64MB")
    parser.add_argument("--new", type=int, default=2000, help="deposits posted and sealed before each timed night")
    parser.add_argument("--nightly-only", action="store_true",
                        help="no 'before' side and no full re-hash: the ledger checks, the first and steady nightly runs")
    args = parser.parse_args()
    if not args.nightly_only and not args.before:
        parser.error("--before is needed unless --nightly-only")

    with Scratch(database_url(), args.work_mem) as scratch:
        after = scratch.create("ledger_bench_audit_nightly" if args.nightly_only else "ledger_bench_audit_after")
        log(f"{args.entries:,} entries: building")
        build_ledger(after, args.entries)
        if args.nightly_only:
            return nightly_only(after, args)
        with psycopg.connect(scratch.admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS ledger_bench_audit_before")
            conn.execute("CREATE DATABASE ledger_bench_audit_before TEMPLATE ledger_bench_audit_after")
        scratch.names.append("ledger_bench_audit_before")
        before = after.replace("/ledger_bench_audit_after", "/ledger_bench_audit_before")
        with psycopg.connect(before) as conn:
            conn.execute(functions_of_009(args.before))
        checks = {"before": {name: (lambda _, q=sql.SQL(at(args.before, f"sql/checks/audit/{name}.sql")).format(
                      run_id=sql.Literal(None)): q) for name in CHECKS},
                  "after": {name: (lambda conn, n=name: verification.full_query(conn, n, None)) for name in CHECKS}}
        urls = {"before": before, "after": after}
        m = {f"first_seal_{side}": seconds(lambda u=url: psycopg.connect(u, autocommit=True).execute(
            "SELECT audit_seal()")) for side, url in urls.items()}
        log("side by side")
        db = LedgerDatabase(after)
        try:
            passed(reconcile(db, Scope.quick()))  # warm-up
            m["first_nightly"] = seconds(lambda: passed(reconcile(db, Scope("manual"), anchors=[])))
            m |= side_by_side(
                args.repeat,
                **{f"seal_{side}": (lambda u=url: reseal(u)) for side, url in urls.items()},
                **{f"{name}_{side}": (lambda u=urls[side], t=checks[side][name], s=side: run_check(u, t, s == "after"))
                   for name in CHECKS for side in urls},
                full=lambda: passed(reconcile(db, LEDGER_RUN)),
                full_nightly=lambda: passed(reconcile(db, Scope("manual"), anchors=[])),
                full_audit_full=lambda: full_rehash(after),
                full_audit_full_serial=lambda: full_rehash(serial(after)),
                audit_log_intact_serial=lambda: run_check(serial(after), checks["after"]["audit_log_intact"], True),
            )
            explain_rehash(after)
            m |= nights(db, after, args)
        finally:
            db.close()
    for key, value in m.items():
        print(f"{key:32} {value:8.2f} s")
    for what in ("seal", *CHECKS):
        print(f"{what}: before / after = {m[what + '_before'] / m[what + '_after']:.2f}x")
    print(f"full run with the nightly audit verification / ledger checks only = {m['full_nightly'] / m['full']:.2f}x")
    print(f"full run with the full audit re-hash / ledger checks only = {m['full_audit_full'] / m['full']:.2f}x")
    print_nights(m)
    print(f"full re-hash serial / parallel: full run {m['full_audit_full_serial'] / m['full_audit_full']:.2f}x,"
          f" audit_log_intact {m['audit_log_intact_serial'] / m['audit_log_intact_after']:.2f}x")


if __name__ == "__main__":
    main()
