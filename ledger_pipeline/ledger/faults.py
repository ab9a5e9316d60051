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
| sub-minor-amount    | amounts_within_currency_precision                       |
| fx-leg-mismatch     | fx_conversions_consistent                               |
| missing-rate        | exchange_rates_available                                |
| vat-off-by-one      | vat_matches_rate                                        |
| stale-cache         | cached_balances_match_ledger (needs LEDGER_REDIS_URL)   |
"""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Optional

import psycopg

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from . import fx, tax
from .balance_cache import BalanceCache
from .demo import DemoLedger, wallet_code
from .posting import Entry, post_transaction


def inject(db: LedgerDatabase, demo: DemoLedger, fault: str, cache: Optional[BalanceCache] = None) -> dict:
    """Injects one fault into the demo ledger; returns what it wrote, for the user to look for."""
    if fault == "stale-cache":
        return _stale_cache(db, demo, cache)
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


def _sub_minor_amount(conn, demo):
    cash, wallet = demo.house("CASH", "USD"), demo.wallet(demo.users[0], "USD")
    amount = Decimal("10.005")  # half a cent
    txn = post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", amount), Entry(wallet, "credit", amount)],
                           description="demo fault: half a cent")
    return {"fault": "sub-minor-amount", "transaction_ids": [txn], "currency": "USD", "amount": amount}


def _fx_leg_mismatch(conn, demo):
    # Between the house cash accounts (assets), so no wallet can go below zero.
    rate = conn.execute(
        "SELECT day_rate('EUR', 'USD', d::timestamp AT TIME ZONE %(tz)s, (d + 1)::timestamp AT TIME ZONE %(tz)s)"
        " FROM (SELECT (now() AT TIME ZONE %(tz)s)::date AS d) today", {"tz": settings.timezone()},
    ).fetchone()[0] or Decimal("1.08")
    amount = Decimal("100.00")
    delivered = fx.convert(amount, rate, "USD") + Decimal("0.05")
    txn = fx.post_conversion(conn, demo.house("CASH", "EUR"), demo.house("CASH", "USD"), amount, rate, "demo",
                             to_amount=delivered, description="demo fault: the USD leg is 5 cents over the rate")
    return {"fault": "fx-leg-mismatch", "transaction_ids": [txn], "rate": rate, "to_amount": delivered}


def _missing_rate(conn, demo):
    # A JPY deposit today: the demo publishes no JPY rate, so today has none to USD.
    owner = demo.users[0]
    cash = conn.execute(
        "INSERT INTO accounts (code, name, account_type, currency) VALUES (%s, 'Bank account (JPY)', 'asset', 'JPY')"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id", (demo.house_code("CASH", "JPY"),),
    ).fetchone()[0]
    wallet = conn.execute(
        "INSERT INTO accounts (user_id, code, name, account_type, currency) VALUES (%s, %s, %s, 'liability', 'JPY')"
        " ON CONFLICT (code) DO UPDATE SET name = excluded.name RETURNING id",
        (owner, wallet_code(owner, "JPY"), f"Wallet {owner.hex[:8]} (JPY)"),
    ).fetchone()[0]
    txn = post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(5000)), Entry(wallet, "credit", Decimal(5000))],
                           description="demo fault: a currency without rates", initiated_by=owner)
    return {"fault": "missing-rate", "transaction_ids": [txn], "currency": "JPY",
            "day": dt.datetime.now(dt.timezone.utc).date()}


def _vat_off_by_one(conn, demo):
    base = Decimal("10.00")
    txn = tax.post_taxed(conn, "FEE_VAT_GB", demo.house("CASH", "USD"), demo.house("FEES", "USD"), base,
                         vat=Decimal("2.01"), description="demo fault: VAT a cent over 20%")
    return {"fault": "vat-off-by-one", "transaction_ids": [txn], "vat": Decimal("2.01"), "expected_vat": Decimal("2.00")}


def _stale_cache(db: LedgerDatabase, demo: DemoLedger, cache: Optional[BalanceCache]) -> dict:
    if cache is None:
        raise LedgerError("the stale-cache fault needs a cache: set LEDGER_REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    wallet = demo.wallet(demo.users[0], "EUR")
    cached = cache.balance(db, wallet)
    with db.system_context() as conn:  # around the posting helper: nothing invalidates the cached balance
        txn = post_transaction(conn, "DEPOSIT", [Entry(demo.house("CASH", "EUR"), "debit", Decimal("5.00")),
                                                 Entry(wallet, "credit", Decimal("5.00"))],
                               description="demo fault: posted without invalidating the cache")
    return {"fault": "stale-cache", "transaction_ids": [txn], "key": cache.balance_key(wallet),
            "cached_balance": cached}


_FAULTS = {
    "unbalanced-pair": _unbalanced_pair,
    "negative-liability": _negative_liability,
    "balance-drift": _balance_drift,
    "one-sided-entry": _one_sided_entry,
    "sub-minor-amount": _sub_minor_amount,
    "fx-leg-mismatch": _fx_leg_mismatch,
    "missing-rate": _missing_rate,
    "vat-off-by-one": _vat_off_by_one,
}
FAULTS = (*_FAULTS, "stale-cache")
