"""How reconciliation time grows with the ledger, and what Great Expectations adds.

Builds a synthetic ledger of --transactions two-entry transactions (set-based SQL, audit triggers
off: this measures reading, not posting) in a scratch database, then times, best of --repeat:

- each check's SQL run once, directly (the floor: one evaluation in PostgreSQL);
- the full reconciliation through the engine (Great Expectations evaluates each check, the run is
  recorded);
- a period run over one day, a 7-day backfill (a period run per day, as the daily asset runs a
  range), and the hourly quick check.

Usage: uv run python benchmarks/reconcile_scale.py [--transactions 1000000] [--days 30]
It uses LEDGER_DATABASE_URL's server, or the embedded one, and drops its scratch database after.
"""

import argparse
import datetime as dt
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ledger_pipeline import settings
from ledger_pipeline.db import LedgerDatabase
from ledger_pipeline.migrations import Runner
from ledger_pipeline.reconciliation import CHECK_NAMES, Scope, reconcile
from ledger_pipeline.reconciliation.checks import render

SYNTHETIC_LEDGER = """
INSERT INTO accounts (id, user_id, code, name, account_type, currency)
SELECT gen_random_uuid(), CASE WHEN n > 2 THEN gen_random_uuid() END,
       'BENCH-' || n, 'bench ' || n,
       CASE WHEN n <= 2 THEN 'asset' ELSE 'liability' END,
       CASE WHEN n % 2 = 0 THEN 'USD' ELSE 'EUR' END
FROM generate_series(1, {accounts}) n;

CREATE TEMP TABLE numbered AS
SELECT row_number() OVER (ORDER BY code) AS n, id, currency, account_type FROM accounts;

INSERT INTO transactions (id, transaction_code, status, created_at, posted_at)
SELECT gen_random_uuid(), 'DEPOSIT', 'posted', t, t
FROM (SELECT now() - random() * make_interval(days => {days}) AS t
      FROM generate_series(1, {transactions})) s;

-- Each transaction: a deposit from the house cash account of one currency into a wallet of it.
INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
SELECT x.id, side.account_id, side.entry_type, x.amount, side.currency, x.created_at
FROM (SELECT t.id, t.created_at, round((random() * 500 + 1)::numeric, 2) AS amount,
             2 + (abs(hashtext(t.id::text)) % ({accounts} - 2)) + 1 AS wallet_n
      FROM transactions t) x
JOIN numbered w ON w.n = x.wallet_n
JOIN numbered c ON c.n = CASE WHEN w.currency = 'USD' THEN 2 ELSE 1 END
CROSS JOIN LATERAL (VALUES (c.id, 'debit', c.currency), (w.id, 'credit', w.currency))
    AS side (account_id, entry_type, currency);

UPDATE accounts a
SET balance = s.balance
FROM (SELECT e.account_id,
             sum(balance_delta(acc.account_type, e.entry_type, e.amount)) AS balance
      FROM entries e JOIN accounts acc ON acc.id = e.account_id
      GROUP BY e.account_id) s
WHERE a.id = s.account_id;
"""


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    server = settings.database_url()
    name = "ledger_benchmark"
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    db = LedgerDatabase(url)
    try:
        Runner(url).up()
        started = time.perf_counter()
        with psycopg.connect(url) as conn:
            conn.execute("SET session_replication_role = replica")  # no audit rows: this measures reading
            conn.execute(sql.SQL(SYNTHETIC_LEDGER).format(
                accounts=args.accounts, days=args.days, transactions=args.transactions))
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0]
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"built {entries:,} entries in {time.perf_counter() - started:.0f} s (PostgreSQL {version})")

        full = Scope("manual")
        now = dt.datetime.now(dt.timezone.utc)
        day = Scope("daily", now - dt.timedelta(days=2), now - dt.timedelta(days=1))
        week = [Scope("backfill", now - dt.timedelta(days=d + 1), now - dt.timedelta(days=d)) for d in range(1, 8)]

        def direct(scope):
            with db.system_context() as conn:
                for check in scope.checks:
                    conn.execute(render(check, scope, conn)).fetchall()

        reconcile(db, Scope.quick())  # warm: GX context, caches
        rows = [
            ("the four checks' SQL, once each (floor)", best_of(args.repeat, lambda: direct(full))),
            ("full reconciliation through GX, recorded", best_of(args.repeat, lambda: reconcile(db, full))),
            ("one day's period run through GX", best_of(args.repeat, lambda: reconcile(db, day))),
            ("a 7-day backfill: one period run per day", best_of(args.repeat, lambda: [reconcile(db, s) for s in week])),
            ("hourly quick check through GX", best_of(args.repeat, lambda: reconcile(db, Scope.quick()))),
        ]
        floor = rows[0][1]
        print(f"\n{entries:,} entries, {args.accounts:,} accounts, {args.days} days; best of {args.repeat}\n")
        print("| measurement | seconds | ratio to the floor |")
        print("|---|---:|---:|")
        for label, seconds in rows:
            print(f"| {label} | {seconds:.2f} | {seconds / floor:.2f} |")
        assert set(full.checks) == set(CHECK_NAMES)
    finally:
        db.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
