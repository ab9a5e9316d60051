"""A plausible demo ledger, written through the posting path (plain postings, FX conversions and
taxed fees)."""

import datetime as dt
import random
import uuid
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import psycopg

from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from . import fx, tax
from .posting import Entry, post_transaction

HOUSE_ACCOUNTS = [
    # code prefix, name, type, currency
    ("CASH", "Bank account (USD)", "asset", "USD"),
    ("CASH", "Bank account (EUR)", "asset", "EUR"),
    ("FEES", "Fee revenue (USD)", "revenue", "USD"),
    ("FEES", "Fee revenue (EUR)", "revenue", "EUR"),
]
CURRENCIES = ("USD", "EUR")
RATE_SOURCE = "demo"
# A taxed fee per currency: the demo's EUR wallets pay French VAT, its USD wallets UK VAT.
TAXED_FEES = {"EUR": "FEE_VAT_FR", "USD": "FEE_VAT_GB"}


@dataclass
class DemoLedger:
    users: list[uuid.UUID]
    accounts: dict[str, uuid.UUID]  # code -> id
    transactions: int
    suffix: str  # house account codes end with it, so several demo ledgers can share a database

    def house_code(self, prefix: str, currency: str) -> str:
        return f"{prefix}-{currency}-{self.suffix}"

    def house(self, prefix: str, currency: str) -> uuid.UUID:
        return self.accounts[self.house_code(prefix, currency)]

    def wallet(self, user: uuid.UUID, currency: str) -> uuid.UUID:
        return self.accounts[wallet_code(user, currency)]


def wallet_code(user: uuid.UUID, currency: str) -> str:
    return f"WALLET-{user.hex[:8]}-{currency}"


def ledger_is_empty(db: LedgerDatabase) -> bool:
    with db.system_context() as conn:
        return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM transactions)").fetchone()[0]


def write_demo_data(
    db: LedgerDatabase, transactions: int, users: int = 6, days: int = 7, seed: Optional[int] = None,
    progress: Callable[[int], None] = lambda written: None,
) -> DemoLedger:
    """Writes house accounts, ``users`` customers with a USD and an EUR wallet each, an EUR/USD
    rate for every day, and ``transactions`` deposits, transfers, fees (some with VAT),
    conversions between a user's wallets and withdrawals spread over the ``days`` whole days before
    today and today so far.

    Wallets are liabilities and never go below zero; every posting goes through post_transaction
    (conversions and taxed fees through their helpers, which use it). The same ``seed`` writes the
    same ledger (and so cannot be written twice into one database). ``progress`` is told how many
    transactions each committed batch wrote.
    """
    if transactions < 0 or users < 2 or days < 1:
        raise LedgerError("demo data needs transactions >= 0, at least 2 users and at least 1 day")
    rng = random.Random(seed)
    suffix = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
    zone = zoneinfo.ZoneInfo(settings.timezone())
    now = dt.datetime.now(dt.timezone.utc)
    # From a midnight in the ledger's time zone: whole days, whatever the hour the demo is written
    # (its bank statements need cash entries on days before today, from the first).
    start = dt.datetime.combine(now.astimezone(zone).date() - dt.timedelta(days=days), dt.time(), zone)
    user_ids = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(users)]

    demo = DemoLedger(user_ids, {}, transactions, suffix)
    with db.system_context() as conn:
        rows = [(None, demo.house_code(prefix, cur), name, kind, cur) for prefix, name, kind, cur in HOUSE_ACCOUNTS]
        rows += [
            (user, wallet_code(user, cur), f"Wallet {user.hex[:8]} ({cur})", "liability", cur)
            for user in user_ids
            for cur in CURRENCIES
        ]
        try:
            for user, code, name, kind, cur in rows:
                demo.accounts[code] = conn.execute(
                    "INSERT INTO accounts (user_id, code, name, account_type, currency)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    (user, code, name, kind, cur),
                ).fetchone()[0]
        except psycopg.errors.UniqueViolation:
            raise LedgerError(f"demo data for seed {seed} is already in this ledger; choose another --seed") from None
        # Shared by every demo ledger of the database, opened here so the demo knows them all.
        for cur in CURRENCIES:
            demo.accounts[f"FX-CLEARING-{cur}"] = fx.clearing_account(conn, cur)
            jurisdiction = conn.execute("SELECT tax_jurisdiction FROM transaction_codes WHERE code = %s",
                                        (TAXED_FEES[cur],)).fetchone()[0]
            demo.accounts[f"VAT-PAYABLE-{jurisdiction}-{cur}"] = tax.vat_payable_account(conn, jurisdiction, cur)

    first_day, last_day = start.astimezone(zone).date(), now.astimezone(zone).date()
    eur_usd = {}  # the day's EUR/USD rate, a gentle random walk
    rate = Decimal("1.0850")
    for n in range((last_day - first_day).days + 1):
        rate = (rate * Decimal(1 + rng.uniform(-0.004, 0.004))).quantize(Decimal("0.0001"))
        eur_usd[first_day + dt.timedelta(days=n)] = rate
    with db.system_context() as conn:
        # Another demo ledger in the same database may have written these days' rates already.
        conn.cursor().executemany(
            "INSERT INTO exchange_rates (base, quote, rate, as_of, source) VALUES ('EUR', 'USD', %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            [(r, dt.datetime.combine(day, dt.time(), zone), RATE_SOURCE) for day, r in eur_usd.items()],
        )
        day_rates = dict(conn.execute(
            "SELECT d, day_rate('EUR', 'USD', d::timestamp AT TIME ZONE %s, (d + 1)::timestamp AT TIME ZONE %s)"
            " FROM unnest(%s::date[]) d",
            (zone.key, zone.key, list(eur_usd)),
        ).fetchall())

    balances = {(u, c): Decimal(0) for u in user_ids for c in CURRENCIES}
    # Chronological value dates, so balances as of any moment stay non-negative too.
    moments = sorted(start + (now - start) * rng.random() for _ in range(transactions))
    batch = 500  # one database transaction per batch keeps memory flat and progress durable
    for offset in range(0, transactions, batch):
        with db.system_context() as conn:
            for number, at in enumerate(moments[offset:offset + batch], offset + 1):
                user, cur = rng.choice(user_ids), rng.choice(CURRENCIES)
                held = balances[user, cur]
                amount = Decimal(rng.randint(100, 50_000)) / 100
                kinds = ["DEPOSIT", "DEPOSIT", "TRANSFER", "FEE", "WITHDRAW", "CONVERT", "FEE_VAT"]
                kind = rng.choice(kinds) if held > Decimal("3.00") else "DEPOSIT"
                if kind == "CONVERT":
                    other_cur = next(c for c in CURRENCIES if c != cur)
                    eur_rate = day_rates[at.astimezone(zone).date()]
                    quote = eur_rate if cur == "EUR" else (1 / eur_rate).quantize(Decimal("0.000001"))
                    amount = min(amount, held)
                    fx.post_conversion(conn, demo.wallet(user, cur), demo.wallet(user, other_cur), amount, quote,
                                       RATE_SOURCE, initiated_by=user, created_at=at, description="demo conversion")
                    balances[user, cur] -= amount
                    balances[user, other_cur] += fx.convert(amount, quote, other_cur)
                    continue
                if kind == "FEE_VAT":
                    base = Decimal("2.00")
                    txn = tax.post_taxed(conn, TAXED_FEES[cur], demo.wallet(user, cur), demo.house("FEES", cur), base,
                                         description="demo fee with VAT", initiated_by=user, created_at=at)
                    balances[user, cur] -= conn.execute(
                        "SELECT amount FROM entries WHERE transaction_id = %s AND account_id = %s",
                        (txn, demo.wallet(user, cur)),
                    ).fetchone()[0]
                    continue
                if kind == "DEPOSIT":
                    legs = [(demo.house("CASH", cur), "debit"), (demo.wallet(user, cur), "credit")]
                    balances[user, cur] += amount
                else:
                    amount = min(amount, held) if kind != "FEE" else min(Decimal("2.50"), held)
                    if kind == "TRANSFER":
                        other = rng.choice([u for u in user_ids if u != user])
                        legs = [(demo.wallet(user, cur), "debit"), (demo.wallet(other, cur), "credit")]
                        balances[other, cur] += amount
                    elif kind == "FEE":
                        legs = [(demo.wallet(user, cur), "debit"), (demo.house("FEES", cur), "credit")]
                    else:
                        legs = [(demo.wallet(user, cur), "debit"), (demo.house("CASH", cur), "credit")]
                    balances[user, cur] -= amount
                # Money in or out of the bank carries a payment reference, as the bank's statement
                # line will (its end-to-end id): the demo statements match on it.
                paid = kind in ("DEPOSIT", "WITHDRAW")
                reference = {"external_reference": f"DEMO-{suffix}-{number:07d}"} if paid else None
                post_transaction(
                    conn, kind, [Entry(acc, side, amount) for acc, side in legs],
                    description=f"demo {kind.lower()}", initiated_by=user, created_at=at, metadata=reference,
                )
        progress(len(moments[offset:offset + batch]))
    return demo
