"""Seals: a SHA-256 chain over the audit log, computed in PostgreSQL (audit_seal(), migration 009)
so that no audit row passes through Python. Each seal covers the rows whose writing transaction
ended before its snapshot's xmin and after the previous seal's, so no row can still appear inside
a sealed range and a rolled-back row is never mistaken for a deleted one."""

import datetime as dt
from dataclasses import dataclass

from psycopg.rows import class_row

from ..platform.db import LedgerDatabase


@dataclass(frozen=True)
class Seal:
    seal_no: int
    from_txid: int
    to_txid: int
    row_count: int
    first_created_at: dt.datetime | None
    last_created_at: dt.datetime | None
    prev_hash: str
    hash: str
    sealed_at: dt.datetime


COLUMNS = ", ".join(Seal.__dataclass_fields__)


def seal(db: LedgerDatabase) -> Seal | None:
    """Seals the audit rows that became final since the last seal; None when there were none."""
    with db.system_context() as conn:
        return conn.cursor(row_factory=class_row(Seal)).execute(f"SELECT {COLUMNS} FROM audit_seal()").fetchone()


def head(db: LedgerDatabase) -> Seal | None:
    """The newest seal, the head of the chain."""
    with db.system_context() as conn:
        return conn.cursor(row_factory=class_row(Seal)).execute(
            f"SELECT {COLUMNS} FROM audit_seals ORDER BY seal_no DESC LIMIT 1"
        ).fetchone()
