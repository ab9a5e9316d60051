"""External reconciliation (issue 17): importing a camt.053 file, and matching statement lines with
the ledger beside a hand-written SQL floor.

Import: a camt.053.001.08 file of each --import-lines size is written (statements.demo_statements'
streaming writer) and imported by a fresh process (statements.importer.import_file, the CLI's and
the inbox's path, audit triggers on): lines per second, and the process's peak RSS.

Matching, at each --entries size, on benchmarks/suite.py's ledger built over --days-per-million
days per million entries (so a larger ledger is a longer history of the same business): the EUR
house cash account is mapped to a bank account, and its entries become statement lines in SQL
(the bank booking what the ledger booked, same amount, same day; every 7th line two days late).
  - bulk: the newest --lines lines before the last day (those booked by then), matched in one pass (statements.matching,
    as a dry run, so it can be repeated, returning its counts as a recorded pass does) beside the
    floor: one hash join on the amount with the date window, each line's nearest entry kept
    (DISTINCT ON), into a temp table. The floor does not keep an entry to one line, nor run the
    other rules: it is what any matcher must at least do. The dry run that lists every match (the
    CLI's --dry-run) is timed once beside them.
  - the bulk pass recorded (statement_matches and links, audit triggers on), once, then the pass after it (recorded:
    it retries the lines near the bulk's matches, which is every line, and matches what they left possible).
  - day: the lines booked on the last day, with everything before matched: a dry-run pass, the daily run's cost,
    beside the same pass with no last pass to go by (statement_match_passes emptied for it and put back), which
    retries every line left unmatched, as every pass did before migration 020.

--find-only: the bulk's floor and dry run only. Last, gen_random_uuid() for 1,000,000 rows on the server.

Usage: uv run python benchmarks/statements.py --import-lines 10000,1000000 --entries 200000,1000000
It uses LEDGER_DATABASE_URL's server, or the embedded one, and drops its scratch databases after.
"""

import argparse
import datetime as dt
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.suite import (  # noqa: E402
    T0,
    Scratch,
    build_ledger,
    fresh_python,
    log,
    seconds,
    server_version,
    side_by_side,
)
from ledger_pipeline.platform.db import LedgerDatabase, database_url  # noqa: E402
from ledger_pipeline.statements import matching  # noqa: E402
from ledger_pipeline.statements.demo_statements import BankLine, BankStatement, write_camt053  # noqa: E402
from ledger_pipeline.statements.mapping import map_account  # noqa: E402

IBAN = "DE89370400440532013000"
# "one-to-one" leaves the sum rule out, to see what it costs.
RULES = {"default": matching.Rules(), "one-to-one": matching.Rules(order=("reference", "amount_date", "tolerance"))}
# Not ledger_bench*: those are benchmarks/suite.py's, which may be running on the same server.
IMPORT_DB, MATCH_DB = "ledger_statements_import", "ledger_statements_match"
IMPORT = """
import resource, sys, time
from pathlib import Path
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.statements.importer import import_file
started = time.perf_counter()
result = import_file(LedgerDatabase(sys.argv[1]), Path(sys.argv[2]))
elapsed = time.perf_counter() - started
print(result.status, result.line_count, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

# The EUR cash account's entries as the bank's lines: a statement per call, of the entries whose
# day (UTC) is in [first, last]; every 7th line booked two days after the ledger, inside the window.
LINES = """
WITH f AS (
    INSERT INTO statement_files (sha256, file_name, source_format, statement_count, line_count)
    VALUES (%(sha256)s, %(name)s, 'camt053', 1, 0) RETURNING id
), s AS (
    INSERT INTO statements (file_id, bank_account_id, account_identifier, bank_statement_id, sequence_number,
                            currency, opening_balance, opening_date, closing_balance, closing_date,
                            balances_derived, source_position)
    SELECT f.id, b.id, b.identifier, %(name)s, %(sequence)s, 'EUR', 0, %(first)s::date - 1, 0, %(last)s, false, 'bench'
    FROM f, bank_accounts b WHERE b.identifier = %(iban)s
    RETURNING id
)
INSERT INTO statement_lines (statement_id, line_number, source_position, booking_date, value_date, amount,
                             currency, bank_reference, raw)
SELECT s.id, row_number() OVER (ORDER BY e.created_at, e.id), 'bench',
       (e.created_at AT TIME ZONE 'UTC')::date + CASE WHEN n %% 7 = 0 THEN 2 ELSE 0 END,
       (e.created_at AT TIME ZONE 'UTC')::date, e.amount, 'EUR', 'B' || n, ''
FROM s, (SELECT e.*, row_number() OVER (ORDER BY e.created_at, e.id) AS n
         FROM entries e JOIN accounts a ON a.id = e.account_id AND a.code = 'CASH-EUR'
         WHERE e.created_at >= %(first)s::timestamptz AND e.created_at < %(last)s::timestamptz + interval '1 day'
           AND e.created_at >= coalesce((SELECT e2.created_at FROM entries e2 JOIN accounts a2 ON a2.id = e2.account_id
                                         WHERE a2.code = 'CASH-EUR'
                                           AND e2.created_at < %(last)s::timestamptz + interval '1 day'
                                         ORDER BY e2.created_at DESC OFFSET %(limit)s - 1 LIMIT 1), '-infinity')) e
"""

FLOOR = """
CREATE TEMP TABLE floor_pairs ON COMMIT DROP AS
WITH l AS (
    SELECT l.id, l.amount, l.booking_date AS day
    FROM statement_lines l JOIN statements s ON s.id = l.statement_id
    WHERE s.bank_statement_id = 'bulk' AND l.booking_date <= %(through)s
), e AS (
    SELECT e.id, e.amount, (e.created_at AT TIME ZONE 'UTC')::date AS day
    FROM entries e
    WHERE e.account_id = (SELECT id FROM accounts WHERE code = 'CASH-EUR') AND e.entry_type = 'debit'
      AND e.created_at >= (SELECT min(day) - 2 FROM l)::timestamp AT TIME ZONE 'UTC'
      AND e.created_at < (SELECT max(day) + 3 FROM l)::timestamp AT TIME ZONE 'UTC'
)
SELECT DISTINCT ON (l.id) l.id AS line_id, e.id AS entry_id, e.day - l.day AS days
FROM l JOIN e ON e.amount = l.amount AND abs(e.day - l.day) <= 2
ORDER BY l.id, abs(e.day - l.day), e.id
"""


def camt_file(directory: Path, lines: int) -> Path:
    """A camt.053 statement of ``lines`` lines over 30 days, streamed to disk."""
    start = dt.date(2026, 1, 1)

    def each(_statement):
        for i in range(lines):
            cents = (i * 7919) % 99_999 + 1
            amount = Decimal(cents if i % 3 else -cents) / 100
            yield BankLine(start + dt.timedelta(days=i * 30 // lines), amount, f"B{i:09d}", f"E2E{i:09d}", "Payment")

    closing = sum((line.amount for line in each(None)), Decimal(0))
    statement = BankStatement(IBAN, "EUR", f"BENCH-{lines}", 1, Decimal(0), start - dt.timedelta(days=1),
                              start + dt.timedelta(days=29), stated_closing=closing)
    path = directory / f"bench-{lines}.xml"
    write_camt053(path, [statement], lines_of=each)
    return path


def measure_import(scratch: Scratch, sizes: list[int]) -> dict[int, dict]:
    found = {}
    with tempfile.TemporaryDirectory(dir="/tmp") as directory:
        for lines in sizes:
            url = scratch.create(IMPORT_DB)
            with psycopg.connect(url) as conn:
                conn.execute("INSERT INTO accounts (code, name, account_type, currency)"
                             " VALUES ('CASH-EUR', 'House cash EUR', 'asset', 'EUR')")
            map_account(LedgerDatabase(url), IBAN, "CASH-EUR")
            log(f"import: writing {lines:,} lines")
            path = camt_file(Path(directory), lines)
            size = path.stat().st_size
            log(f"import: {size / 1e6:.0f} MB; importing")
            status, count, elapsed, kib = fresh_python(IMPORT, url, str(path))[1].split()
            if status != "imported" or int(count) != lines:
                raise SystemExit(f"the import of {lines} lines ended {status} with {count} lines")
            found[lines] = {"seconds": float(elapsed), "rate": lines / float(elapsed),
                            "peak_mb": int(kib) / 1024, "file_mb": size / 1e6}
            path.unlink()
            scratch.drop(IMPORT_DB)
            scratch.names.remove(IMPORT_DB)
            log(f"import: {found[lines]}")
    return found


def measure_matching(scratch: Scratch, entries: int, args) -> dict:
    url = scratch.create(MATCH_DB)
    days = max(2, round(args.days_per_million * entries / 1_000_000))
    log(f"{entries:,} entries over {days} days: building")
    build = seconds(lambda: build_ledger(url, entries, days=days, wallets=args.wallets))
    db = LedgerDatabase(url)
    map_account(db, IBAN, "CASH-EUR")
    last_day = (T0 - dt.timedelta(microseconds=1)).date()
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")  # loaded as history: no audit rows
        first = (T0 - dt.timedelta(days=days)).date()
        conn.execute(LINES, {"name": "bulk", "sha256": "b" * 64, "sequence": 1, "first": first,
                             "last": last_day - dt.timedelta(days=1), "limit": args.lines, "iban": IBAN})
        day = conn.execute(LINES, {"name": "day", "sha256": "d" * 64, "sequence": 2, "first": last_day,
                                   "last": last_day, "limit": 1_000_000_000, "iban": IBAN}).rowcount
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    through = last_day - dt.timedelta(days=1)
    with psycopg.connect(url) as conn:
        # The bulk's lines booked by then: its last two days' late lines fall on later days.
        bulk = conn.execute("SELECT count(*) FROM statement_lines WHERE booking_date <= %s", (through,)).fetchone()[0]
    log(f"built in {build:.0f} s; {bulk:,} bulk lines, {day:,} on the last day; floor vs matcher")

    def floor():
        with psycopg.connect(url) as conn:
            conn.execute(FLOOR, {"through": through})
            return conn.execute("SELECT count(*) FROM floor_pairs").fetchone()[0]

    rules = RULES[args.rules]
    floor_pairs = floor()
    dry = matching.match(db, rules, dry_run=True, through=through, listed=False)
    if dry.made < bulk * 0.99:
        raise SystemExit(f"the matcher matched {dry.made} of {bulk} lines: the data is not what was meant")
    best = side_by_side(args.repeat, floor=floor,
                        matcher=lambda: matching.match(db, rules, dry_run=True, through=through, listed=False))
    if args.find_only:
        db.close()
        scratch.drop(MATCH_DB)
        scratch.names.remove(MATCH_DB)
        found = {"days": days, "bulk_lines": bulk, "floor_pairs": floor_pairs, "matched": dry.made,
                 "rules": dry.counts(), "floor": best["floor"], "matcher": best["matcher"]}
        log(f"{entries:,}: {found}")
        return found
    listed = seconds(lambda: matching.match(db, rules, dry_run=True, through=through))
    log(f"floor {best['floor']:.2f} s, matcher (dry run) {best['matcher']:.2f} s, listing every match"
        f" {listed:.2f} s; recording the bulk pass")
    recorded = seconds(lambda: matching.match(db, rules, through=through))
    settled = seconds(lambda: matching.match(db, rules, through=through))
    log(f"recorded {recorded:.1f} s, the pass after it {settled:.1f} s; the day's run")
    def every_line():
        with psycopg.connect(url) as conn:
            last_passes = conn.execute("DELETE FROM statement_match_passes RETURNING *").fetchall()
        try:
            return matching.match(db, rules, dry_run=True, listed=False)
        finally:
            with psycopg.connect(url) as conn:
                conn.cursor().executemany("INSERT INTO statement_match_passes VALUES (%s, %s, %s, %s, %s)",
                                          last_passes)

    day_runs = side_by_side(args.repeat, day=lambda: matching.match(db, rules, dry_run=True, listed=False),
                            every_line=every_line)
    day_pass = matching.match(db, rules, dry_run=True, listed=False)
    every_line_pass = every_line()
    db.close()
    scratch.drop(MATCH_DB)
    scratch.names.remove(MATCH_DB)
    found = {"days": days, "bulk_lines": bulk, "day_lines": day, "floor_pairs": floor_pairs,
             "matched": dry.made, "rules": dry.counts(), "floor": best["floor"], "matcher": best["matcher"], "listed": listed,
             "recorded": recorded, "settled": settled, "day_run": day_runs["day"], "day_matches": day_pass.made,
             "day_lines_tried": day_pass.lines_read, "every_line_run": day_runs["every_line"],
             "every_line_tried": every_line_pass.lines_read, "every_line_matches": every_line_pass.made}
    log(f"{entries:,}: {found}")
    return found


def uuid_seconds(url: str, repeat: int) -> float:
    """gen_random_uuid() for 1,000,000 rows on ``url``'s server, best of ``repeat``: the cost that made
    the matcher give its proposed matches ids only when they are listed or recorded."""
    with psycopg.connect(url) as conn:
        return min(seconds(lambda: conn.execute(
            "SELECT count(gen_random_uuid()) FROM generate_series(1, 1000000)").fetchone()) for _ in range(repeat))


def report(imports: dict, matches: dict, args, version: str) -> str:
    rows = ["| lines | file | seconds | lines/s | peak RSS |", "|---:|---:|---:|---:|---:|"]
    rows += [f"| {n:,} | {r['file_mb']:.0f} MB | {r['seconds']:.1f} | {r['rate']:,.0f} | {r['peak_mb']:.0f} MB |"
             for n, r in imports.items()]
    out = ["Import (camt.053, fresh process):", "", *rows, ""]
    if len(imports) > 1:
        low, high = imports[min(imports)], imports[max(imports)]
        out.append(f"Peak RSS ratio {max(imports):,} / {min(imports):,} lines: {high['peak_mb'] / low['peak_mb']:.2f}x")
        out.append("")
    if args.find_only:
        rows = ["| entries | days | bulk lines | matched | floor | matcher (dry run) | ratio |",
                "|---:|---:|---:|---:|---:|---:|---:|"]
        rows += [f"| {n:,} | {m['days']} | {m['bulk_lines']:,} | {m['matched']:,} | {m['floor']:.2f} s |"
                 f" {m['matcher']:.2f} s | {m['matcher'] / m['floor']:.2f}x |" for n, m in matches.items()]
        return "\n".join(out + ["Matching (EUR cash account), finding only:", "", *rows, "",
                                f"PostgreSQL {version}; best of {args.repeat}; rules {args.rules}"])
    rows = ["| entries | days | bulk lines | matched | floor | matcher (dry run) | ratio | listing dry run | recorded"
            " | day lines | day run (lines tried) | every line retried (lines tried) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows += [f"| {n:,} | {m['days']} | {m['bulk_lines']:,} | {m['matched']:,} | {m['floor']:.2f} s |"
             f" {m['matcher']:.2f} s | {m['matcher'] / m['floor']:.2f}x | {m['listed']:.2f} s | {m['recorded']:.2f} s |"
             f" {m['day_lines']:,} | {m['day_run']:.2f} s ({m['day_lines_tried']:,}) |"
             f" {m['every_line_run']:.2f} s ({m['every_line_tried']:,}) |"
             for n, m in matches.items()]
    out += ["Matching (EUR cash account):", "", *rows, ""]
    if len(matches) > 1:
        low, high = matches[min(matches)], matches[max(matches)]
        ratio = high["day_run"] / low["day_run"]
        out.append(f"Day's run ratio {max(matches):,} / {min(matches):,} entries: {ratio:.2f}x"
                   f" (every line retried: {high['every_line_run'] / low['every_line_run']:.2f}x)")
    out.append(f"PostgreSQL {version}; best of {args.repeat}; rules {args.rules}; the bulk pass's matches by rule: "
               + "; ".join(f"{n:,}: {m['rules']}" for n, m in matches.items()))
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-lines", default="10000,1000000")
    parser.add_argument("--entries", default="200000,1000000")
    parser.add_argument("--lines", type=int, default=100_000, help="bulk statement lines")
    parser.add_argument("--days-per-million", type=float, default=365)
    parser.add_argument("--wallets", type=int, default=10_000)
    parser.add_argument("--rules", choices=RULES, default="default", help="the matcher's rules")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-mem", default="64MB")
    parser.add_argument("--find-only", action="store_true",
                        help="the floor and the matcher's dry run only: no listing, recording or day's run")
    args = parser.parse_args()
    with Scratch(database_url(), args.work_mem) as scratch:
        sizes = [int(n) for n in args.import_lines.split(",") if n]
        imports = measure_import(scratch, sizes) if sizes else {}
        matches = {n: measure_matching(scratch, n, args) for n in map(int, filter(None, args.entries.split(",")))}
        version = server_version(scratch.admin)
        print(f"gen_random_uuid() for 1,000,000 rows: {uuid_seconds(scratch.admin, args.repeat):.2f} s")
    print(report(imports, matches, args, version))


if __name__ == "__main__":
    main()
