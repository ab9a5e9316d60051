"""ISO 20022 camt.053 (bank to customer statement), versions .001.02 to .001.08, read as a stream.

The XML is parsed by lxml event by event with entities left unresolved, no network and no DTD
loaded, and a document that declares a DTD at all is refused; each Stmt child is read when it
ends and then dropped, so memory stays flat however many entries a file has. Elements are
matched by local name, so the version's namespace only has to be one of .02 to .08. Problems are
named by element path, e.g. /Document/BkToCstmrStmt/Stmt[1]/Ntry[3]/Amt.

What a statement line is: one booked entry (Ntry), signed by its CdtDbtInd. A batch entry whose
transaction details (TxDtls) each carry an amount that together make the entry's amount becomes one
line per transaction (so each can be matched); otherwise the entry is one line. Entries not booked
(Sts other than BOOK) move no balance and are skipped, and reported as such.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Optional

from lxml import etree

from .model import Line, Skipped, Statement, StatementError, amount, currency, iso_date

NAMESPACE = re.compile(r"\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.0[2-8]\}Document")
REPEATED = {"Bal", "Ntry"}  # paths number these among a statement's children: Ntry[3]
# The elements the reader is shown; lxml builds the others into them without a Python call.
READ = ("Document", "Stmt", "Id", "ElctrncSeqNb", "LglSeqNb", "StmtPgntn", "Acct", "Bal", "Ntry")
OPENING = ("OPBD", "PRCD")  # opening booked; or previously closed booked, which some banks send
CLOSING = "CLBD"
SIGNS = {"CRDT": 1, "DBIT": -1}
NO_DTD = "a document type declaration (DTD) is not allowed in a statement"


def read(path: Path) -> Iterator[Statement | Line | Skipped]:
    reader = _Reader()
    events = etree.iterparse(str(path), events=("start", "end"), tag=[f"{{*}}{name}" for name in READ],
                             resolve_entities=False, no_network=True,
                             load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        for event, element in events:
            yield from (reader.start(element) if event == "start" else reader.end(element))
    except etree.XMLSyntaxError as exc:
        last = exc.error_log.last_error  # says what broke, where the exception may not
        if last is not None and last.filename == str(path):
            line, column, problem = last.line, last.column, last.message
        else:
            (line, column), problem = exc.position, exc.msg
        raise StatementError(f"line {line}, column {column}", f"not well-formed XML ({problem.strip()})") from None
    if reader.statements == 0:
        raise StatementError("/Document/BkToCstmrStmt", "no statement (Stmt) in the file")


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""  # entities left unresolved have no name


class _Fields:
    """An element's descendants by their path of local names (``("Refs", "EndToEndId")``), in
    document order, whatever their namespace, found in one walk: the reader asks each entry for
    some twenty paths, and lxml's ``find`` with a namespace wildcard for each made reading a file
    1.2 times slower."""

    __slots__ = ("element", "_found", "_leave")

    def __init__(self, element: etree._Element, leave: tuple[str, ...] = ()):
        """``leave``: children found but not walked (an entry's transaction details, walked each on its own)."""
        self.element, self._leave = element, leave
        self._found: dict[tuple[str, ...], list[etree._Element]] = {}
        self._walk(element, ())

    def _walk(self, element: etree._Element, path: tuple[str, ...]) -> None:
        for child in element:
            if name := _local(child.tag):
                below = (*path, name)
                self._found.setdefault(below, []).append(child)
                if name not in self._leave:
                    self._walk(child, below)

    def find(self, *names: str) -> Optional[etree._Element]:
        found = self._found.get(names)
        return found[0] if found else None

    def text(self, *names: str) -> Optional[str]:
        found = self.find(*names)
        text = found.text.strip() if found is not None and found.text else ""
        return text or None

    def all(self, *names: str) -> list[etree._Element]:
        return self._found.get(names, [])


def _children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if _local(child.tag) == name]


@dataclass
class _Balance:
    code: str
    amount: Decimal
    currency: str
    date: object
    path: str


class _Reader:
    """Sees only the elements it reads (lxml filters the rest in C): the document, each statement
    and the statement's own children; paths are counted per statement."""

    def __init__(self):
        self.statements = 0
        self.statement: dict = {}
        self.root_seen = False

    def start(self, element: etree._Element) -> Iterator[Statement]:
        name = _local(element.tag)
        if not self.root_seen:
            self.root_seen = True
            tree = element.getroottree()
            if tree.docinfo.doctype:
                raise StatementError("the document", NO_DTD)
            root = tree.getroot().tag
            if not NAMESPACE.fullmatch(root):
                raise StatementError(f"/{_local(root)}", f"not a camt.053 document (.001.02 to .001.08):"
                                                         f" the root element is {root}")
        if name == "Stmt":
            self.statements += 1
            self.statement = {"key": self.statements, "path": f"/Document/BkToCstmrStmt/Stmt[{self.statements}]",
                              "balances": [], "lines": 0, "header": None, "Bal": 0, "Ntry": 0}
        elif name == "Ntry" and self.statement.get("header") is None and self._parent(element) == "Stmt":
            yield self._header()

    def end(self, element: etree._Element) -> Iterator[Statement | Line | Skipped]:
        name, parent = _local(element.tag), self._parent(element)
        if parent == "Stmt":
            yield from self._statement_child(name, element)
            element.getparent().remove(element)  # read: let it go, so a large file is never held whole
        elif name == "Stmt":
            if self.statement["header"] is None:
                yield self._header()
            element.getparent().remove(element)

    @staticmethod
    def _parent(element: etree._Element) -> str:
        parent = element.getparent()
        return "" if parent is None else _local(parent.tag)

    def _statement_child(self, name: str, element: etree._Element) -> Iterator[Line | Skipped]:
        st = self.statement
        if name in REPEATED:
            st[name] += 1
            path = f"{st['path']}/{name}[{st[name]}]"
        else:
            path = f"{st['path']}/{name}"
        if name in ("Id", "ElctrncSeqNb", "LglSeqNb"):
            st[name] = (element.text or "").strip(), path
        elif name == "StmtPgntn":
            st["PgNb"] = _Fields(element).text("PgNb"), f"{path}/PgNb"
        elif name == "Acct":
            account = _Fields(element)
            st["account"] = account.text("Id", "IBAN") or account.text("Id", "Othr", "Id"), f"{path}/Id"
            st["currency"] = account.text("Ccy"), f"{path}/Ccy"
        elif name == "Bal":
            st["balances"].append(self._balance(_Fields(element), path))
        elif name == "Ntry":
            yield from self._entry(_Fields(element, leave=("NtryDtls",)), path)

    def _balance(self, element: _Fields, path: str) -> Optional[_Balance]:
        code = element.text("Tp", "CdOrPrtry", "Cd")
        if code not in OPENING + (CLOSING,):
            return None
        ccy, value = self._signed(element, path)
        return _Balance(code, value, ccy, self._date(element, "Dt", path, required=True), path)

    def _signed(self, element: _Fields, path: str, ccy: Optional[str] = None) -> tuple[str, Decimal]:
        amt = element.find("Amt")
        if amt is None:
            raise StatementError(path, "no amount (Amt)")
        code = currency(amt.get("Ccy"), f"{path}/Amt/@Ccy")
        if ccy is not None and code != ccy:
            raise StatementError(f"{path}/Amt/@Ccy", f"currency {code} differs from the statement's {ccy}")
        text = (amt.text or "").strip()
        if text.startswith("-"):
            raise StatementError(f"{path}/Amt", f"not an amount: {text!r} (the sign is CdtDbtInd's)")
        value = amount(text, code, f"{path}/Amt")
        indicator = element.text("CdtDbtInd")
        if indicator not in SIGNS:
            raise StatementError(f"{path}/CdtDbtInd", f"expected CRDT or DBIT, got {indicator!r}")
        return code, value * SIGNS[indicator]

    @staticmethod
    def _date(element: _Fields, name: str, path: str, required: bool = False):
        text = element.text(name, "Dt") or element.text(name, "DtTm")
        if text is None:
            if required:
                raise StatementError(f"{path}/{name}", "no date (Dt or DtTm)")
            return None
        return iso_date(text, f"{path}/{name}")

    def _header(self) -> Statement:
        st = self.statement
        where = st["path"]
        statement_id, _ = st.get("Id", (None, None))
        if not statement_id:
            raise StatementError(f"{where}/Id", "the statement has no Id")
        identifier, identifier_path = st.get("account", (None, f"{where}/Acct"))
        if not identifier:
            raise StatementError(identifier_path, "the statement names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)")
        balances = [b for b in st["balances"] if b is not None]
        opening = next((b for b in balances if b.code in OPENING), None)
        closing = next((b for b in balances if b.code == CLOSING), None)
        if opening is None or closing is None:
            missing = "opening booked balance (OPBD or PRCD)" if opening is None else "closing booked balance (CLBD)"
            raise StatementError(where, f"the statement has no {missing}")
        declared, ccy_path = st.get("currency", (None, None))
        ccy = currency(declared, ccy_path) if declared else opening.currency
        for balance in (opening, closing):
            if balance.currency != ccy:
                raise StatementError(f"{balance.path}/Amt/@Ccy",
                                     f"balance currency {balance.currency} differs from the statement's {ccy}")
        st["header"] = Statement(
            key=st["key"], account_identifier=identifier, bank_statement_id=statement_id,
            sequence_number=self._number(*st.get("ElctrncSeqNb", st.get("LglSeqNb", (None, None)))),
            page_number=self._number(*st.get("PgNb", (None, None))),
            currency=ccy, opening_balance=opening.amount, opening_date=opening.date,
            closing_balance=closing.amount, closing_date=closing.date, position=where)
        return st["header"]

    @staticmethod
    def _number(text: Optional[str], path: Optional[str]) -> Optional[int]:
        if not text:
            return None
        if not (text.isascii() and text.isdigit()):
            raise StatementError(path, f"not a number: {text!r}")
        return int(text)

    def _entry(self, element: _Fields, path: str) -> Iterator[Line | Skipped]:
        header = self.statement["header"]
        status = element.text("Sts", "Cd") or element.text("Sts")
        if status is None:
            raise StatementError(f"{path}/Sts", "the entry has no status")
        if status != "BOOK":
            yield Skipped(path, f"entry status {status}: not booked, so not a statement line")
            return
        _, signed = self._signed(element, path, header.currency)
        booked = self._date(element, "BookgDt", path, required=True)
        value_date = self._date(element, "ValDt", path)
        reference = element.text("AcctSvcrRef") or element.text("NtryRef")
        code = _bank_code(element)
        entry_info = element.text("AddtlNtryInf")
        details = [(_Fields(tx), f"{path}/NtryDtls[{i}]/TxDtls[{j}]")
                   for i, dtls in enumerate(element.all("NtryDtls"), 1)
                   for j, tx in enumerate(_children(dtls, "TxDtls"), 1)]
        parts = [self._transaction(tx, tx_path, header.currency, signed) for tx, tx_path in details]
        if len(parts) > 1 and all(p["amount"] is not None for p in parts) and sum(p["amount"] for p in parts) == signed:
            for part, (tx, tx_path) in zip(parts, details):
                yield self._line(tx_path, booked, value_date, part["amount"], header.currency,
                                 part["reference"] or reference, part, entry_info, code, tx.element)
        else:
            part = parts[0] if len(parts) == 1 else {}
            yield self._line(path, booked, value_date, signed, header.currency,
                             reference or part.get("reference"), part, entry_info, code, element.element)

    def _transaction(self, tx: _Fields, path: str, ccy: str, entry_amount: Decimal) -> dict:
        amt = tx.find("Amt")
        if amt is None:
            amt = tx.find("AmtDtls", "TxAmt", "Amt")
        value = None
        if amt is not None and (amt.get("Ccy") or "").upper() == ccy:
            text = (amt.text or "").strip()
            value = amount(text, ccy, f"{path}/Amt")
            if text.startswith("-"):
                raise StatementError(f"{path}/Amt", f"not an amount: {text!r} (the sign is CdtDbtInd's)")
            indicator = tx.text("CdtDbtInd")
            if indicator is not None and indicator not in SIGNS:
                raise StatementError(f"{path}/CdtDbtInd", f"expected CRDT or DBIT, got {indicator!r}")
            value *= SIGNS[indicator] if indicator else (1 if entry_amount >= 0 else -1)
        credit = (value if value is not None else entry_amount) >= 0
        party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
        end_to_end = tx.text("Refs", "EndToEndId")
        unstructured = " ".join(u.text.strip() for u in tx.all("RmtInf", "Ustrd") if u.text)
        return {
            "amount": value,
            "reference": tx.text("Refs", "AcctSvcrRef"),
            "end_to_end_id": None if end_to_end == "NOTPROVIDED" else end_to_end,
            "counterparty": tx.text("RltdPties", party, "Nm") or tx.text("RltdPties", party, "Pty", "Nm"),
            "counterparty_account": (tx.text("RltdPties", account, "Id", "IBAN")
                                     or tx.text("RltdPties", account, "Id", "Othr", "Id")),
            "description": unstructured or tx.text("RmtInf", "Strd", "CdtrRefInf", "Ref") or tx.text("AddtlTxInf"),
        }

    def _line(self, path, booked, value_date, signed, ccy, reference, part, entry_info, code, element) -> Line:
        self.statement["lines"] += 1
        return Line(
            statement=self.statement["key"], line_number=self.statement["lines"], position=path,
            booking_date=booked, value_date=value_date, amount=signed, currency=ccy,
            bank_reference=reference, end_to_end_id=part.get("end_to_end_id"),
            counterparty=part.get("counterparty"), counterparty_account=part.get("counterparty_account"),
            description=part.get("description") or entry_info, bank_transaction_code=code,
            raw=etree.tostring(element, encoding="unicode", with_tail=False))


def _bank_code(entry: _Fields) -> Optional[str]:
    domain = ("BkTxCd", "Domn")
    if entry.find(*domain) is not None:
        parts = [entry.text(*domain, "Cd"), entry.text(*domain, "Fmly", "Cd"), entry.text(*domain, "Fmly", "SubFmlyCd")]
        return "-".join(p for p in parts if p) or None
    return entry.text("BkTxCd", "Prtry", "Cd")
