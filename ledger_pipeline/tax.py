"""Taxed postings: a transaction code with a jurisdiction and a VAT rate (migration 012) makes
every posting under it carry a VAT leg to the jurisdiction's VAT payable account."""

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional

import psycopg

from .currencies import quantum
from .ledger import Entry, PostingError, post_transaction


def vat_payable_account(conn: psycopg.Connection, jurisdiction: str, currency: str) -> uuid.UUID:
    """The VAT owed to a jurisdiction in a currency (a liability), opened on first use; the view
    taxed_postings knows it by its code."""
    code = f"VAT-PAYABLE-{jurisdiction}-{currency}"
    conn.execute(
        "INSERT INTO accounts (code, name, account_type, currency) VALUES (%s, %s, 'liability', %s)"
        " ON CONFLICT (code) DO NOTHING",
        (code, f"VAT payable ({jurisdiction}, {currency})", currency),
    )
    return conn.execute("SELECT id FROM accounts WHERE code = %s", (code,)).fetchone()[0]


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
