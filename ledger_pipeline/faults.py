"""Faults a demo can inject into its ledger, so a user can watch each reconciliation check fire.

Each is written around the posting path, as a buggy or malicious writer would, and keeps the
stored balances in step with the entries unless drifting them is the fault, so that it trips only
the checks it is meant to:

| fault               | trips                                                   |
|---------------------|---------------------------------------------------------|
| unbalanced-pair     | transactions_balanced (the two offset each other)       |
| negative-liability  | liability_balances_non_negative                         |
| balance-drift       | stored_balances_match_entries                           |
| one-sided-entry     | transactions_balanced and debits_equal_credits          |
"""

import uuid
from decimal import Decimal

import psycopg

from .db import LedgerDatabase
from .ledger import DemoLedger, Entry, post_transaction, wallet_code

def inject(db: LedgerDatabase, demo: DemoLedger, fault: str) -> dict:
    """Injects one fault into the demo ledger; returns what it wrote, for the user to look for."""
    with db.system_context() as conn:
        return _FAULTS[fault](conn, demo)


def _write(conn: psycopg.Connection, description: str, legs: list[Entry]) -> uuid.UUID:
    """A transaction with the given entries and balances moved to match, unchecked."""
    txn = conn.execute(
        "INSERT INTO transactions (transaction_code, description, posted_at) VALUES ('ADJUST', %s, now())"
        " RETURNING id",
        (description,),
    ).fetchone()[0]
    for leg in legs:
        conn.execute(
            "INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
            " SELECT %s, id, %s, %s, currency FROM accounts WHERE id = %s",
            (txn, leg.entry_type, leg.amount, leg.account_id),
        )
        conn.execute(
            "UPDATE accounts SET balance = balance + balance_delta(account_type, %s, %s), updated_at = now()"
            " WHERE id = %s",
            (leg.entry_type, leg.amount, leg.account_id),
        )
    return txn


def _unbalanced_pair(conn, demo):
    cash, wallet = demo.house("CASH", "USD"), demo.wallet(demo.users[0], "USD")
    first = _write(conn, "demo fault: unbalanced, 1 of 2",
                   [Entry(cash, "debit", Decimal("10.00")), Entry(wallet, "credit", Decimal("7.00"))])
    second = _write(conn, "demo fault: unbalanced, 2 of 2",
                    [Entry(cash, "debit", Decimal("7.00")), Entry(wallet, "credit", Decimal("10.00"))])
    return {"fault": "unbalanced-pair", "transaction_ids": [first, second], "currency": "USD",
            "imbalance": [Decimal("-3.00"), Decimal("3.00")]}


def _negative_liability(conn, demo):
    owner = demo.users[1]
    wallet, other = demo.wallet(owner, "USD"), demo.wallet(demo.users[2 % len(demo.users)], "USD")
    held = conn.execute("SELECT balance FROM accounts WHERE id = %s", (wallet,)).fetchone()[0]
    amount = held + Decimal("25.00")
    txn = post_transaction(conn, "TRANSFER", [Entry(wallet, "debit", amount), Entry(other, "credit", amount)],
                           description="demo fault: overdraft")
    return {"fault": "negative-liability", "account_id": wallet, "account_code": wallet_code(owner, "USD"),
            "transaction_ids": [txn], "balance": Decimal("-25.00")}


def _balance_drift(conn, demo):
    account = demo.house("FEES", "EUR")
    conn.execute("UPDATE accounts SET balance = balance + 13.37, updated_at = now() WHERE id = %s", (account,))
    return {"fault": "balance-drift", "account_id": account, "account_code": demo.house_code("FEES", "EUR"),
            "drift": Decimal("13.37")}


def _one_sided_entry(conn, demo):
    cash = demo.house("CASH", "EUR")
    txn = _write(conn, "demo fault: one-sided entry", [Entry(cash, "debit", Decimal("42.00"))])
    return {"fault": "one-sided-entry", "transaction_ids": [txn], "account_id": cash, "currency": "EUR",
            "imbalance": Decimal("-42.00")}


_FAULTS = {
    "unbalanced-pair": _unbalanced_pair,
    "negative-liability": _negative_liability,
    "balance-drift": _balance_drift,
    "one-sided-entry": _one_sided_entry,
}
FAULTS = tuple(_FAULTS)
