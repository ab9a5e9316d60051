"""What the audit log costs a posting, and what row-level security costs a user's history.

Builds a ledger set-based in a scratch database: --users wallets, one house account, --entries
entries (wallet-to-wallet transfers over 30 days, so each user has about entries/users of
history) and the audit log their inserts would have written, in time order. Then, for --rounds
rounds, each side of each comparison in turn:

- posting: --clients threads post transfers between random wallets through post_transaction, in
  system context on behalf of the sender (the application's path), for --seconds with the three
  audit triggers enabled and for --seconds with them disabled (ALTER TABLE ... DISABLE TRIGGER:
  foreign keys and every other trigger stay on, which session_replication_role would not);
- history: --history-users users' latest 50 entries with their transactions, as ledger_app in the
  user's context (row-level security) and as ledger_system with the same filter written out.

With --before VERSION, a copy of the scratch database with migration VERSION and newer rolled back
is measured in the same rounds, so a migration's effect shows side by side.

Usage: uv run python benchmarks/posting.py [--seconds 3] [--clients 4] [--history-users 100] [--rounds 10]
       [--before 008]
It uses LEDGER_DATABASE_URL's server, or the embedded one, and drops its scratch databases after.
"""

import argparse
import random
import threading
import time
from decimal import Decimal
from statistics import median
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.db import LedgerDatabase, database_url
from ledger_pipeline.platform.migrations import Runner

SYNTHETIC_LEDGER = """
INSERT INTO accounts (user_id, code, name, account_type, currency)
SELECT CASE WHEN n > 0 THEN gen_random_uuid() END, 'BENCH-' || n, 'bench ' || n,
       CASE WHEN n = 0 THEN 'asset' ELSE 'liability' END, 'USD'
FROM generate_series(0, {users}) n;

CREATE TEMP TABLE wallet AS
SELECT row_number() OVER (ORDER BY id) AS n, id, user_id FROM accounts WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX ON wallet (n);

CREATE TEMP TABLE planned AS
SELECT gen_random_uuid() AS id, now() - random() * interval '30 days' AS created_at,
       src, 1 + (src + floor(random() * ({users} - 1))::int) % {users} AS dst,
       round((random() * 100 + 1)::numeric, 2) AS amount
FROM (SELECT 1 + floor(random() * {users})::int AS src FROM generate_series(1, {entries} / 2)) s;

INSERT INTO transactions (id, transaction_code, initiated_by, description, created_at, posted_at)
SELECT p.id, 'TRANSFER', w.user_id, 'transfer', p.created_at, p.created_at
FROM planned p JOIN wallet w ON w.n = p.src
ORDER BY p.created_at;

INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)
SELECT p.id, w.id, side.entry_type, p.amount, 'USD', p.created_at
FROM planned p
CROSS JOIN LATERAL (VALUES (p.src, 'debit'), (p.dst, 'credit')) AS side (n, entry_type)
JOIN wallet w ON w.n = side.n
ORDER BY p.created_at;

UPDATE accounts a
SET balance = s.balance
FROM (SELECT e.account_id, sum(balance_delta('liability', e.entry_type, e.amount)) AS balance
      FROM entries e GROUP BY e.account_id) s
WHERE a.id = s.account_id;

-- The inserts' audit rows, as the triggers would have written them: the posting benchmark then
-- maintains indexes of a ledger-sized log, not of an empty one.
INSERT INTO audit_log (table_name, operation, record_id, user_id, new_data, db_role, created_at)
SELECT table_name, 'INSERT', id, user_id, snapshot, 'ledger_system', created_at AT TIME ZONE 'UTC'
FROM (SELECT 'transactions' AS table_name, t.id, t.initiated_by AS user_id, to_jsonb(t) AS snapshot,
             t.created_at
      FROM transactions t
      UNION ALL
      SELECT 'entries', e.id, t.initiated_by, to_jsonb(e), e.created_at
      FROM entries e JOIN transactions t ON t.id = e.transaction_id) s
ORDER BY created_at;
"""

AUDIT_TRIGGERS = {"accounts": "trigger_audit_accounts", "transactions": "trigger_audit_transactions",
                  "entries": "trigger_audit_entries"}

# The application's query: a user's latest entries with their transactions.
HISTORY = """
SELECT t.id, t.transaction_code, t.description, e.entry_type, e.amount, e.currency, e.created_at, a.code
FROM entries e
JOIN accounts a ON a.id = e.account_id
JOIN transactions t ON t.id = e.transaction_id
{where}
ORDER BY e.created_at DESC, e.id
LIMIT 50
"""
HISTORY_UNDER_RLS = HISTORY.format(where="")
HISTORY_FILTERED = HISTORY.format(where="WHERE a.user_id = %s")


def set_audit(url: str, enabled: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for table, trigger in AUDIT_TRIGGERS.items():
            conn.execute(sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                sql.Identifier(table), sql.SQL("ENABLE" if enabled else "DISABLE"), sql.Identifier(trigger)))


def post_for(db: LedgerDatabase, wallets: list, seconds: float, clients: int) -> int:
    """Transfers posted by ``clients`` threads in ``seconds``."""
    counts = [0] * clients
    deadline = time.perf_counter() + seconds

    def client(i: int) -> None:
        rng = random.Random(i)
        while time.perf_counter() < deadline:
            (src, user), (dst, _) = rng.sample(wallets, 2)
            with db.system_context(on_behalf_of=user) as conn:
                post_transaction(conn, "TRANSFER", [Entry(src, "debit", Decimal("1.00")),
                                                    Entry(dst, "credit", Decimal("1.00"))], initiated_by=user)
            counts[i] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def audit_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM audit_log").fetchone()[0]


def history_seconds(db: LedgerDatabase, users: list, under_rls: bool) -> tuple[float, list]:
    """Time spent in the history query alone (not in entering the context), and its rows."""
    spent, results = 0.0, []
    for user in users:
        context = db.user_context(user) if under_rls else db.system_context(on_behalf_of=user)
        with context as conn:
            start = time.perf_counter()
            rows = (conn.execute(HISTORY_UNDER_RLS) if under_rls else conn.execute(HISTORY_FILTERED, (user,))).fetchall()
            spent += time.perf_counter() - start
        results.append(rows)
    return spent, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3, help="each posting phase")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--history-users", type=int, default=100)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--before", metavar="VERSION",
                        help="also measure, in the same rounds, a copy with migration VERSION and newer rolled back")
    args = parser.parse_args()

    server = database_url()
    admin = urlunsplit(urlsplit(server)._replace(path="/postgres"))
    name = "ledger_benchmark_posting"
    schemas = {"as migrated": name} | ({f"before {args.before}": f"{name}_before"} if args.before else {})
    urls = {label: urlunsplit(urlsplit(server)._replace(path=f"/{db}")) for label, db in schemas.items()}

    def drop_all() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            for db in schemas.values():
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))

    drop_all()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dbs = {}
    try:
        Runner(urls["as migrated"]).up()
        started = time.perf_counter()
        with psycopg.connect(urls["as migrated"]) as conn:
            conn.execute("SET session_replication_role = replica")  # the audit rows are written set-based
            conn.execute(sql.SQL(SYNTHETIC_LEDGER).format(users=args.users, entries=args.entries))
        with psycopg.connect(urls["as migrated"], autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            version = conn.execute("SHOW server_version").fetchone()[0]
            wallets = conn.execute("SELECT id, user_id FROM accounts WHERE user_id IS NOT NULL").fetchall()
            entries, logged = conn.execute("SELECT (SELECT count(*) FROM entries), (SELECT count(*) FROM audit_log)").fetchone()
        if args.before:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY = FILE_COPY").format(
                    sql.Identifier(schemas[f"before {args.before}"]), sql.Identifier(name)))
            Runner(urls[f"before {args.before}"]).down(args.before)
            with psycopg.connect(urls[f"before {args.before}"], autocommit=True) as conn:
                conn.execute("ANALYZE")
        print(f"built {entries:,} entries and {logged:,} audit rows in {time.perf_counter() - started:.0f} s"
              f" (PostgreSQL {version})")

        # Other work on the machine swings throughput by more than the effects measured, so every
        # side of every comparison runs in turn in short phases, and each round's pair is compared
        # too, not only the bests.
        dbs = {label: LedgerDatabase(url, max_connections=args.clients) for label, url in urls.items()}
        users = [user for _, user in random.Random(0).sample(wallets, args.history_users)]
        rates = {(label, audited): [] for label in urls for audited in (True, False)}
        history = {(label, under_rls): [] for label in urls for under_rls in (True, False)}
        for r in range(args.rounds):
            for label, url in urls.items():
                for audited in (True, False) if r % 2 == 0 else (False, True):
                    set_audit(url, audited)
                    before = audit_rows(url)
                    posted = post_for(dbs[label], wallets, args.seconds, args.clients)
                    written = audit_rows(url) - before
                    assert written == (5 * posted if audited else 0), (label, audited, posted, written)
                    rates[label, audited].append(posted / args.seconds)
                set_audit(url, True)
        expected = {}  # each copy has had its own postings
        for label in urls:
            history_seconds(dbs[label], users, True)  # warm the caches and the plans
            expected[label] = history_seconds(dbs[label], users, False)[1]
        for r in range(args.rounds):
            for label in urls:
                for under_rls in (True, False) if r % 2 == 0 else (False, True):
                    spent, rows = history_seconds(dbs[label], users, under_rls)
                    assert rows == expected[label], f"{label}: the history queries disagree"
                    history[label, under_rls].append(1000 * spent / len(users))
        lengths = sorted(len(rows) for rows in expected["as migrated"])

        print(f"\n{entries:,} entries, {args.users:,} users, PostgreSQL {version}; {args.clients} clients;"
              f" {args.rounds} rounds, each {args.seconds:g} s of posting each way\n")
        print(f"| schema | measurement | with | without | ratio of the bests | median ratio of the {args.rounds}"
              " rounds | seed's claim |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for label in urls:
            on, off = rates[label, True], rates[label, False]
            rls, plain = history[label, True], history[label, False]
            print(f"| {label} | posting, transactions/s: audit triggers on / off | {max(on):.0f} | {max(off):.0f} |"
                  f" {max(off) / max(on):.2f}x | {median([b / a for a, b in zip(on, off)]):.2f}x | ~1.05x |")
            print(f"| {label} | history, ms per user: row-level security / explicit filter | {min(rls):.2f} |"
                  f" {min(plain):.2f} | {min(rls) / min(plain):.2f}x | {median([a / b for a, b in zip(rls, plain)]):.2f}x"
                  " | <1.01x |")
        print(f"\nhistory rows per user: {lengths[0]}-{lengths[-1]}; transactions/s per round:")
        for (label, audited), values in rates.items():
            print(f"  {label}, audit {'on' if audited else 'off'}: {[round(x) for x in values]}")
    finally:
        for db in dbs.values():
            db.close()
        drop_all()


if __name__ == "__main__":
    main()
