"""Exchange rates and currency conversions.

A conversion never moves two currencies in one balanced set of entries: it is one ledger
transaction of two legs, each balanced in its own currency through that currency's FX clearing
account (as Formance, TigerBeetle and Blnk post exchanges), with what was asked for (the original
currency and amount, the rate, its source) in the transaction's metadata, where the check
fx_conversions_consistent compares it with the legs and with exchange_rates.
"""

import csv
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Optional

import psycopg

from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from .currencies import minor_units, quantum
from .posting import Entry, PostingError, house_account, post_transaction

RATE_COLUMNS = ("base", "quote", "rate", "as_of", "source")
MAX_REPORTED = 20  # bad rows named in one error; the count says how many more


@dataclass(frozen=True)
class Rate:
    base: str
    quote: str
    rate: Decimal
    as_of: dt.datetime
    source: str


def parse_rates(path: Path) -> list[Rate]:
    """Every row of a rates CSV (header base,quote,rate,as_of,source), or a LedgerError naming
    each bad line and what is wrong with it. Nothing is loaded unless every row is good."""
    try:
        handle = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"cannot read the rates file {path}: {exc.strerror}") from None
    rates, problems, seen = [], [], {}
    with handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != RATE_COLUMNS:
            raise LedgerError(f"{path}: the first line must be the header {','.join(RATE_COLUMNS)},"
                              f" not {','.join(reader.fieldnames or ['(nothing)'])}")
        for row in reader:
            line = reader.line_num
            try:
                rate = _rate(row)
            except ValueError as exc:
                problems.append(f"line {line}: {exc}")
                continue
            key = (rate.base, rate.quote, rate.as_of, rate.source)
            if key in seen:
                problems.append(f"line {line}: the same rate as line {seen[key]} (base, quote, as_of, source)")
                continue
            seen[key] = line
            rates.append(rate)
    if problems:
        more = f" (and {len(problems) - MAX_REPORTED} more)" if len(problems) > MAX_REPORTED else ""
        raise LedgerError(f"{path}: {len(problems)} bad rows, nothing loaded{more}:\n  "
                          + "\n  ".join(problems[:MAX_REPORTED]))
    return rates


def _rate(row: dict) -> Rate:
    if None in row or any(row.get(c) is None for c in RATE_COLUMNS):
        raise ValueError(f"expected {len(RATE_COLUMNS)} fields ({','.join(RATE_COLUMNS)})")
    base, quote = row["base"].strip().upper(), row["quote"].strip().upper()
    for code in (base, quote):
        try:
            minor_units(code)
        except LedgerError as exc:
            raise ValueError(str(exc)) from None
    if base == quote:
        raise ValueError(f"base and quote are both {base}")
    try:
        rate = Decimal(row["rate"].strip())
    except InvalidOperation:
        raise ValueError(f"rate is not a number: {row['rate']!r}") from None
    if not rate.is_finite() or rate <= 0:
        raise ValueError(f"rate must be a positive number, not {row['rate']!r}")
    try:
        as_of = dt.datetime.fromisoformat(row["as_of"].strip())
    except ValueError:
        raise ValueError(f"as_of is not an ISO 8601 timestamp: {row['as_of']!r}") from None
    if as_of.tzinfo is None:
        raise ValueError(f"as_of needs a time zone (e.g. 2026-11-27T00:00:00Z): {row['as_of']!r}")
    source = row["source"].strip()
    if not source:
        raise ValueError("source is empty")
    return Rate(base, quote, rate, as_of, source)


def load_rates(db: LedgerDatabase, path: Path) -> int:
    """Loads a rates CSV in one transaction: every row, or (on any bad row) none."""
    rates = parse_rates(path)
    try:
        with db.system_context() as conn:
            write_rates(conn, rates)
    except psycopg.errors.UniqueViolation as exc:
        raise LedgerError(f"{path}: nothing loaded, a rate is already in exchange_rates: "
                          f"{exc.diag.message_detail or exc}") from None
    return len(rates)


def write_rates(conn: psycopg.Connection, rates: list[Rate]) -> None:
    with conn.cursor().copy("COPY exchange_rates (base, quote, rate, as_of, source) FROM STDIN") as copy:
        for r in rates:
            copy.write_row((r.base, r.quote, r.rate, r.as_of, r.source))


def clearing_account(conn: psycopg.Connection, currency: str) -> uuid.UUID:
    """The house FX clearing account of a currency (equity: it carries the house's position in
    that currency, which may be either sign), opened on first use."""
    return house_account(conn, f"FX-CLEARING-{currency}", f"FX clearing ({currency})", "equity", currency)


def convert(amount: Decimal, rate: Decimal, to_currency: str) -> Decimal:
    """amount * rate at the quote currency's minor unit, halves away from zero (as SQL round)."""
    return (amount * rate).quantize(quantum(to_currency), rounding=ROUND_HALF_UP)


def post_conversion(
    conn: psycopg.Connection,
    from_account: uuid.UUID,
    to_account: uuid.UUID,
    amount: Decimal,
    rate: Decimal,
    rate_source: str,
    rate_as_of: Optional[dt.datetime] = None,
    to_amount: Optional[Decimal] = None,
    description: Optional[str] = None,
    initiated_by: Optional[uuid.UUID] = None,
    created_at: Optional[dt.datetime] = None,
) -> uuid.UUID:
    """Moves ``amount`` out of ``from_account`` and its value at ``rate`` into ``to_account``, as
    one transaction of two legs through the FX clearing accounts. ``to_amount`` defaults to the
    converted amount (a caller passes its own only to record what a counterparty delivered)."""
    accounts = dict(conn.execute(
        "SELECT id, (currency, account_type) FROM accounts WHERE id = ANY(%s)", ([from_account, to_account],)
    ).fetchall())
    if from_account not in accounts or to_account not in accounts:
        raise PostingError("unknown account in conversion")
    (from_currency, from_type), (to_currency, to_type) = accounts[from_account], accounts[to_account]
    if from_currency == to_currency:
        raise PostingError(f"a conversion needs two currencies, both accounts are {from_currency}")
    if amount <= 0 or amount != amount.quantize(quantum(from_currency)):
        raise PostingError(f"amount {amount} is not a positive amount of {from_currency}")
    received = convert(amount, rate, to_currency) if to_amount is None else to_amount
    if received <= 0:
        raise PostingError(f"{amount} {from_currency} at {rate} is nothing in {to_currency}")
    out_side = "debit" if from_type in ("liability", "equity", "revenue") else "credit"
    in_side = "credit" if to_type in ("liability", "equity", "revenue") else "debit"
    flip = {"debit": "credit", "credit": "debit"}
    legs = [
        Entry(from_account, out_side, amount),
        Entry(clearing_account(conn, from_currency), flip[out_side], amount),
        Entry(to_account, in_side, received),
        Entry(clearing_account(conn, to_currency), flip[in_side], received),
    ]
    metadata = {"fx": {
        "from_currency": from_currency, "from_amount": str(amount), "to_currency": to_currency,
        "to_amount": str(received), "rate": str(rate), "rate_source": rate_source,
        "rate_as_of": rate_as_of.isoformat() if rate_as_of else None,
    }}
    return post_transaction(conn, "FX_CONVERSION", legs, description=description or
                            f"convert {amount} {from_currency} to {to_currency}",
                            initiated_by=initiated_by, metadata=metadata, created_at=created_at)
