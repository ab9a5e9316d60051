"""Verified checkpoints and the incremental runs that read them, against from-scratch answers."""

import datetime as dt
import threading
import uuid
from decimal import Decimal

import psycopg
import pytest
from conftest import SYSTEM_LOGIN, add_account, with_user

from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.errors import LedgerError
from ledger_pipeline.reconciliation import Scope, reconcile, reconcile_windows
from ledger_pipeline.reconciliation.late_arrivals import find_stale
from ledger_pipeline.reconciliation.recorder import SAMPLE_SIZE, run_with_items

DAY = dt.timedelta(days=1)
EVERY_ARRIVAL = "0"  # an arrival watermark below every entry

# The four answers computed the plainest way, from every entry, for the window [start, end):
# (check, subject, currency, difference) per mismatch, and per currency for debits_equal_credits.
FROM_SCRATCH = """
WITH touched AS (SELECT DISTINCT account_id FROM entries WHERE created_at >= %(start)s AND created_at < %(end)s)
SELECT 'debits_equal_credits', NULL::uuid, a.currency,
       sum(CASE e.entry_type WHEN 'credit' THEN e.amount ELSE -e.amount END)
FROM entries e JOIN accounts a ON a.id = e.account_id
WHERE e.created_at >= %(start)s AND e.created_at < %(end)s
GROUP BY a.currency
UNION ALL
SELECT 'transactions_balanced', e.transaction_id, a.currency,
       sum(CASE e.entry_type WHEN 'credit' THEN e.amount ELSE -e.amount END)
FROM transactions t JOIN entries e ON e.transaction_id = t.id JOIN accounts a ON a.id = e.account_id
WHERE t.created_at >= %(start)s AND t.created_at < %(end)s
GROUP BY e.transaction_id, a.currency
HAVING sum(CASE e.entry_type WHEN 'credit' THEN e.amount ELSE -e.amount END) <> 0
UNION ALL
SELECT 'liability_balances_non_negative', a.id, a.currency,
       sum(CASE e.entry_type WHEN 'credit' THEN e.amount ELSE -e.amount END)
FROM accounts a JOIN entries e ON e.account_id = a.id
WHERE a.account_type = 'liability' AND e.created_at < %(end)s AND a.id IN (SELECT account_id FROM touched)
GROUP BY a.id
HAVING sum(CASE e.entry_type WHEN 'credit' THEN e.amount ELSE -e.amount END) < 0
UNION ALL
SELECT 'stored_balances_match_entries', a.id, a.currency,
       a.balance - sum(balance_delta(a.account_type, e.entry_type, e.amount))
FROM accounts a JOIN entries e ON e.account_id = a.id
WHERE a.id IN (SELECT account_id FROM touched)
GROUP BY a.id
HAVING a.balance <> sum(balance_delta(a.account_type, e.entry_type, e.amount))
"""


def from_scratch(ledger, start="-infinity", end="infinity", checks=None) -> set:
    with ledger.system_context() as conn:
        rows = set(conn.execute(FROM_SCRATCH, {"start": start, "end": end}))
    return {r for r in rows if checks is None or r[0] in checks}


def recorded(ledger, result) -> set:
    items = run_with_items(ledger, result.run_id, status=None)["items"]
    return {(i["check_name"], i["account_id"] or i["transaction_id"], i["currency"], i["difference"]) for i in items}


def checkpoint_is_exact(ledger) -> bool:
    """The checkpoint holds exactly the totals of the entries below its watermark."""
    with ledger.system_context() as conn:
        return conn.execute(
            "WITH truth AS ("
            "  SELECT account_id, currency, sum(amount) FILTER (WHERE entry_type = 'debit') AS debits,"
            "         sum(amount) FILTER (WHERE entry_type = 'credit') AS credits, count(*) AS entries"
            "  FROM entries WHERE arrival_xid < (SELECT arrival_xid FROM reconciliation_watermark)"
            "  GROUP BY 1, 2)"
            " SELECT count(*) = 0 FROM ("
            "  SELECT account_id, currency, coalesce(debits, 0), coalesce(credits, 0), entries FROM truth"
            "  EXCEPT SELECT account_id, currency, debits, credits, entries FROM reconciliation_checkpoints"
            "  UNION ALL"
            "  SELECT account_id, currency, debits, credits, entries FROM reconciliation_checkpoints"
            "  EXCEPT SELECT account_id, currency, coalesce(debits, 0), coalesce(credits, 0), entries FROM truth) d"
        ).fetchone()[0]


def midnight(days_ago: int) -> dt.datetime:
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - days_ago * DAY


def day(days_ago: int) -> tuple[str, dt.datetime, dt.datetime]:
    start = midnight(days_ago)
    return start.date().isoformat(), start, start + DAY


def one_sided(ledger, account, amount: str, created_at: dt.datetime) -> uuid.UUID:
    """A transaction with a single debit, written around the posting path, its balance moved to match."""
    with ledger.system_context() as conn:
        txn = conn.execute("INSERT INTO transactions (transaction_code, created_at) VALUES ('ADJUST', %s)"
                           " RETURNING id", (created_at,)).fetchone()[0]
        conn.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)"
                     " SELECT %s, id, 'debit', %s, currency, %s FROM accounts WHERE id = %s",
                     (txn, amount, created_at, account))
        conn.execute("UPDATE accounts SET balance = balance + balance_delta(account_type, 'debit', %s) WHERE id = %s",
                     (amount, account))
    return txn


@pytest.fixture
def demo(ledger):
    return write_demo_data(ledger, 200, users=4, days=6, seed=7)


def test_incremental_runs_agree_with_from_scratch_after_backdated_postings_and_a_planted_fault(ledger, demo):
    full = reconcile(ledger, Scope("manual"))
    assert full.status == "passed" and recorded(ledger, full) == from_scratch(ledger) and checkpoint_is_exact(ledger)

    days = [day(n) for n in range(6, -1, -1)]
    for result, (_, start, end) in zip(reconcile_windows(ledger, "daily", days), days):
        assert result.status == "passed"
        assert recorded(ledger, result) == from_scratch(ledger, start, end)
    assert find_stale(ledger, EVERY_ARRIVAL)[0] == []

    # A valid posting backdated into a day that was already reconciled.
    _, start, end = day(3)
    with ledger.system_context() as conn:
        post_transaction(conn, "TRANSFER", [Entry(demo.wallet(demo.users[0], "USD"), "debit", Decimal("0.01")),
                                            Entry(demo.wallet(demo.users[1], "USD"), "credit", Decimal("0.01"))],
                         created_at=start + dt.timedelta(hours=5))
    hourly = reconcile(ledger, Scope.quick())
    assert hourly.status == "passed"
    assert recorded(ledger, hourly) == from_scratch(ledger, checks={"debits_equal_credits"})
    [stale] = find_stale(ledger, EVERY_ARRIVAL)[0]
    assert (stale.partition_key, stale.late_entries) == (day(3)[0], 2)
    again = reconcile(ledger, Scope("daily", start, end), partition_key=day(3)[0])
    assert again.status == "passed" and recorded(ledger, again) == from_scratch(ledger, start, end)
    assert find_stale(ledger, EVERY_ARRIVAL)[0] == []

    # A fault planted into an already-checked day is caught by the next hourly run, and the day goes stale.
    key, start, end = day(2)
    fault = one_sided(ledger, demo.house("CASH", "EUR"), "42.00", start + dt.timedelta(hours=1))
    hourly = reconcile(ledger, Scope.quick())
    assert hourly.status == "failed"
    assert recorded(ledger, hourly) == from_scratch(ledger, checks={"debits_equal_credits"})
    assert [s.partition_key for s in find_stale(ledger, EVERY_ARRIVAL)[0]] == [key]
    rerun = reconcile(ledger, Scope("daily", start, end), partition_key=key)
    assert {n for n, c in rerun.checks.items() if not c.passed} == {"transactions_balanced", "debits_equal_credits"}
    assert recorded(ledger, rerun) == from_scratch(ledger, start, end)
    assert ("transactions_balanced", fault, "EUR", Decimal("-42.00")) in recorded(ledger, rerun)
    assert checkpoint_is_exact(ledger)

    full = reconcile(ledger, Scope("manual"))
    assert full.status == "failed" and recorded(ledger, full) == from_scratch(ledger) and checkpoint_is_exact(ledger)


def test_entries_committed_out_of_order_around_the_watermark_are_not_skipped(ledger, ledger_url, demo):
    assert reconcile(ledger, Scope("manual")).status == "passed"
    cash, eur_cash, eur_wallet = demo.house("CASH", "USD"), demo.house("CASH", "EUR"), demo.wallet(demo.users[0], "EUR")
    early, late = psycopg.connect(ledger_url), psycopg.connect(ledger_url)
    try:
        # The earlier transaction takes its id first and commits last: a one-sided entry.
        txn = early.execute("INSERT INTO transactions (transaction_code) VALUES ('ADJUST') RETURNING id").fetchone()[0]
        early.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
                      " VALUES (%s, %s, 'debit', 5, 'USD')", (txn, cash))
        post_transaction(late, "DEPOSIT", [Entry(eur_cash, "debit", Decimal(7)), Entry(eur_wallet, "credit", Decimal(7))])
        late.commit()
        between = reconcile(ledger, Scope.quick())
        assert between.status == "passed"  # the open transaction's entry is not visible yet
        with ledger.system_context() as conn:
            watermark, early_xid = conn.execute(
                "SELECT (SELECT arrival_xid FROM reconciliation_watermark),"
                " (SELECT max(arrival_xid) FROM entries WHERE transaction_id = %s)", (txn,)).fetchone()
        assert early_xid is None and checkpoint_is_exact(ledger)
        early.execute("UPDATE accounts SET balance = balance + 5 WHERE id = %s", (cash,))
        early.commit()
    finally:
        early.close()
        late.close()
    with ledger.system_context() as conn:
        assert conn.execute("SELECT arrival_xid >= %s::xid8 FROM entries WHERE transaction_id = %s",
                            (watermark, txn)).fetchone()[0]  # it arrived below nothing the checkpoint took in
    after = reconcile(ledger, Scope.quick())
    assert after.status == "failed"
    assert recorded(ledger, after) == from_scratch(ledger, checks={"debits_equal_credits"})
    assert checkpoint_is_exact(ledger)


def test_a_backfill_records_the_same_per_day_outcomes_as_each_day_alone(ledger, demo):
    one_sided(ledger, demo.house("CASH", "USD"), "3.00", midnight(4) + dt.timedelta(hours=2))
    with ledger.system_context() as conn:  # an account touched on one day only, its stored balance drifted
        drifting = add_account(conn, "DRIFTING", "liability", uuid.uuid4())
        post_transaction(conn, "DEPOSIT", [Entry(demo.house("CASH", "USD"), "debit", Decimal(9)),
                                           Entry(drifting, "credit", Decimal(9))], created_at=midnight(1) + DAY / 2)
        conn.execute("UPDATE accounts SET balance = balance + 1 WHERE id = %s", (drifting,))
    # The full run's verdict on the one-sided transaction is what the days after it start from.
    assert reconcile(ledger, Scope("manual")).status == "failed"
    days = [day(n) for n in range(6, -1, -1)]
    together = reconcile_windows(ledger, "backfill", days)
    alone = [reconcile(ledger, Scope("daily", start, end), partition_key=key) for key, start, end in days]
    assert [r.row["partition_key"] for r in together] == [key for key, _, _ in days]
    assert [r.status for r in together] == [r.status for r in alone]
    assert "failed" in {r.status for r in together} and "passed" in {r.status for r in together}
    for a, b in zip(together, alone):
        assert recorded(ledger, a) == recorded(ledger, b)
        assert {k: (c.passed, c.unexpected_count) for k, c in a.checks.items()} == \
            {k: (c.passed, c.unexpected_count) for k, c in b.checks.items()}
        assert (a.row["accounts_checked"], a.row["transactions_checked"], a.row["total_debits"]) == \
            (b.row["accounts_checked"], b.row["transactions_checked"], b.row["total_debits"])


def test_a_run_with_many_mismatches_records_every_one_with_an_exact_count(ledger, ledger_url, demo):
    cash, wallet = demo.house("CASH", "USD"), demo.wallet(demo.users[0], "USD")
    noon_yesterday = midnight(1) + DAY / 2  # inside the day run's period, whatever the time now
    with psycopg.connect(ledger_url) as conn:  # the owner, writing around the posting path in bulk
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "WITH t AS (INSERT INTO transactions (transaction_code, created_at)"
            "           SELECT 'ADJUST', %(at)s FROM generate_series(1, 3000) RETURNING id)"
            " INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, created_at)"
            " SELECT id, side.account, side.kind, side.amount, 'USD', %(at)s"
            " FROM t, (VALUES (%(cash)s::uuid, 'debit', 1.00), (%(wallet)s::uuid, 'credit', 0.99))"
            " AS side (account, kind, amount)",
            {"at": noon_yesterday, "cash": cash, "wallet": wallet},
        )
        conn.execute("UPDATE accounts SET balance = balance + 3000 WHERE id = %s", (cash,))
        conn.execute("UPDATE accounts SET balance = balance + 2970 WHERE id = %s", (wallet,))
    for scope in (Scope("manual"), Scope("daily", midnight(1), midnight(0))):
        result = reconcile(ledger, scope)
        check = result.checks["transactions_balanced"]
        assert (check.passed, check.unexpected_count, len(check.sample)) == (False, 3000, SAMPLE_SIZE)
        items = [i for i in run_with_items(ledger, result.run_id)["items"] if i["check_name"] == "transactions_balanced"]
        assert len(items) == 3000 and {i["difference"] for i in items} == {Decimal("-0.01")}
        # and the USD total; a full run's audit_trail_complete also finds the 9000 rows and 2 balances
        # written around the audit triggers
        assert result.row["mismatch_count"] == 3000 + 1 + (0 if scope.is_period else 9000 + 2)


def test_overlapping_periods_are_refused(ledger):
    start = midnight(2)
    with pytest.raises(LedgerError, match="overlap"):
        reconcile_windows(ledger, "backfill", [("a", start, start + DAY), ("b", start + DAY / 2, start + 2 * DAY)])


def test_no_role_chooses_an_entrys_arrival(ledger_url, ledger, two_users):
    worker = psycopg.connect(with_user(ledger_url, SYSTEM_LOGIN))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        worker.execute("SELECT set_system_context()")
        worker.execute("INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency, arrival_xid)"
                       " VALUES (%s, %s, 'debit', 1, 'USD', '0')", (two_users.deposit_a, two_users.cash))
    worker.close()


def test_runs_side_by_side_while_postings_commit_keep_the_checkpoint_exact(ledger, demo):
    assert reconcile(ledger, Scope("manual")).status == "passed"
    cash, wallet = demo.house("CASH", "USD"), demo.wallet(demo.users[0], "USD")
    results, errors = [], []

    def post():
        for _ in range(60):
            with ledger.system_context() as conn:
                post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(1)), Entry(wallet, "credit", Decimal(1))])

    def run(scope_of):
        try:
            for _ in range(3):
                results.append(scope_of())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=post),
               threading.Thread(target=run, args=(lambda: reconcile(ledger, Scope.quick()),)),
               threading.Thread(target=run, args=(lambda: reconcile(ledger, Scope("daily", midnight(0), midnight(-1))),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == [] and [r.status for r in results] == ["passed"] * 6
    final = reconcile(ledger, Scope.quick())
    assert final.status == "passed" and recorded(ledger, final) == from_scratch(ledger, checks={"debits_equal_credits"})
    assert checkpoint_is_exact(ledger)


def dipping_wallet(ledger, cash, dips_on: int) -> uuid.UUID:
    """A wallet that receives 50 four days ago, pays 60 ``dips_on`` days ago (between 4 and 1),
    so it stands at -10 at that day's end, and receives 100 a day ago: 90 now."""
    with ledger.system_context() as conn:
        wallet = add_account(conn, "WALLET-DIPPING", "liability", uuid.uuid4())
        payee = add_account(conn, "WALLET-PAYEE", "liability", uuid.uuid4())
        for created, legs in [
            (midnight(4), [Entry(cash, "debit", Decimal(50)), Entry(wallet, "credit", Decimal(50))]),
            (midnight(dips_on), [Entry(wallet, "debit", Decimal(60)), Entry(payee, "credit", Decimal(60))]),
            (midnight(1), [Entry(cash, "debit", Decimal(100)), Entry(wallet, "credit", Decimal(100))]),
        ]:
            post_transaction(conn, "TRANSFER", legs, created_at=created + DAY / 2)
    return wallet


def test_a_balance_below_zero_at_a_past_days_end_is_found_though_it_recovered(ledger, demo):
    wallet = dipping_wallet(ledger, demo.house("CASH", "USD"), dips_on=2)
    assert reconcile(ledger, Scope("manual")).status == "passed"  # it stands at 90 now
    days = [day(n) for n in range(6, -1, -1)]
    results = reconcile_windows(ledger, "backfill", days)
    for result, (_, start, end) in zip(results, days):
        assert recorded(ledger, result) == from_scratch(ledger, start, end)
    [failed] = [r for r in results if r.status == "failed"]
    assert failed.row["partition_key"] == day(2)[0]
    assert ("liability_balances_non_negative", wallet, "USD", Decimal(-10)) in recorded(ledger, failed)
