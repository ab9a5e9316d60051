"""Statements from CSV files: a declared column map (a TOML file), or a built-in profile (stripe).

A CSV export states no balances and no statement: each account and currency of a file is one
statement, from its first to its last booking date, with the id "<currency> <first>..<last>";
its opening balance is the account's previous closing (0 for its first statement) and its closing
the opening plus the lines, derived when the file is imported. Rows are read one at a time; only
the statements' running dates are kept. Problems are named by the file's line number.

A column map, e.g. `--format csv:bank.toml`:

    account = "DE89370400440532013000"   # or: columns.account = "IBAN"
    currency = "EUR"                     # or: columns.currency = "Currency"
    delimiter = ";"                      # default ","
    encoding = "utf-8"                   # default utf-8 (a byte-order mark is dropped)
    date_format = "%d.%m.%Y"             # default %Y-%m-%d
    decimal_separator = ","              # default "."
    thousands_separator = "."            # default none

    [columns]
    booking_date = "Buchungstag"         # required
    amount = "Betrag"                    # required: signed, a credit positive
    value_date = "Valuta"                # the rest are optional
    reference = "Referenz"
    end_to_end_id = "EREF"
    counterparty = "Name"
    counterparty_account = "IBAN Gegenkonto"
    description = "Verwendungszweck"
    bank_transaction_code = "GVC"
"""

import csv
import datetime as dt
import json
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .model import Line, Statement, StatementError, amount, currency

OPTIONAL_COLUMNS = ("value_date", "reference", "end_to_end_id", "counterparty", "counterparty_account",
                    "description", "bank_transaction_code", "account", "currency")
SETTINGS = ("account", "currency", "delimiter", "encoding", "date_format", "decimal_separator",
            "thousands_separator", "columns")


@dataclass(frozen=True)
class ColumnMap:
    name: str
    columns: dict
    account: Optional[str] = None
    currency: Optional[str] = None
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    date_format: str = "%Y-%m-%d"
    decimal_separator: str = "."
    thousands_separator: str = ""

    @classmethod
    def load(cls, path: Path) -> "ColumnMap":
        try:
            declared = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise StatementError(str(path), f"cannot read the column map: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise StatementError(str(path), f"not a TOML column map: {exc}") from None
        unknown = set(declared) - set(SETTINGS)
        columns = declared.get("columns", {})
        if unknown or not isinstance(columns, dict):
            raise StatementError(str(path), f"unknown settings {sorted(unknown)} (known: {', '.join(SETTINGS)})")
        missing = [c for c in ("booking_date", "amount") if c not in columns]
        unknown_columns = set(columns) - {"booking_date", "amount", *OPTIONAL_COLUMNS}
        if missing or unknown_columns:
            raise StatementError(str(path), f"columns must name booking_date and amount (missing {missing}),"
                                            f" and may name {', '.join(OPTIONAL_COLUMNS)} (unknown {sorted(unknown_columns)})")
        if not declared.get("account") and "account" not in columns:
            raise StatementError(str(path), "the map names no account: set account, or columns.account")
        if not declared.get("currency") and "currency" not in columns:
            raise StatementError(str(path), "the map names no currency: set currency, or columns.currency")
        settings = {k: v for k, v in declared.items() if k != "columns"}
        if not all(isinstance(v, str) for v in [*settings.values(), *columns.values()]) \
                or len(settings.get("delimiter", ",")) != 1:
            raise StatementError(str(path), "settings and columns are text, and the delimiter one character")
        if settings.get("encoding", "utf-8").lower().replace("_", "-") in ("utf-8", "utf8"):
            settings["encoding"] = "utf-8-sig"
        return cls(name=path.stem, columns=columns, **settings)


@dataclass
class _Open:
    """A statement being read: its key and the booking dates it spans so far."""

    key: int
    identifier: str
    currency: str
    position: str
    first: dt.date
    last: dt.date
    lines: int = 0


@dataclass
class Rows:
    """The statements of a CSV file, whatever turns its rows into lines."""

    path: Path
    delimiter: str
    encoding: str
    required: tuple
    statements: dict = field(default_factory=dict)

    def read(self, to_lines: Callable[[dict, str], list[dict]]) -> Iterator[Statement | Line]:
        """to_lines(row, where) gives each line of a row as a dict: account, currency, booking_date,
        and Line's other fields."""
        try:
            handle = open(self.path, newline="", encoding=self.encoding)
        except (OSError, LookupError) as exc:
            raise StatementError("the file", f"cannot be read: {exc}") from None
        with handle:
            reader = csv.DictReader(handle, delimiter=self.delimiter, strict=True)
            try:
                header = reader.fieldnames or []
                missing = [c for c in self.required if c not in header]
                if missing:
                    raise StatementError("line 1", f"the header has no column {', '.join(map(repr, missing))}"
                                                   f" (it has {', '.join(header) or 'nothing'})")
                for row in reader:
                    where = f"line {reader.line_num}"
                    if None in row or None in row.values():
                        raise StatementError(where, f"expected {len(header)} fields, like the header")
                    for values in to_lines(row, where):
                        yield self._line(values, where, row)
            except csv.Error as exc:
                raise StatementError(f"line {reader.line_num}", f"not CSV: {exc}") from None
            except UnicodeDecodeError as exc:
                raise StatementError(f"line {reader.line_num + 1}", f"not {self.encoding} text: {exc.reason}") from None
        if not self.statements:
            raise StatementError("line 2", "no rows: the file has a header only")
        for st in self.statements.values():
            yield Statement(
                key=st.key, account_identifier=st.identifier,
                bank_statement_id=f"{st.currency} {st.first.isoformat()}..{st.last.isoformat()}",
                sequence_number=None, page_number=None, currency=st.currency,
                opening_balance=None, opening_date=st.first, closing_balance=None, closing_date=st.last,
                position=st.position)

    def _line(self, values: dict, where: str, row: dict) -> Line:
        key = (values.pop("account"), values["currency"])
        st = self.statements.get(key)
        if st is None:
            st = self.statements[key] = _Open(len(self.statements) + 1, key[0], key[1], where,
                                              values["booking_date"], values["booking_date"])
        st.first, st.last = min(st.first, values["booking_date"]), max(st.last, values["booking_date"])
        st.lines += 1
        return Line(statement=st.key, line_number=st.lines, position=where,
                    raw=json.dumps(row, ensure_ascii=False), **values)


def read_mapped(path: Path, column_map: ColumnMap, account: Optional[str] = None) -> Iterator[Statement | Line]:
    columns = column_map.columns
    cm = column_map

    def text(row: dict, name: str) -> Optional[str]:
        column = columns.get(name)
        value = row[column].strip() if column else ""
        return value or None

    def day(value: Optional[str], where: str, name: str) -> Optional[dt.date]:
        if value is None:
            return None
        try:
            return dt.datetime.strptime(value, cm.date_format).date()
        except ValueError:
            raise StatementError(where, f"{columns[name]}: not a date like {cm.date_format}: {value!r}") from None

    def to_lines(row: dict, where: str) -> list[dict]:
        identifier = account or text(row, "account") or cm.account
        if not identifier:
            raise StatementError(where, f"{columns['account']}: no account")
        code = currency(text(row, "currency") or cm.currency, where)
        booked = day(text(row, "booking_date"), where, "booking_date")
        if booked is None:
            raise StatementError(where, f"{columns['booking_date']}: no booking date")
        figure = text(row, "amount") or ""
        if cm.thousands_separator:
            figure = figure.replace(cm.thousands_separator, "")
        return [{
            "account": identifier, "currency": code, "booking_date": booked,
            "value_date": day(text(row, "value_date"), where, "value_date"),
            "amount": amount(figure.replace(cm.decimal_separator, "."), code, f"{where}: {columns['amount']}"),
            "bank_reference": text(row, "reference"), "end_to_end_id": text(row, "end_to_end_id"),
            "counterparty": text(row, "counterparty"), "counterparty_account": text(row, "counterparty_account"),
            "description": text(row, "description"), "bank_transaction_code": text(row, "bank_transaction_code"),
        }]

    required = tuple(c for name, c in columns.items() if name in ("booking_date", "amount", "account", "currency"))
    return Rows(path, cm.delimiter, cm.encoding, required).read(to_lines)
