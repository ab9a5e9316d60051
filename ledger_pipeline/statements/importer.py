"""Importing a statement file: every statement in it, in one database transaction, or none.

The file is hashed (SHA-256 of its bytes), then read as a stream into the transaction: lines go
in batches, so a large file is never held in Python. Imports of one file take turns (a
transaction lock on its hash): the second finds the first's statement_files row and reports the
file as already imported. A statement an account already has (its account identifier and
statement id) from another file is refused, as is an account not mapped to a ledger account, and
any bad amount, date or currency; a refusal rolls the whole file back.
"""

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Optional

import psycopg

from ..platform.db import LedgerDatabase
from ..platform.sql_files import text as sql_text
from . import formats
from .model import Line, Skipped, Statement, StatementError

BATCH = 5000  # lines per INSERT: the audit triggers' queue stays this long
LOCK_NAMESPACE = "ledger_pipeline.statement_file:"
IMPORTED, ALREADY_IMPORTED = "imported", "already imported"
LINE_COLUMNS = ("statement_id", "line_number", "source_position", "booking_date", "value_date", "amount",
                "currency", "bank_reference", "end_to_end_id", "counterparty", "counterparty_account",
                "description", "bank_transaction_code", "raw")


@dataclass(frozen=True)
class ImportedStatement:
    account_identifier: str
    bank_statement_id: str
    currency: str
    opening_balance: Decimal
    opening_date: dt.date
    closing_balance: Decimal
    closing_date: dt.date
    lines: int
    balances_derived: bool


@dataclass(frozen=True)
class ImportResult:
    status: str  # IMPORTED or ALREADY_IMPORTED
    file: str
    sha256: str
    source_format: str
    statement_count: int
    line_count: int
    imported_at: Optional[dt.datetime] = None  # of the earlier import, when already imported
    statements: tuple[ImportedStatement, ...] = ()
    skipped: tuple[str, ...] = ()  # records that are not statement lines, and why


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise StatementError("the file", f"cannot be read: {exc.strerror}") from None
    return digest.hexdigest()


def import_file(db: LedgerDatabase, path: Path, fmt: Optional[str] = None,
                account: Optional[str] = None) -> ImportResult:
    """Imports every statement of ``path`` (format ``fmt``, or recognised), or refuses the file with
    a StatementError naming the line or element and the reason. ``account``: the account identifier
    of a CSV file whose rows name none (Stripe's default: STRIPE)."""
    path = Path(path)
    try:
        sha256 = file_sha256(path)
        source_format, read = formats.reader(path, fmt, account)
        with db.system_context() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (LOCK_NAMESPACE + sha256,))
            earlier = conn.execute(sql_text("statements/imported_file"), {"sha256": sha256}).fetchone()
            if earlier:
                name, earlier_format, statements, lines, imported_at = earlier
                return ImportResult(ALREADY_IMPORTED, str(path), sha256, earlier_format, statements, lines,
                                    imported_at)
            loader = _Loader(conn, uuid.uuid4())
            for item in read(path):
                loader.take(item)
            imported = loader.finish()
            conn.execute(sql_text("statements/insert_file"), {
                "id": loader.file_id, "sha256": sha256, "file_name": path.name, "source_format": source_format,
                "statement_count": len(imported), "line_count": sum(s.lines for s in imported)})
    except StatementError as exc:
        raise StatementError(f"{path}: {exc.where}", f"{exc.problem}; nothing was imported") from None
    return ImportResult(IMPORTED, str(path), sha256, source_format, len(imported), sum(s.lines for s in imported),
                        statements=tuple(imported), skipped=tuple(loader.skipped))


@dataclass
class _Known:
    """A statement of the file, as its lines and its header arrive (in either order)."""

    id: uuid.UUID
    lines: int = 0
    total: Decimal = Decimal(0)
    imported: Optional[ImportedStatement] = None


@dataclass
class _Loader:
    conn: psycopg.Connection
    file_id: uuid.UUID
    statements: dict = field(default_factory=dict)  # key -> _Known
    mappings: dict = field(default_factory=dict)  # (identifier, currency) -> bank_accounts.id
    batch: list = field(default_factory=list)
    skipped: list = field(default_factory=list)

    def take(self, item: Statement | Line | Skipped) -> None:
        if isinstance(item, Line):
            known = self._known(item.statement)
            known.lines += 1
            known.total += item.amount
            self.batch.append((known.id, item.line_number, item.position, item.booking_date, item.value_date,
                               item.amount, item.currency, item.bank_reference, item.end_to_end_id,
                               item.counterparty, item.counterparty_account, item.description,
                               item.bank_transaction_code, item.raw))
            if len(self.batch) >= BATCH:
                self._flush()
        elif isinstance(item, Statement):
            self._insert(item)
        else:
            self.skipped.append(f"{item.position}: {item.reason}")

    def finish(self) -> list[ImportedStatement]:
        self._flush()
        imported = []
        for key, known in sorted(self.statements.items()):
            if known.imported is None:
                raise StatementError("the file", f"statement {key} has lines but no statement")
            imported.append(replace(known.imported, lines=known.lines))
        return imported

    def _known(self, key: int) -> _Known:
        if key not in self.statements:
            self.statements[key] = _Known(uuid.uuid4())
        return self.statements[key]

    def _flush(self) -> None:
        if self.batch:
            columns = list(zip(*self.batch))
            self.conn.execute(sql_text("statements/insert_lines"), dict(zip(LINE_COLUMNS, map(list, columns))))
            self.batch.clear()

    def _bank_account(self, st: Statement) -> uuid.UUID:
        key = (st.account_identifier, st.currency)
        if key not in self.mappings:
            row = self.conn.execute(sql_text("statements/bank_account"), {"identifier": key[0], "currency": key[1]}).fetchone()
            if row is None:
                raise StatementError(st.position, f"account {st.account_identifier!r} ({st.currency}) is not mapped to"
                                                  f" a ledger account: map it with `ledger-pipeline statements map"
                                                  f" '{st.account_identifier}' ACCOUNT_CODE`")
            self.mappings[key] = row[0]
        return self.mappings[key]

    def _insert(self, st: Statement) -> None:
        known = self._known(st.key)
        row = self.conn.execute(sql_text("statements/insert_statement"), {
            "id": known.id, "file_id": self.file_id, "bank_account_id": self._bank_account(st),
            "account_identifier": st.account_identifier, "bank_statement_id": st.bank_statement_id,
            "sequence_number": st.sequence_number, "page_number": st.page_number, "currency": st.currency,
            "opening_balance": st.opening_balance, "opening_date": st.opening_date,
            "closing_balance": st.closing_balance, "closing_date": st.closing_date, "lines_total": known.total,
            "balances_derived": st.balances_derived, "position": st.position,
        }).fetchone()
        if row is None:
            earlier = self.conn.execute(sql_text("statements/restated"), {"account_identifier": st.account_identifier,
                                                            "bank_statement_id": st.bank_statement_id}).fetchone()
            said = (f"was already imported from {earlier[0]} on {earlier[1]:%Y-%m-%d %H:%M %Z}" if earlier
                    else "is in the file twice")
            raise StatementError(st.position, f"statement {st.bank_statement_id!r} of account"
                                              f" {st.account_identifier!r} {said}; a file restating it is refused")
        known.imported = ImportedStatement(st.account_identifier, st.bank_statement_id, st.currency, row[0],
                                           st.opening_date, row[1], st.closing_date, 0, st.balances_derived)
