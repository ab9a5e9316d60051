import threading
from decimal import Decimal

import pytest
from conftest import add_account

from ledger_pipeline.ledger.posting import Entry, PostingError, post_transaction


def snapshot(ledger) -> tuple:
    with ledger.system_context() as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM transactions), (SELECT count(*) FROM entries),"
            " (SELECT count(*) FROM audit_log), (SELECT array_agg(balance ORDER BY code) FROM accounts)"
        ).fetchone()


def balances(ledger) -> dict:
    with ledger.system_context() as conn:
        return dict(conn.execute("SELECT code, balance FROM accounts"))


def test_balanced_posting_moves_balances_in_their_normal_sign(ledger, two_users):
    with ledger.system_context() as conn:
        fees = add_account(conn, "FEES-USD", "revenue")
        post_transaction(conn, "FEE", [Entry(two_users.wallet_a, "debit", Decimal("2.5")),
                                       Entry(fees, "credit", Decimal("2.5"))])
        post_transaction(conn, "WITHDRAW", [Entry(two_users.wallet_b, "debit", Decimal("20")),
                                            Entry(two_users.cash, "credit", Decimal("20"))])
    assert balances(ledger) == {"CASH-USD": Decimal("130.0000"), "WALLET-A": Decimal("97.5000"),
                                "WALLET-B": Decimal("30.0000"), "FEES-USD": Decimal("2.5000")}


@pytest.mark.parametrize("entries, message", [
    (lambda u: [Entry(u.cash, "debit", Decimal("10")), Entry(u.wallet_a, "credit", Decimal("9.99"))],
     "unbalanced transaction: USD debits 10.0000 <> credits 9.9900"),
    (lambda u: [Entry(u.cash, "debit", Decimal("10"))],
     "at least two entries"),
    (lambda u: [Entry(u.cash, "debit", Decimal("10")), Entry(u.eur, "credit", Decimal("10"))],
     "unbalanced transaction: EUR debits 0.0000 <> credits 10.0000; USD debits 10.0000 <> credits 0.0000"),
    (lambda u: [Entry(u.cash, "debit", Decimal("0")), Entry(u.wallet_a, "credit", Decimal("0"))],
     "amount must be positive"),
    (lambda u: [Entry(u.cash, "debit", Decimal("1")), Entry(u.a, "credit", Decimal("1"))],
     "unknown account"),
    (lambda u: [Entry(u.cash, "debet", Decimal("1")), Entry(u.wallet_a, "credit", Decimal("1"))],
     "entry_type must be debit or credit, not debet"),
])
def test_invalid_postings_are_refused_and_write_nothing(ledger, two_users, entries, message):
    with ledger.system_context() as conn:
        two_users.eur = add_account(conn, "CASH-EUR", "asset", currency="EUR")
    before = snapshot(ledger)
    with pytest.raises(PostingError, match=message):
        with ledger.system_context() as conn:
            post_transaction(conn, "ADJUST", entries(two_users))
    assert snapshot(ledger) == before


def test_concurrent_postings_to_the_same_accounts_all_land(ledger, two_users):
    workers, per_worker = ledger.max_connections, 25
    errors = []

    def transfer_back_and_forth(i: int):
        src, dst = (two_users.wallet_a, two_users.wallet_b) if i % 2 else (two_users.wallet_b, two_users.wallet_a)
        try:
            for _ in range(per_worker):
                with ledger.system_context() as conn:
                    post_transaction(conn, "TRANSFER", [Entry(src, "debit", Decimal("1")),
                                                        Entry(dst, "credit", Decimal("1")),
                                                        Entry(two_users.cash, "debit", Decimal("0.01")),
                                                        Entry(src, "credit", Decimal("0.01"))])
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=transfer_back_and_forth, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    moved = Decimal(workers * per_worker) * Decimal("0.01")
    assert balances(ledger) == {"CASH-USD": Decimal(150) + moved, "WALLET-A": Decimal(100) + moved / 2,
                                "WALLET-B": Decimal(50) + moved / 2}


def test_a_posting_dated_infinity_is_refused(ledger, two_users):
    with pytest.raises(PostingError, match="created_at_check"):
        with ledger.system_context() as conn:
            post_transaction(conn, "DEPOSIT", [Entry(two_users.cash, "debit", Decimal(1)),
                                               Entry(two_users.wallet_a, "credit", Decimal(1))],
                             created_at="infinity")
