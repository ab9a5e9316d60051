"""Whether a reconciliation's connection sees every row (sql/checks/sight.sql): a run that cannot
be sure refuses to judge the ledger rather than pass over rows it could not see."""

import psycopg

from ..platform.errors import LedgerError
from ..platform.sql_files import render


class SightError(LedgerError):
    """The run could not be sure it sees every row, so it refuses to judge the ledger."""


def check_sight(conn: psycopg.Connection) -> None:
    problems = []
    for table, reading_as, system_policy, restrictive in conn.execute(render("checks/sight")):
        if reading_as != "ledger_system":
            problems.append(f"reading as {reading_as}, not ledger_system")
        if not system_policy:
            problems.append(f"{table} has no ledger_system policy that shows every row")
        if restrictive:
            problems.append(f"{table} has {restrictive} restrictive policies that may hide rows")
    if problems:
        raise SightError("reconciliation cannot see every row: " + "; ".join(sorted(set(problems))))
