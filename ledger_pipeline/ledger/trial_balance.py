"""The reporting-currency trial balance: each account's balance as of a day's end, in its own
currency and converted at the day's rate, written to trial_balances."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..platform.db import LedgerDatabase
from ..platform.sql_files import render
from . import currencies


@dataclass(frozen=True)
class TypeTotal:
    account_type: str
    accounts: int
    reporting_total: Decimal  # the converted balances' sum, in the reporting currency
    without_rate: int  # accounts whose currency had no rate that day (left unconverted)


def write(db: LedgerDatabase, day: dt.date, day_start: dt.datetime, day_end: dt.datetime) -> list[TypeTotal]:
    """Replaces the day's rows of trial_balances; returns the totals per account type."""
    with db.system_context() as conn:
        cursor = conn.execute(render("trial_balance/write", day=day, day_start=day_start, day_end=day_end,
                                     reporting_currency=currencies.reporting_currency()))
        while cursor.nextset():  # the DELETE and the INSERT come first; the totals are the last result
            pass
        return [TypeTotal(*row) for row in cursor.fetchall()]
