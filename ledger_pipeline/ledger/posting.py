"""The posting path in Python: one balanced transaction through the SQL function post_transaction."""

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

import psycopg

from ..platform.errors import LedgerError


class PostingError(LedgerError):
    pass


@dataclass(frozen=True)
class Entry:
    account_id: uuid.UUID
    entry_type: str  # 'debit' or 'credit'
    amount: Decimal


def post_transaction(
    conn: psycopg.Connection,
    transaction_code: str,
    entries: Sequence[Entry],
    description: Optional[str] = None,
    initiated_by: Optional[uuid.UUID] = None,
    metadata: Optional[dict] = None,
    created_at: Optional[dt.datetime] = None,
) -> uuid.UUID:
    """Posts one balanced transaction through the SQL function post_transaction.

    Runs in the caller's transaction (a savepoint, so a refusal leaves the caller's transaction
    usable and nothing of this posting written).
    """
    payload = [
        {"account_id": str(e.account_id), "entry_type": e.entry_type, "amount": str(e.amount)}
        for e in entries
    ]
    try:
        with conn.transaction():
            row = conn.execute(
                "SELECT post_transaction(%s, %s::jsonb, %s, %s, %s::jsonb, %s)",
                (transaction_code, json.dumps(payload), description, initiated_by,
                 json.dumps(metadata or {}), created_at),
            ).fetchone()
    except (psycopg.errors.CheckViolation, psycopg.errors.ForeignKeyViolation) as exc:
        raise PostingError(exc.diag.message_primary or str(exc)) from None
    return row[0]


def house_account(conn: psycopg.Connection, code: str, name: str, account_type: str, currency: str) -> uuid.UUID:
    """A house account (no owner) by code, opened on first use (FX clearing, VAT payable)."""
    conn.execute(
        "INSERT INTO accounts (code, name, account_type, currency) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (code) DO NOTHING",
        (code, name, account_type, currency),
    )
    return conn.execute("SELECT id FROM accounts WHERE code = %s", (code,)).fetchone()[0]
