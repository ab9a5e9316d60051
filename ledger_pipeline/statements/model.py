"""What every statement format is read into: statements and their lines, with exact amounts and
dates, each naming where in its file it came from (a line number or an XML element path)."""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from ..ledger.currencies import minor_units, quantum
from ..platform.errors import LedgerError

# Digits with an optional fraction and sign: no exponent, NaN, infinity, spaces or separators.
_AMOUNT = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class StatementError(LedgerError):
    """A file that cannot be imported, and where in it the problem is."""

    def __init__(self, where: str, problem: str):
        super().__init__(f"{where}: {problem}")
        self.where, self.problem = where, problem


@dataclass(frozen=True)
class Statement:
    """One statement of one account. ``key`` numbers the statements of a file from 1; lines name
    their statement by it, and may come before or after it in the stream."""

    key: int
    account_identifier: str
    bank_statement_id: str
    sequence_number: Optional[int]
    page_number: Optional[int]
    currency: str
    # None (both): the file states no balances; the import derives them (see importer.py).
    opening_balance: Optional[Decimal]
    opening_date: dt.date
    closing_balance: Optional[Decimal]
    closing_date: dt.date
    position: str

    @property
    def balances_derived(self) -> bool:
        return self.opening_balance is None


@dataclass(frozen=True)
class Line:
    statement: int  # the key of its Statement
    line_number: int  # from 1 within the statement
    position: str
    booking_date: dt.date
    value_date: Optional[dt.date]
    amount: Decimal  # a credit to the account is positive
    currency: str
    bank_reference: Optional[str]
    end_to_end_id: Optional[str]
    counterparty: Optional[str]
    counterparty_account: Optional[str]
    description: Optional[str]
    bank_transaction_code: Optional[str]
    raw: str


@dataclass(frozen=True)
class Skipped:
    """A record of the file that is not a statement line (a camt.053 entry not yet booked)."""

    position: str
    reason: str


def currency(code: Optional[str], where: str) -> str:
    text = (code or "").strip().upper()
    try:
        minor_units(text)
    except LedgerError:
        raise StatementError(where, f"unknown currency {code!r} (not an ISO 4217 code)") from None
    return text


def amount(text: Optional[str], code: str, where: str) -> Decimal:
    """A plain decimal amount ('1234.5', '-3'), exact, and no finer than the currency's minor unit.
    Formats with other notations normalise to this first."""
    stripped = (text or "").strip()
    if not _AMOUNT.fullmatch(stripped):
        raise StatementError(where, f"not an amount: {text!r}")
    value = Decimal(stripped)
    if value != value.quantize(quantum(code)):
        raise StatementError(where, f"amount {stripped} is finer than {code}'s minor unit ({quantum(code)})")
    return value


def iso_date(text: Optional[str], where: str) -> dt.date:
    """A date as YYYY-MM-DD, or the date part of an ISO 8601 date and time as written."""
    stripped = (text or "").strip()
    if _DATE.fullmatch(stripped[:10]) and (len(stripped) == 10 or stripped[10] in ("T", " ")):
        try:
            return dt.date.fromisoformat(stripped[:10])
        except ValueError:
            pass
    raise StatementError(where, f"not a date: {text!r} (expected YYYY-MM-DD)")
