"""SWIFT MT940 (customer statement message), read through the `mt-940` package.

The file is read line by line and cut into messages, each starting at a :20: line (SWIFT envelope
lines such as {1:...}{2:...}{4: and -} are dropped); mt-940 parses one message at a time, so a file
of many statements is never held whole. mt-940 is lenient where a ledger must not be (it reads the
amount 5O0,00 as 5 and a balance 15x0,00 as 15), so every :60:, :61: and :62: is first checked
against the field's own syntax here; problems are named by the file's line number.

What a statement is: one message. Its id is the :28C: statement number as written, with the
closing balance's date, because banks repeat both :20: and :28C: (Rabobank writes :28C:0 on every
statement). Its sequence number is the :28C: statement number, its page the part after the slash.
A line is one :61: with the :86: that follows it; its booking date is the :61: entry date, or the
value date when the bank gives none.
"""

import codecs
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Optional

import mt940

from .model import Line, Statement, StatementError, amount, currency

MESSAGE_START = re.compile(r":20:")
ENVELOPE = re.compile(r"[\x01\x03\s]*(\{1:.*|-\}.*|:940:)?[\x01\x03\s]*")
TAG = re.compile(r":(?P<tag>[0-9]{2}[A-Z]?|NS):")
# Field syntax (SWIFT MT940): the amount is up to 15 characters with a decimal comma.
BALANCE = re.compile(r"(?P<mark>[CD])(?P<date>[0-9]{6})(?P<currency>[A-Z]{3})(?P<amount>[0-9]{1,14},[0-9]*)\s*")
STATEMENT_LINE = re.compile(
    r"(?P<date>[0-9]{6})(?P<entry>[0-9]{4})?(?P<mark>R?[CD])(?P<funds>[A-Z])?(?P<amount>[0-9]{1,14},[0-9]*)"
    r"(?P<type>[NFS][A-Z0-9]{3})")
BALANCE_KEYS = {"60F": "final_opening_balance", "60M": "intermediate_opening_balance",
                  "62F": "final_closing_balance", "62M": "intermediate_closing_balance"}
NO_REFERENCE = "NONREF"


def read(path: Path) -> Iterator[Statement | Line]:
    key = 0
    for first_line, lines in _messages(path):
        key += 1
        yield from _message(key, first_line, lines)
    if key == 0:
        raise StatementError("line 1", "no MT940 statement (:20:) in the file")


def _encoding(path: Path) -> str:
    """UTF-8 if the whole file decodes as such, else Latin-1 (which banks also send)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8"


def _messages(path: Path) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """(line number of the :20:, the message's (line number, text) pairs), one message at a time."""
    message: list[tuple[int, str]] = []
    with open(path, encoding=_encoding(path), newline=None) as handle:
        for number, text in enumerate(handle, 1):
            text = text.rstrip("\r\n").lstrip("\ufeff")
            if ENVELOPE.fullmatch(text):
                continue
            if MESSAGE_START.match(text):
                if message:
                    yield message[0][0], message
                message = []
            elif not message:
                raise StatementError(f"line {number}", f"expected a message starting with :20:, got {text[:40]!r}")
            message.append((number, text))
    if message:
        yield message[0][0], message


@dataclass
class _Field:
    tag: str
    line: int
    text: str  # the field's content, continuation lines joined with newlines


def _fields(lines: list[tuple[int, str]]) -> list[_Field]:
    fields: list[_Field] = []
    for number, text in lines:
        match = TAG.match(text)
        if match:
            fields.append(_Field(match["tag"], number, text[match.end():]))
        else:
            fields[-1].text += "\n" + text
    return fields


def _message(key: int, first_line: int, lines: list[tuple[int, str]]) -> Iterator[Statement | Line]:
    fields = _fields(lines)
    _check_syntax(fields)
    where = f"line {first_line}"
    parsed = mt940.models.Transactions(options=mt940.Options.all())
    try:
        parsed.parse("\n".join(text for _, text in lines))
    except Exception as exc:  # mt-940 raises what its regexes and date arithmetic raise
        raise StatementError(f"lines {first_line}-{lines[-1][0]}",
                             f"not an MT940 statement mt-940 can read: {str(exc).splitlines()[0]}") from None
    data = parsed.data
    identifier = (data.get("account_identification") or "").strip()
    if not identifier:
        raise StatementError(where, "the statement has no account (:25:)")
    balances = {f.tag: f for f in fields if f.tag in BALANCE_KEYS}
    opening = balances.get("60F") or balances.get("60M")
    closing = balances.get("62F") or balances.get("62M")
    if opening is None or closing is None:
        raise StatementError(where, f"the statement has no {'opening (:60F:)' if opening is None else 'closing (:62F:)'} balance")
    ccy, opening_amount = _balance(opening, data[BALANCE_KEYS[opening.tag]], None)
    _, closing_amount = _balance(closing, data[BALANCE_KEYS[closing.tag]], ccy)
    opening_date, closing_date = data[BALANCE_KEYS[opening.tag]].date, data[BALANCE_KEYS[closing.tag]].date
    number_field = next((f for f in fields if f.tag in ("28C", "28")), None)
    number_text = number_field.text.strip() if number_field else ""
    statement_no, _, page = number_text.partition("/")
    yield Statement(
        key=key, account_identifier=identifier,
        bank_statement_id=f"{number_text or data.get('transaction_reference', '').strip()} {closing_date.isoformat()}",
        sequence_number=_number(statement_no, number_field), page_number=_number(page, number_field),
        currency=ccy, opening_balance=opening_amount, opening_date=_date(opening_date),
        closing_balance=closing_amount, closing_date=_date(closing_date), position=where)

    statement_lines = [i for i, f in enumerate(fields) if f.tag == "61"]
    if len(statement_lines) != len(parsed.transactions):
        raise StatementError(where, f"{len(statement_lines)} :61: lines, but mt-940 read {len(parsed.transactions)}")
    for number, (index, transaction) in enumerate(zip(statement_lines, parsed.transactions), 1):
        yield _line(key, number, fields, index, transaction.data, ccy)


def _balance(field: _Field, parsed: mt940.models.Balance, ccy: Optional[str]) -> tuple[str, Decimal]:
    where = f"line {field.line}"
    match = BALANCE.fullmatch(field.text)
    code = currency(match["currency"], where)
    if ccy is not None and code != ccy:
        raise StatementError(where, f"the closing balance is in {code}, the opening balance in {ccy}")
    value = amount(_decimal(match["amount"]), code, where)
    signed = -value if match["mark"] == "D" else value
    if parsed.amount.amount != signed:
        raise StatementError(where, f"mt-940 read the balance as {parsed.amount.amount}, the field says {signed}")
    return code, signed


def _line(key: int, number: int, fields: list[_Field], index: int, data: dict, ccy: str) -> Line:
    field = fields[index]
    where = f"line {field.line}"
    match = STATEMENT_LINE.match(field.text)
    value = amount(_decimal(match["amount"]), ccy, where)
    signed = -value if match["mark"] in ("D", "RC") else value
    parsed = data.get("amount")
    if parsed is None or parsed.amount != signed or (parsed.currency or ccy) != ccy:
        raise StatementError(where, f"mt-940 read the amount as {parsed}, the field says {signed} {ccy}")
    raw_end = next((i for i in range(index + 1, len(fields)) if fields[i].tag not in ("86", "NS")), len(fields))
    customer_reference = (data.get("customer_reference") or "").strip()
    details = (data.get("transaction_details") or "").replace("\n", "")
    value_date = _date(data["date"])
    booked = data.get("entry_date")
    return Line(
        statement=key, line_number=number, position=where,
        booking_date=_date(booked) if booked else value_date, value_date=value_date,
        amount=signed, currency=ccy,
        bank_reference=(data.get("bank_reference") or "").strip()
        or (customer_reference if customer_reference != NO_REFERENCE else None) or None,
        end_to_end_id=(data.get("end_to_end_reference") or "").strip() or None,
        counterparty=(data.get("applicant_name") or "").strip() or None,
        counterparty_account=(data.get("applicant_iban") or data.get("applicant_bin") or "").strip() or None,
        description=(data.get("purpose") or "").strip() or details.strip() or None,
        bank_transaction_code=(data.get("id") or "").strip() or None,
        raw="\n".join(f":{f.tag}:{f.text}" for f in fields[index:raw_end]))


def _date(value) -> dt.date:
    return dt.date(value.year, value.month, value.day)  # mt-940's Date subclass, as a plain date


def _check_syntax(fields: list[_Field]) -> None:
    """Each balance and statement line as SWIFT writes it, before mt-940 reads it leniently."""
    for field in fields:
        where = f"line {field.line}"
        if field.tag in BALANCE_KEYS:
            match = BALANCE.fullmatch(field.text)
            if not match:
                raise StatementError(where, f":{field.tag}: {field.text.strip()!r} is not D/C, YYMMDD, currency, amount")
            _valid_date(match["date"], "%y%m%d", where)
        elif field.tag == "61":
            match = STATEMENT_LINE.match(field.text)
            if not match:
                raise StatementError(where, f":61: {field.text.splitlines()[0]!r} is not value date, [entry date], "
                                            "D/C/RD/RC, [funds code], amount, transaction type")
            _valid_date(match["date"], "%y%m%d", where)
            if match["entry"]:
                _valid_date("2000" + match["entry"], "%Y%m%d", where)  # a leap year, so 0229 passes


def _valid_date(text: str, pattern: str, where: str) -> None:
    try:
        dt.datetime.strptime(text, pattern)
    except ValueError:
        raise StatementError(where, f"not a date: {text[-6:] if len(text) > 6 else text!r}") from None


def _decimal(text: str) -> str:
    """An MT940 amount (400,00 or 400,) in plain notation."""
    whole, _, fraction = text.partition(",")
    return f"{whole}.{fraction}" if fraction else whole


def _number(text: str, field: Optional[_Field]) -> Optional[int]:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise StatementError(f"line {field.line}", f":{field.tag}: {field.text.strip()!r} is not a statement number")
    return int(text)
