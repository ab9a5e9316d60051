"""What has been imported, per mapped bank account: statements, lines and the latest closing
balance the bank reported (the bank_statements asset shows it)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Optional

from psycopg.rows import class_row

from ..platform.db import LedgerDatabase
from ..platform.sql_files import text as sql_text


@dataclass(frozen=True)
class AccountOverview:
    identifier: str
    currency: str
    ledger_account: str
    statements: int
    lines: int
    latest_closing_date: Optional[dt.date]
    latest_closing_balance: Optional[Decimal]


def overview(db: LedgerDatabase) -> list[AccountOverview]:
    with db.system_context() as conn:
        return conn.cursor(row_factory=class_row(AccountOverview)).execute(sql_text("statements/overview")).fetchall()
