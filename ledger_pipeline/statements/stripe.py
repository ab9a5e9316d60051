"""The built-in CSV profile `stripe`: Stripe's itemized balance-transaction export (the Balance
report, "balance change from activity, itemized"), amounts in whole units (12.34), currencies
lowercase.

How it maps: the Stripe balance of each currency is the "account" (identifier `STRIPE` unless
--account names another), and one file is one statement per currency (csv_statements.py: balances
derived). Each balance transaction gives up to two lines, so a charge can match the customer's
payment and Stripe's fee the fee entry:
  - its gross amount, bank transaction code = reporting_category (charge, refund, payout, ...);
  - its fee, negated (Stripe takes it from the balance), bank transaction code `fee`, when not 0.
Both carry the balance transaction id (txn_...) as bank reference and the source object
(ch_..., re_..., po_...) as end-to-end id; gross - fee must equal net, or the row is refused, so
the lines add up to what moved the balance. Booking date: created (UTC when the export has
created_utc); value date: available_on.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from .csv_statements import Rows
from .model import Line, Statement, StatementError, amount, currency, iso_date

IDENTIFIER = "STRIPE"
ID_COLUMNS = ("balance_transaction_id", "id")
CREATED_COLUMNS = ("created_utc", "created")
AVAILABLE_COLUMNS = ("available_on_utc", "available_on")
REQUIRED = ("currency", "gross", "fee", "net", "reporting_category")
HEADER = set(REQUIRED) | {"balance_transaction_id", "created_utc"}  # what detection looks for


def read(path: Path, account: Optional[str] = None) -> Iterator[Statement | Line]:
    identifier = account or IDENTIFIER

    def first(row: dict, names: tuple) -> Optional[str]:
        column = next((n for n in names if n in row), None)
        return ((row[column] or "").strip() or None) if column else None

    def to_lines(row: dict, where: str) -> list[dict]:
        code = currency(row["currency"], f"{where}: currency")
        gross = amount(row["gross"], code, f"{where}: gross")
        fee = amount(row["fee"], code, f"{where}: fee")
        net = amount(row["net"], code, f"{where}: net")
        if gross - fee != net:
            raise StatementError(where, f"gross {gross} less fee {fee} is not net {net}")
        transaction = first(row, ID_COLUMNS)
        created, available = first(row, CREATED_COLUMNS), first(row, AVAILABLE_COLUMNS)
        if transaction is None or created is None:
            raise StatementError(where, "no balance transaction id" if transaction is None else "no created date")
        common = {
            "account": identifier, "currency": code, "booking_date": iso_date(created, f"{where}: created"),
            "value_date": iso_date(available, f"{where}: available_on") if available else None,
            "bank_reference": transaction, "end_to_end_id": first(row, ("source_id", "source")),
            "counterparty": first(row, ("customer_name", "customer_email")), "counterparty_account": None,
        }
        description = first(row, ("description",))
        lines = []
        if gross != 0 or fee == 0:
            lines.append({**common, "amount": gross, "description": description,
                          "bank_transaction_code": (row["reporting_category"] or "").strip() or None})
        if fee != 0:
            lines.append({**common, "amount": -fee, "description": f"Stripe fee: {description or transaction}",
                          "bank_transaction_code": "fee"})
        return lines

    names = _header(path)
    missing = [c for c in REQUIRED if c not in names]
    for group in (ID_COLUMNS, CREATED_COLUMNS):
        if not any(n in names for n in group):
            missing.append(" or ".join(group))
    if missing:
        raise StatementError("line 1", f"not a Stripe balance-transaction export: no column {', '.join(missing)}")
    return Rows(path, ",", "utf-8-sig", REQUIRED).read(to_lines)


def _header(path: Path) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [name.strip() for name in handle.readline().rstrip("\r\n").split(",")]
    except (OSError, UnicodeDecodeError) as exc:
        raise StatementError("the file", f"cannot be read: {exc}") from None
