"""The external run's exceptions report: its open items (mismatches), largest first, as Parquet and
CSV under LEDGER_REPORTS_DIR/external_reconciliation/, and the match rate of its statement lines."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from ..platform.db import LedgerDatabase
from ..platform.exports import write_table
from ..platform.sql_files import text as sql_text

COLUMNS = ("check_name", "aspect", "account_code", "bank_account", "statement", "currency", "expected", "actual",
           "difference", "transaction_id", "details")
# Exact: statement and ledger amounts fit well inside 38 digits with 10 places.
AMOUNT = pa.decimal128(38, 10)
SCHEMA = pa.schema([(name, AMOUNT if name in ("expected", "actual", "difference") else pa.string())
                    for name in COLUMNS])


@dataclass
class ExceptionsReport:
    items: list[tuple]  # largest first
    parquet: Path
    csv: Path
    lines: int
    unmatched_lines: int

    @property
    def match_rate(self) -> float:
        """The share of the run's statement lines in a match (1.0 with no lines)."""
        return 1.0 if not self.lines else 1 - self.unmatched_lines / self.lines

    def markdown(self, limit: int = 10) -> str:
        rows = ["| check | aspect | account | bank account | statement | currency | difference |",
                "|---|---|---|---|---|---|---:|"]
        rows += [f"| {r[0]} | {r[1] or ''} | {r[2] or ''} | {r[3]} | {r[4]} | {r[5] or ''} | {r[8]} |"
                 for r in self.items[:limit]]
        return "\n".join(rows)


def write(db: LedgerDatabase, run_id: uuid.UUID, directory: Path, name: str) -> ExceptionsReport:
    """Writes run ``run_id``'s open items as <directory>/external_reconciliation/<name>.parquet and .csv."""
    with db.system_context() as conn:
        items = conn.execute(sql_text("checks/external/exceptions"), {"run_id": run_id}).fetchall()
        lines = conn.execute("SELECT coalesce(transactions_checked, 0) FROM reconciliation_runs WHERE id = %s",
                             (run_id,)).fetchone()[0]
    unmatched = sum(1 for r in items if r[0] == "statement_lines_matched" and r[1] == "unmatched")
    table = pa.table({name: [_exact(r[i]) for r in items] for i, name in enumerate(COLUMNS)}, schema=SCHEMA)
    parquet, csv = write_table(table, directory / "external_reconciliation", name)
    return ExceptionsReport(items, parquet, csv, lines, unmatched)


def _exact(value):
    return value.quantize(Decimal("1E-10")) if isinstance(value, Decimal) else value
