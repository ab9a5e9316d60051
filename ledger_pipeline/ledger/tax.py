"""Taxed postings and the tax report: a transaction code with a jurisdiction and a VAT rate
(migration 012) makes every posting under it carry a VAT leg to the jurisdiction's VAT payable
account; the report sums them per day, jurisdiction and currency."""

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Optional

import psycopg
import pyarrow as pa

from ..platform.db import LedgerDatabase
from ..platform.exports import write_table
from ..platform.sql_files import render
from .currencies import quantum
from .posting import Entry, PostingError, house_account, post_transaction


def vat_payable_account(conn: psycopg.Connection, jurisdiction: str, currency: str) -> uuid.UUID:
    """The VAT owed to a jurisdiction in a currency (a liability), opened on first use; the view
    taxed_postings knows it by its code."""
    return house_account(conn, f"VAT-PAYABLE-{jurisdiction}-{currency}", f"VAT payable ({jurisdiction}, {currency})",
                         "liability", currency)


def post_taxed(
    conn: psycopg.Connection,
    transaction_code: str,
    payer_account: uuid.UUID,
    revenue_account: uuid.UUID,
    base: Decimal,
    vat: Optional[Decimal] = None,
    description: Optional[str] = None,
    initiated_by: Optional[uuid.UUID] = None,
    created_at: Optional[dt.datetime] = None,
) -> uuid.UUID:
    """Charges ``payer_account`` the base plus VAT: the base to ``revenue_account``, the VAT (the
    base times the code's rate, at the currency's minor unit, unless given) to VAT payable."""
    row = conn.execute(
        "SELECT c.tax_jurisdiction, c.vat_rate, a.currency FROM transaction_codes c, accounts a"
        " WHERE c.code = %s AND a.id = %s",
        (transaction_code, revenue_account),
    ).fetchone()
    if row is None or row[1] is None:
        raise PostingError(f"{transaction_code} is not a taxed transaction code (or the revenue account is unknown)")
    jurisdiction, rate, currency = row
    if vat is None:
        vat = (base * rate).quantize(quantum(currency), rounding=ROUND_HALF_UP)
    legs = [Entry(payer_account, "debit", base + vat), Entry(revenue_account, "credit", base)]
    if vat:
        legs.append(Entry(vat_payable_account(conn, jurisdiction, currency), "credit", vat))
    metadata = {"tax": {"jurisdiction": jurisdiction, "vat_rate": str(rate), "base": str(base), "vat": str(vat)}}
    return post_transaction(conn, transaction_code, legs, description=description, initiated_by=initiated_by,
                            metadata=metadata, created_at=created_at)


REPORT_COLUMNS = ("day", "tax_jurisdiction", "currency", "taxable_base", "vat", "transactions")


def write_report(db: LedgerDatabase, day: dt.date, day_start: dt.datetime, day_end: dt.datetime,
                 directory: Path) -> tuple[list[tuple], Path, Path]:
    """Replaces the day's rows of tax_reports and exports them as <directory>/tax_report/<day>.parquet
    and .csv (platform.exports).
    Returns the rows (one per jurisdiction and currency: few) and the two paths."""
    with db.system_context() as conn:
        cursor = conn.execute(render("tax/report", day=day, day_start=day_start, day_end=day_end))
        while cursor.nextset():
            pass
        rows = cursor.fetchall()
    table = pa.table(
        {name: list(column) for name, column in zip(REPORT_COLUMNS, zip(*rows))} if rows else
        {name: [] for name in REPORT_COLUMNS},
        schema=pa.schema([("day", pa.date32()), ("tax_jurisdiction", pa.string()), ("currency", pa.string()),
                          # exact: amounts keep 4 decimal places, as the ledger's entries do
                          ("taxable_base", pa.decimal128(24, 4)), ("vat", pa.decimal128(24, 4)),
                          ("transactions", pa.int64())]),
    )
    parquet_path, csv_path = write_table(table, directory / "tax_report", day.isoformat())
    return rows, parquet_path, csv_path
