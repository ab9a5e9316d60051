"""The reconciliation benchmark suite (issue 7): the engine beside the floor, at ledger scale.

At each --entries size it builds a synthetic wallet ledger in a scratch database and measures,
side by side in one run: the full run against the floor (benchmarks/floor.sql), the hourly check
and a day's run after --new-transactions postings, a --backfill-days backfill as one run against
one full run, and the peak memory of a full run, clean and with 100,000 planted mismatches. Once:
the fixed overhead, split into importing Great Expectations, importing Dagster, and a full run on
an empty ledger. It prints a markdown section, and with --write replaces that section of
BENCHMARKS.md.

Usage: uv run python benchmarks/suite.py --entries 1000000,10000000 [--write BENCHMARKS.md]
It uses LEDGER_DATABASE_URL's server, or the embedded one, and drops its scratch databases after.
"""

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ledger_pipeline.audit import seals
from ledger_pipeline.platform.db import LedgerDatabase, database_url
from ledger_pipeline.platform.migrations import Runner
from ledger_pipeline.reconciliation import RunResult, Scope, reconcile, reconcile_windows
from ledger_pipeline.reconciliation.checks import AUDIT_CHECKS, LEDGER_CHECKS

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)  # the history ends just before it
DAY = dt.timedelta(days=1)
FLOOR_SQL = Path(__file__).with_name("floor.sql")
SECTION = "## Reconciliation at scale"
LEDGER_RUN = Scope("manual", checks=LEDGER_CHECKS)  # what benchmarks/floor.sql computes
AUDIT_RUN = Scope("manual", checks=AUDIT_CHECKS)
MISMATCHES = 100_000

# Deposits: each debits the house cash account of a wallet's currency and credits the wallet.
# Written in time order, as a ledger grows, so the tables' physical order follows created_at.
HISTORY = """
SELECT setseed(0.5);
INSERT INTO accounts (code, name, account_type, currency)
SELECT 'CASH-' || c, 'House cash ' || c, 'asset', c FROM (VALUES ('USD'), ('EUR')) AS v (c);
INSERT INTO accounts (user_id, code, name, account_type, currency)
SELECT gen_random_uuid(), 'WALLET-' || n, 'Wallet ' || n, 'liability', CASE WHEN n % 2 = 0 THEN 'USD' ELSE 'EUR' END
FROM generate_series(1, {wallets}) n;

INSERT INTO transactions (transaction_code, status, created_at, posted_at)
SELECT 'DEPOSIT', 'posted', t, t
FROM (SELECT least({t0} - {span} + {span} * ((n - 1 + random()) / {transactions}),
                   {t0} - interval '1 microsecond') AS t
      FROM generate_series(1, {transactions}) n) s;

CREATE TEMP TABLE wallets ON COMMIT DROP AS
SELECT substr(w.code, 8)::int AS n, w.id, w.currency, c.id AS cash
FROM accounts w JOIN accounts c ON c.code = 'CASH-' || w.currency
WHERE w.account_type = 'liability';

INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
SELECT d.id, leg.account_id, leg.entry_type, d.amount, w.currency, d.created_at
FROM (SELECT id, created_at, round((1 + random() * 500)::numeric, 2) AS amount,
             1 + floor(random() * {wallets})::int AS wallet
      FROM transactions) d
JOIN wallets w ON w.n = d.wallet
CROSS JOIN LATERAL (VALUES (w.cash, 'debit'), (w.id, 'credit')) AS leg (account_id, entry_type);

-- An EUR/USD rate for every day of the history and the week after it, where the suite posts.
INSERT INTO exchange_rates (base, quote, rate, as_of, source)
SELECT 'EUR', 'USD', 1.08, d, 'benchmark'
FROM generate_series(date_trunc('day', {t0} - {span}, 'UTC') - interval '1 day', {t0} + interval '7 days',
                     interval '1 day') d;
"""

BALANCES = """
UPDATE accounts a
SET balance = s.balance
FROM (SELECT e.account_id, sum(balance_delta(acc.account_type, e.entry_type, e.amount)) AS balance
      FROM entries e JOIN accounts acc ON acc.id = e.account_id
      GROUP BY e.account_id) s
WHERE a.id = s.account_id
"""

# The audit rows the triggers would have written for the history as it stands (one INSERT row
# per ledger row, its new_data the row), so the audit checks find the loaded ledger intact.
AUDIT_HISTORY = """
INSERT INTO audit_log (table_name, operation, record_id, new_data, db_role)
SELECT 'accounts', 'INSERT', a.id, to_jsonb(a), 'ledger_system' FROM accounts a;
INSERT INTO audit_log (table_name, operation, record_id, new_data, db_role)
SELECT 'transactions', 'INSERT', t.id, to_jsonb(t), 'ledger_system' FROM transactions t;
INSERT INTO audit_log (table_name, operation, record_id, new_data, db_role)
SELECT 'entries', 'INSERT', e.id, to_jsonb(e), 'ledger_system' FROM entries e;
"""

# Faults as a buggy writer would leave them, around post_transaction: each kind trips only its
# check (and the unbalanced kinds debits_equal_credits), stored balances kept in step unless
# drifting them is the fault. Wallets are taken in code order; overdrawn ones from the end.
FAULT_LEGS = """
CREATE TEMP TABLE fault_legs ON COMMIT DROP AS
WITH w AS (
    SELECT row_number() OVER (ORDER BY a.code) - 1 AS k,
           a.id, a.currency, a.balance, c.id AS cash, o.id AS other_cash, o.currency AS other_currency
    FROM accounts a
    JOIN accounts c ON c.code = 'CASH-' || a.currency
    JOIN accounts o ON o.code LIKE 'CASH-%' AND o.currency <> a.currency
    WHERE a.account_type = 'liability'
), wallet_count AS (
    SELECT count(*) AS total FROM w  -- a constant, so that i % total joins by hash
), faults AS (
    -- unbalanced: the wallet is credited a cent less than the cash account is debited
    SELECT gen_random_uuid() AS txn, w.*, 'unbalanced' AS kind
    FROM generate_series(0, {unbalanced} - 1) i JOIN w ON w.k = i % (SELECT total FROM wallet_count)
    UNION ALL
    -- mislabelled: cash of one currency debited, a wallet of the other credited, both entries
    -- labelled with the cash's currency: balanced by label, unbalanced in each account currency
    SELECT gen_random_uuid(), w.*, 'mislabelled'
    FROM generate_series(0, {mislabelled} - 1) i JOIN w ON w.k = i % (SELECT total FROM wallet_count)
    UNION ALL
    -- overdrawn: a wallet pays out all it holds and 25 more
    SELECT gen_random_uuid(), w.*, 'overdrawn'
    FROM w WHERE w.k >= (SELECT total FROM wallet_count) - {overdrawn}
)
SELECT f.txn AS transaction_id, leg.account_id, leg.entry_type, leg.amount, leg.currency
FROM faults f
CROSS JOIN LATERAL (VALUES
    (f.kind = 'unbalanced', f.cash, 'debit', 10.00, f.currency),
    (f.kind = 'unbalanced', f.id, 'credit', 9.99, f.currency),
    (f.kind = 'mislabelled', f.other_cash, 'debit', 10.00, f.other_currency),
    (f.kind = 'mislabelled', f.id, 'credit', 10.00, f.other_currency),
    (f.kind = 'overdrawn', f.id, 'debit', f.balance + 25, f.currency),
    (f.kind = 'overdrawn', f.cash, 'credit', f.balance + 25, f.currency)
) AS leg (wanted, account_id, entry_type, amount, currency)
WHERE leg.wanted;

INSERT INTO transactions (id, transaction_code, description, created_at, posted_at)
SELECT DISTINCT transaction_id, 'ADJUST', 'benchmark fault', {at}, {at} FROM fault_legs;
INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
SELECT transaction_id, account_id, entry_type, amount, currency, {at} FROM fault_legs;
UPDATE accounts a
SET balance = a.balance + d.delta
FROM (SELECT l.account_id, sum(balance_delta(acc.account_type, l.entry_type, l.amount)) AS delta
      FROM fault_legs l JOIN accounts acc ON acc.id = l.account_id
      GROUP BY l.account_id) d
WHERE a.id = d.account_id;

-- drifted: stored balances nudged, entries untouched
UPDATE accounts SET balance = balance + 13.37
WHERE id IN (SELECT id FROM accounts ORDER BY code LIMIT {drifted});
"""

# Ledger rows a writer left without their audit rows (triggers off), and nothing else wrong: each
# transaction deposits 10.00 to a wallet and takes it back, four entries netting to zero per
# account (the stored balances stay right), so only audit_trail_complete finds them: the
# transaction and its four entries, five rows each. Wallets are taken in code order.
UNAUDITED = """
CREATE TEMP TABLE unaudited ON COMMIT DROP AS
WITH w AS (
    SELECT row_number() OVER (ORDER BY a.code) - 1 AS k, a.id, a.currency, c.id AS cash
    FROM accounts a JOIN accounts c ON c.code = 'CASH-' || a.currency
    WHERE a.account_type = 'liability'
), wallet_count AS (
    SELECT count(*) AS total FROM w
)
SELECT gen_random_uuid() AS transaction_id, w.id AS wallet, w.cash, w.currency
FROM generate_series(0, {transactions} - 1) i JOIN w ON w.k = i % (SELECT total FROM wallet_count);

INSERT INTO transactions (id, transaction_code, description, created_at, posted_at)
SELECT transaction_id, 'ADJUST', 'benchmark: written without its audit rows', {at}, {at} FROM unaudited;
INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
SELECT u.transaction_id, leg.account_id, leg.entry_type, 10.00, u.currency, {at}
FROM unaudited u
CROSS JOIN LATERAL (VALUES (u.cash, 'debit'), (u.wallet, 'credit'), (u.wallet, 'debit'), (u.cash, 'credit'))
    AS leg (account_id, entry_type);
"""
UNAUDITED_ROWS_PER_TRANSACTION = 5

# New deposits through the posting path, triggers on, dated within [T0, T0 + 1 day).
NEW_DEPOSITS = """
WITH w AS (SELECT row_number() OVER (ORDER BY code) AS k, id, currency FROM accounts WHERE account_type = 'liability')
SELECT count(post_transaction(
    'DEPOSIT',
    jsonb_build_array(jsonb_build_object('account_id', c.id, 'entry_type', 'debit', 'amount', d.amount),
                      jsonb_build_object('account_id', w.id, 'entry_type', 'credit', 'amount', d.amount)),
    p_created_at => %(t0)s + interval '1 day' * d.at))
FROM (SELECT (i - 1 + random()) / %(count)s AS at, round((1 + random() * 500)::numeric, 2) AS amount,
             1 + floor(random() * (SELECT count(*) FROM w))::int AS k
      FROM generate_series(1, %(count)s) i) d
JOIN w USING (k)
JOIN accounts c ON c.code = 'CASH-' || w.currency
"""

PEAK_MEMORY = """
import resource, sys
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.reconciliation import Scope, reconcile
result = reconcile(LedgerDatabase(sys.argv[1]), Scope("manual"))
print(result.status, result.row["mismatch_count"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def build_ledger(url: str, entries: int, days: int = 365, wallets: int = 100_000) -> None:
    """A migrated, empty ledger at ``url`` gets ``entries`` deposit entries over the ``days``
    before T0, with stored balances to match, loaded set-based with the audit triggers off, and
    the audit rows they would have written."""
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")  # no audit rows, no FK checks
        conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Inserting random uuids into btrees costs several times building the indexes after the
        # load. The transactions' primary key stays: the entries' foreign key needs it.
        indexes = conn.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid IN ('entries'::regclass, 'transactions'::regclass)"
            " AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ).fetchall()
        key, key_def = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'entries'::regclass AND contype = 'p'"
        ).fetchone()
        # Foreign keys to the entries' key (statement_match_links') go with it, and come back after.
        references = conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE confrelid = 'entries'::regclass AND contype = 'f'"
        ).fetchall()
        for table, name, _ in references:
            conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table),
                                                                              sql.Identifier(name)))
        for name, _ in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("ALTER TABLE entries DROP CONSTRAINT {}").format(sql.Identifier(key)))
        conn.execute(sql.SQL(HISTORY).format(
            wallets=wallets, transactions=entries // 2, t0=sql.Literal(T0),
            span=sql.Literal(dt.timedelta(days=days)),
        ))
        for _, definition in indexes:
            conn.execute(definition)
        conn.execute(sql.SQL("ALTER TABLE entries ADD CONSTRAINT {} {}").format(sql.Identifier(key), sql.SQL(key_def)))
        for table, name, definition in references:
            conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)))
        conn.execute(BALANCES)
        conn.execute(AUDIT_HISTORY)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def plant_faults(url: str, unbalanced: int = 0, mislabelled: int = 0, overdrawn: int = 0, drifted: int = 0,
                 at: dt.datetime = T0 - DAY / 2) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(sql.SQL(FAULT_LEGS).format(
            unbalanced=unbalanced, mislabelled=mislabelled, overdrawn=overdrawn, drifted=drifted, at=sql.Literal(at),
        ))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def plant_unaudited(url: str, rows: int, at: dt.datetime = T0 - DAY / 2) -> None:
    """``rows`` ledger rows (a multiple of 5: transactions and their entries) written with the
    triggers off, balanced and with balances unchanged: findings of audit_trail_complete alone."""
    transactions, rest = divmod(rows, UNAUDITED_ROWS_PER_TRANSACTION)
    if rest:
        raise ValueError(f"unaudited rows come {UNAUDITED_ROWS_PER_TRANSACTION} to a transaction, not {rows}")
    with psycopg.connect(url) as conn:
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute(sql.SQL(UNAUDITED).format(transactions=transactions, at=sql.Literal(at)))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def floor(url: str) -> list[tuple]:
    """benchmarks/floor.sql's findings: (check_name, account_id, transaction_id, currency, expected, actual)."""
    with psycopg.connect(url) as conn:
        return conn.execute(FLOOR_SQL.read_text()).fetchall()


def post_new_deposits(db: LedgerDatabase, count: int) -> None:
    with db.system_context() as conn:
        conn.execute(NEW_DEPOSITS, {"t0": T0, "count": count})


def with_session(url: str, database: str, work_mem: str) -> str:
    """``url`` on another database, every session (the engine's, GX's, the floor's) with the
    same work_mem."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = " ".join(filter(None, [query.get("options"), f"-c work_mem={work_mem}"]))
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(query, quote_via=quote)))


def seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def side_by_side(repeat: int, **fns: Callable[[], object]) -> dict[str, float]:
    """Best of ``repeat`` for each, interleaved, so load from other jobs falls on all alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            best[name] = min(best[name], seconds(fn))
    return best


def passed(result: RunResult) -> RunResult:
    # A run that broke can be fast; its time would mean nothing.
    if result.status != "passed":
        raise SystemExit(f"{result.scope.describe()}: {result.status} {result.error or ''}")
    return result


def all_passed(results: list[RunResult]) -> None:
    for result in results:
        passed(result)


def fresh_python(code: str, *args: str) -> tuple[float, str]:
    # Bytecode caching on, as in production: the imports are timed as a deployed process pays them.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True, text=True)
    return time.perf_counter() - started, out.stdout


def peak_memory_mb(url: str, mismatches: int = 0) -> float:
    status, found, kib = fresh_python(PEAK_MEMORY, url)[1].split()
    # Memory with the findings means something only if the run recorded them all.
    if status != ("failed" if mismatches else "passed") or int(found) < mismatches:
        raise SystemExit(f"the peak-memory run ended {status} with {found} mismatches, not {mismatches}")
    return int(kib) / 1024


def server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0].split()[0]


class Scratch:
    """Scratch databases on the server, dropped on exit."""

    def __init__(self, server: str, work_mem: str):
        self.server, self.work_mem = server, work_mem
        self.admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
        self.names: list[str] = []

    def create(self, name: str) -> str:
        self.drop(name)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.names.append(name)
        url = with_session(self.server, name, self.work_mem)
        Runner(url).up()
        return url

    def copy(self, name: str, source: str) -> str:
        """A copy of the scratch database ``source`` (nobody may be connected to it)."""
        self.drop(name)
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(source)))
        self.names.append(name)
        return with_session(self.server, name, self.work_mem)

    def drop(self, name: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for name in self.names:
            self.drop(name)


def measure_fixed(scratch: Scratch, args) -> dict[str, float]:
    log("fixed overhead")
    imports = {
        module: min(fresh_python(f"import {module}")[0] for _ in range(3))
        for module in ("great_expectations", "dagster")
    }
    db = LedgerDatabase(scratch.create("ledger_bench_empty"))
    try:
        passed(reconcile(db, Scope("manual")))  # warm-up: GX context, connections, caches
        empty = side_by_side(args.repeat, empty=lambda: passed(reconcile(db, Scope("manual"))))["empty"]
    finally:
        db.close()
    return {"import_gx": imports["great_expectations"], "import_dagster": imports["dagster"], "empty": empty}


def measure_size(scratch: Scratch, entries: int, args) -> dict[str, float]:
    url = scratch.create("ledger_bench")
    log(f"{entries:,} entries: building")
    build = seconds(lambda: build_ledger(url, entries, wallets=args.wallets))
    log(f"{entries:,} entries: built in {build:.0f} s; floor vs full run")
    db = LedgerDatabase(url)
    try:
        m = {"seal": seconds(lambda: seals.seal(db))}  # the first seal: the whole log
        passed(reconcile(db, Scope.quick()))  # warm-up
        # The full runs also establish the engine's checkpoints before the new postings. `full`
        # is the ledger checks, as the floor; a full run also makes the audit checks.
        m |= side_by_side(args.repeat, floor=lambda: floor(url), full=lambda: passed(reconcile(db, LEDGER_RUN)),
                          full_audit=lambda: passed(reconcile(db, Scope("manual"), anchors=[])),
                          audit=lambda: passed(reconcile(db, AUDIT_RUN, anchors=[])))
        log(f"side by side: {figures(m)}")
        log(f"posting {args.new_transactions:,} transactions")
        post_new_deposits(db, args.new_transactions)
        # One each, the first after the postings: a repeat would find the new entries checked.
        m["hourly"] = seconds(lambda: passed(reconcile(db, Scope.quick())))
        m["day"] = seconds(lambda: passed(reconcile(db, Scope("daily", T0, T0 + DAY))))
        log(f"{args.backfill_days}-day backfill vs full run")
        windows = [((T0 - (d + 1) * DAY).date().isoformat(), T0 - (d + 1) * DAY, T0 - d * DAY)
                   for d in reversed(range(args.backfill_days))]
        m["full_beside_backfill"] = seconds(lambda: passed(reconcile(db, LEDGER_RUN)))
        m["backfill"] = seconds(lambda: all_passed(reconcile_windows(db, "backfill", windows)))
        log(f"after the postings: {figures(m)}")
    finally:
        db.close()
    log("peak memory")
    m["memory"] = peak_memory_mb(url)
    # Last: the planted faults stay until the scratch database is dropped.
    plant_faults(url, unbalanced=MISMATCHES)
    m["memory_faulty"] = peak_memory_mb(url, MISMATCHES)
    m["build"] = build
    return m


def report(sizes: dict[int, dict[str, float]], fixed: dict[str, float], args, version: str) -> str:
    names = list(sizes)
    first, last = sizes[names[0]], sizes[names[-1]]
    overhead = fixed["empty"]

    def row(label: str, cell: Callable[[dict], str], target: str, growth: str = "") -> str:
        cells = " | ".join(cell(m) for m in sizes.values())
        extra = f" | {growth}" if len(sizes) > 1 else ""
        return f"| {label} | {cells}{extra} | {target} |"

    def grows(key: str) -> str:
        return f"{last[key] / first[key]:.2f}x"

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    head = " | ".join(f"{n:,} entries" for n in names)
    lines = [
        SECTION,
        "",
        f"PostgreSQL {version}, {os.cpu_count()} cores, {memory:.0f} GiB; "
        f"`uv run python benchmarks/suite.py {' '.join(sys.argv[1:])}`, {dt.date.today().isoformat()}. "
        f"Every session (the engine's, Great Expectations', the floor's) with `work_mem = {args.work_mem}`. "
        f"Times are the best of {args.repeat} where the table says so, else one run; "
        "another job may share the machine, so compare the figures of one run with each other.",
        "",
        f"| measurement | {head}{' | largest / smallest' if len(sizes) > 1 else ''} | target |",
        f"|---|{'---:|' * len(sizes)}{'---:|' if len(sizes) > 1 else ''}---|",
        row("building the ledger (set-based, audit triggers off)", lambda m: f"{m['build']:.0f} s", "minutes at 10M"),
        row(f"floor: `benchmarks/floor.sql`, best of {args.repeat}", lambda m: f"{m['floor']:.2f} s", ""),
        row(f"full run, the ledger checks, best of {args.repeat}",
            lambda m: f"{m['full']:.2f} s ({m['full'] / m['floor']:.1f}x floor)", ""),
        row(f"full run with the three audit checks (every full run since issue 9), best of {args.repeat}",
            lambda m: f"{m['full_audit']:.2f} s ({m['full_audit'] / m['full']:.2f}x the ledger checks)", "(reported)"),
        row(f"the audit checks alone (`audit verify`), best of {args.repeat}",
            lambda m: f"{m['audit']:.2f} s", "(reported)", grows("audit")),
        row("sealing the whole audit log (one ledger row, one audit row) in one seal",
            lambda m: f"{m['seal']:.2f} s", "(reported)", grows("seal")),
        row("full run less the empty-ledger run, to the floor",
            lambda m: f"{(m['full'] - overhead) / m['floor']:.2f}x", "≤ 1.5x"),
        row(f"hourly check after {args.new_transactions:,} new transactions",
            lambda m: f"{m['hourly']:.2f} s", "flat: within 2x", grows("hourly")),
        row(f"day run, [T0, T0 + 1 day), after the same postings",
            lambda m: f"{m['day']:.2f} s", "flat: within 2x", grows("day")),
        row(f"{args.backfill_days}-day backfill as one run, to a full run beside it",
            lambda m: f"{m['backfill']:.1f} s / {m['full_beside_backfill']:.1f} s = {m['backfill'] / m['full_beside_backfill']:.2f}x",
            "< 2x (365 days)"),
        row("peak memory of a full run (fresh process, max RSS)", lambda m: f"{m['memory']:.0f} MB",
            "flat", grows("memory")),
        row(f"the same with {MISMATCHES:,} unbalanced transactions",
            lambda m: f"{m['memory_faulty']:.0f} MB ({m['memory_faulty'] / m['memory']:.2f}x)", "≤ 1.2x"),
        "",
        "The fixed overhead of a full run, whatever the size:",
        "",
        "| part | seconds | target |",
        "|---|---:|---|",
        f"| `python -c 'import great_expectations'`, fresh process, best of 3 | {fixed['import_gx']:.2f} | (reported) |",
        f"| `python -c 'import dagster'`, fresh process, best of 3 | {fixed['import_dagster']:.2f} | (reported) |",
        f"| everything else: a full run on an empty migrated ledger, in process after a warm-up, best of {args.repeat} "
        f"| {overhead:.2f} | < 1 s |",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replaces the section of ``path`` that ``section``'s heading names (or appends it); other
    sections stay."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    heading = section.splitlines()[0]
    pattern = re.compile(rf"^{re.escape(heading)}$.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


def figures(m: dict[str, float]) -> str:
    # The suite reports at its end; these lines keep what a long size measured if it is stopped.
    return ", ".join(f"{k} {v:.2f}" for k, v in m.items())


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def arguments(doc: str, entries: str = "1000000,10000000",
              more: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The options of a benchmark over the suite's ledger (``doc``: its module docstring), and
    those ``more`` adds."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    if more:
        more(parser)
    parser.add_argument("--entries", default=entries, help="comma-separated ledger sizes")
    parser.add_argument("--wallets", type=int, default=100_000)
    parser.add_argument("--new-transactions", type=int, default=10_000)
    parser.add_argument("--backfill-days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-mem", default="64MB")
    parser.add_argument("--write", type=Path, help="replace this benchmark's section of this file")
    # Every check is measured, the rates' too: they are made only where the ledger reports in one currency.
    os.environ.setdefault("LEDGER_REPORTING_CURRENCY", "USD")
    return parser.parse_args()


def run(doc: str, measure: Callable, report: Callable, once: Callable | None = None,
        entries: str = "1000000,10000000", more: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """A benchmark over the suite's ledger, on one scratch server: its options (``arguments``),
    ``once(scratch, args)`` if given, then ``measure(scratch, entries, args)`` at each --entries
    size; prints ``report(sizes, [once's figures,] args, version)``, a markdown section, and with
    --write replaces that section of the file."""
    args = arguments(doc, entries, more)
    with Scratch(database_url(), args.work_mem) as scratch:
        first = once(scratch, args) if once else None
        sizes = {n: measure(scratch, n, args) for n in map(int, args.entries.split(","))}
        version = server_version(scratch.admin)
    section = report(sizes, args, version) if once is None else report(sizes, first, args, version)
    print(section)
    if args.write:
        write_section(args.write, section)


def main() -> None:
    run(__doc__, measure_size, report, once=measure_fixed)


if __name__ == "__main__":
    main()
