"""Demo bank statements for the demo ledger: what its bank would send for the house cash accounts,
made from the ledger's own cash entries, with one of each thing a reconciliation meets.

The EUR cash account's bank sends camt.053 (.001.08) and gives each payment's end-to-end id (the
demo's payment references); the USD account's bank sends MT940 without them, so its lines match by
amount and date. Each account has two statements: the first from the day before its first entry to
the middle of the span, the second to yesterday (today's entries are not booked by the bank yet).
Planted, one each:
  bank_line_missing        EUR: a bank charge with no ledger entry
  cent_off                 EUR: a line one cent more than its entry (matched by reference)
  payout                   EUR: one line settling three deposits (matched by their exact sum)
  ledger_entry_missing     USD: an early entry the bank never booked
  two_day_lag              USD: a line the bank booked two days after the ledger
  opening_break            USD: the second statement opens 10.00 above the first's closing
The lag and the payout are matched and reported by no check; each of the other four is one item.
"""

import datetime as dt
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from lxml import etree

from ..ledger.demo import DemoLedger
from ..platform import settings
from ..platform.db import LedgerDatabase
from ..platform.errors import LedgerError
from .mapping import map_account

CAMT_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
NOT_PROVIDED = "NOTPROVIDED"  # camt's end-to-end id when the payer gave none
WINDOW_DAYS = 2  # the matching rules' default window: the payout and the lag stay inside it
BANK_CHARGE = Decimal("-4.35")
OPENING_BREAK = Decimal("10.00")
ONE_CENT = Decimal("0.01")


@dataclass(frozen=True)
class CashEntry:
    id: object
    day: dt.date
    amount: Decimal  # as the bank sees the account: a debit of the cash account is a credit, positive
    reference: Optional[str]


@dataclass(frozen=True)
class BankLine:
    day: dt.date
    amount: Decimal  # signed: a credit positive
    bank_reference: str
    end_to_end_id: Optional[str] = None
    description: str = ""


@dataclass
class BankStatement:
    identifier: str
    currency: str
    statement_id: str
    sequence: int
    opening: Decimal
    opening_date: dt.date
    closing_date: dt.date
    lines: list = field(default_factory=list)
    stated_closing: Optional[Decimal] = None  # None: the opening plus the lines

    @property
    def closing(self) -> Decimal:
        if self.stated_closing is not None:
            return self.stated_closing
        return self.opening + sum((line.amount for line in self.lines), Decimal(0))


@dataclass
class DemoStatements:
    files: list[Path]
    # fault -> what was planted: the line's bank reference, the entry ids, the statement id
    faults: dict[str, dict] = field(default_factory=dict)


def iban(seed: str) -> str:
    """A German IBAN (checksum valid) whose account number is derived from ``seed``."""
    bban = "37040044" + f"{zlib.crc32(seed.encode()):010d}"
    check = 98 - int(bban + "131400") % 97  # D=13, E=14, then 00 for the check digits
    return f"DE{check:02d}{bban}"


def write_demo_statements(db: LedgerDatabase, demo: DemoLedger, inbox: Optional[Path] = None) -> DemoStatements:
    """Maps the demo's EUR and USD cash accounts to bank accounts and writes their statements into
    ``inbox`` (LEDGER_STATEMENTS_INBOX by default), where the inbox sensor imports them."""
    inbox = inbox or settings.statements_inbox()
    zone = ZoneInfo(settings.timezone())
    yesterday = dt.datetime.now(zone).date() - dt.timedelta(days=1)
    eur_account, usd_account = iban(f"EUR-{demo.suffix}"), f"021000021/{zlib.crc32(demo.suffix.encode()):010d}"
    map_account(db, eur_account, demo.house_code("CASH", "EUR"))
    map_account(db, usd_account, demo.house_code("CASH", "USD"))
    result = DemoStatements([])

    eur = _cash_entries(db, demo.house("CASH", "EUR"), zone, yesterday)
    first, second = _statements(eur, eur_account, "EUR", f"DEMO-{demo.suffix}-EUR", yesterday)
    payout = _payout(eur, first)
    charge_day = first.opening_date + (first.closing_date - first.opening_date) // 2
    charge = BankLine(charge_day, _unused(BANK_CHARGE, eur), f"BNK-{demo.suffix}-CHARGE", NOT_PROVIDED,
                      "Account maintenance charge")
    cent_off = _pick((e for e in eur if e.day > first.closing_date and e.reference), "an EUR entry for the cent off")
    for statement in (first, second):
        for e in eur:
            if statement.opening_date < e.day <= statement.closing_date and e not in payout:
                amount = e.amount + (ONE_CENT if e is cent_off else 0)
                statement.lines.append(BankLine(e.day, amount, _bank_reference(e), e.reference or NOT_PROVIDED,
                                                "Payment"))
    first.lines.append(charge)
    first.lines.append(BankLine(payout[-1].day, sum((e.amount for e in payout), Decimal(0)),
                                f"BNK-{demo.suffix}-PAYOUT", NOT_PROVIDED, "Card acquirer payout, 3 payments"))
    first.lines.sort(key=lambda line: line.day)
    second.opening = first.closing
    result.files.append(_publish(inbox, f"demo-{demo.suffix}-eur.camt053.xml",
                                 lambda path: write_camt053(path, (first, second))))
    result.faults.update({
        "bank_line_missing": {"bank_reference": charge.bank_reference, "amount": charge.amount},
        "cent_off": {"entry_id": cent_off.id, "amount_difference": ONE_CENT},
        "payout": {"entry_ids": sorted(e.id for e in payout)},
    })

    usd = _cash_entries(db, demo.house("CASH", "USD"), zone, yesterday)
    first, second = _statements(usd, usd_account, "USD", f"{demo.suffix[:4]}", yesterday)
    unique = [e for e in usd if sum(1 for o in usd if o.amount == e.amount) == 1]
    grace_limit = yesterday - dt.timedelta(days=settings.match_grace_days())
    # The lagging entry's line, two days on, stays in its entry's statement, either one: the first
    # statement alone left it only the demo's first day, which at some hours holds a few minutes of
    # entries and no amount of its own.
    lag = _pick((e for e in unique if any(s.opening_date < e.day and e.day + dt.timedelta(days=WINDOW_DAYS)
                                          <= s.closing_date for s in (first, second))),
                "a USD entry two days before its statement's closing")
    missing = _pick((e for e in unique if e is not lag and e.day <= min(first.closing_date, grace_limit)),
                    "a USD entry older than the grace window")
    for statement in (first, second):
        for e in usd:
            if statement.opening_date < e.day <= statement.closing_date and e is not missing:
                day = e.day + dt.timedelta(days=WINDOW_DAYS) if e is lag else e.day
                statement.lines.append(BankLine(day, e.amount, _bank_reference(e), description="Payment"))
        statement.lines.sort(key=lambda line: line.day)
    second.opening = first.closing + OPENING_BREAK
    result.files.append(_publish(inbox, f"demo-{demo.suffix}-usd.mt940",
                                 lambda path: path.write_text(mt940((first, second)), encoding="utf-8")))
    result.faults.update({
        "ledger_entry_missing": {"entry_id": missing.id},
        "two_day_lag": {"entry_id": lag.id, "days_difference": -WINDOW_DAYS},
        "opening_break": {"bank_account": usd_account, "sequence": second.sequence, "difference": OPENING_BREAK},
    })
    return result


def _cash_entries(db: LedgerDatabase, account_id, zone: ZoneInfo, last_day: dt.date) -> list[CashEntry]:
    with db.system_context() as conn:
        rows = conn.execute(
            "SELECT e.id, (e.created_at AT TIME ZONE %s)::date AS day,"
            "       CASE e.entry_type WHEN 'debit' THEN e.amount ELSE -e.amount END,"
            "       t.metadata ->> 'external_reference'"
            " FROM entries e JOIN transactions t ON t.id = e.transaction_id"
            " WHERE e.account_id = %s AND (e.created_at AT TIME ZONE %s)::date <= %s"
            " ORDER BY e.created_at, e.id", (zone.key, account_id, zone.key, last_day)).fetchall()
    return [CashEntry(*row) for row in rows]


def _statements(entries: list[CashEntry], identifier: str, currency: str, prefix: str,
                last_day: dt.date) -> tuple[BankStatement, BankStatement]:
    if not entries or (last_day - entries[0].day).days < 2 * WINDOW_DAYS + 2:
        raise LedgerError(f"demo statements need {currency} cash entries over at least {2 * WINDOW_DAYS + 3} days"
                          " before today (write the demo ledger with --days 7)")
    opening_date = entries[0].day - dt.timedelta(days=1)
    middle = opening_date + (last_day - opening_date) // 2
    return (BankStatement(identifier, currency, f"{prefix}-1", 1, Decimal(0), opening_date, middle),
            BankStatement(identifier, currency, f"{prefix}-2", 2, Decimal(0), middle, last_day))


def _payout(entries: list[CashEntry], statement: BankStatement) -> list[CashEntry]:
    """Three deposits of ``statement``'s days within the window, the settling line on the last one's day."""
    deposits = [e for e in entries if e.amount > 0 and statement.opening_date < e.day <= statement.closing_date]
    for i in range(len(deposits) - 2):
        three = deposits[i:i + 3]
        if (three[-1].day - three[0].day).days <= WINDOW_DAYS:
            return three
    raise LedgerError("demo statements: no three deposits within the matching window for the payout")


def _pick(candidates, what: str) -> CashEntry:
    found = next(candidates, None)
    if found is None:
        raise LedgerError(f"demo statements: the ledger has no {what} (write more demo transactions)")
    return found


def _unused(amount: Decimal, entries: list[CashEntry]) -> Decimal:
    """``amount``, or the nearest cent below it that no entry has, so the fault matches nothing."""
    taken = {e.amount for e in entries}
    while amount in taken:
        amount -= ONE_CENT
    return amount


def _bank_reference(entry: CashEntry) -> str:
    return f"BNK{zlib.crc32(str(entry.id).encode()):010d}"


def _publish(inbox: Path, name: str, write) -> Path:
    """Written under a hidden name and renamed, so the inbox sensor never sees half a file."""
    inbox.mkdir(parents=True, exist_ok=True)
    hidden, target = inbox / f".{name}.part", inbox / name
    write(hidden)
    hidden.replace(target)
    return target


def write_camt053(path: Path, statements: Iterable[BankStatement], lines_of=None) -> None:
    """A camt.053.001.08 document of ``statements``, streamed (lxml's xmlfile): ``lines_of(statement)``
    gives a statement's lines (its ``lines`` by default) and may be a generator, so a file of any
    size is written without holding it; the statement then states its closing (``stated_closing``)."""
    lines_of = lines_of or (lambda statement: statement.lines)
    ns = f"{{{CAMT_NAMESPACE}}}"

    def element(tag: str, text: Optional[str] = None, **attributes) -> etree._Element:
        made = etree.Element(ns + tag, attributes)
        made.text = text
        return made

    def child(parent: etree._Element, tag: str, text: Optional[str] = None, **attributes) -> etree._Element:
        made = etree.SubElement(parent, ns + tag, attributes)
        made.text = text
        return made

    def amount(parent: etree._Element, value: Decimal, currency: str) -> None:
        child(parent, "Amt", f"{abs(value):.2f}", Ccy=currency)
        child(parent, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")

    def balance(code: str, value: Decimal, currency: str, day: dt.date) -> etree._Element:
        bal = element("Bal")
        child(child(child(bal, "Tp"), "CdOrPrtry"), "Cd", code)
        amount(bal, value, currency)
        child(child(bal, "Dt"), "Dt", day.isoformat())
        return bal

    with etree.xmlfile(str(path), encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element(ns + "Document", nsmap={None: CAMT_NAMESPACE}):
            with xf.element(ns + "BkToCstmrStmt"):
                header = element("GrpHdr")
                child(header, "MsgId", f"DEMO-{path.stem}")
                child(header, "CreDtTm", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
                xf.write(header, pretty_print=True)
                for st in statements:
                    with xf.element(ns + "Stmt"):
                        for tag, text in (("Id", st.statement_id), ("ElctrncSeqNb", str(st.sequence))):
                            xf.write(element(tag, text))
                        account = element("Acct")
                        child(child(account, "Id"), "IBAN", st.identifier)
                        child(account, "Ccy", st.currency)
                        xf.write(account, pretty_print=True)
                        xf.write(balance("OPBD", st.opening, st.currency, st.opening_date), pretty_print=True)
                        xf.write(balance("CLBD", st.closing, st.currency, st.closing_date), pretty_print=True)
                        for line in lines_of(st):
                            xf.write(_camt_entry(line, st.currency, element, child, amount), pretty_print=True)


def _camt_entry(line: BankLine, currency: str, element, child, amount) -> etree._Element:
    entry = element("Ntry")
    amount(entry, line.amount, currency)
    child(child(entry, "Sts"), "Cd", "BOOK")
    child(child(entry, "BookgDt"), "Dt", line.day.isoformat())
    child(child(entry, "ValDt"), "Dt", line.day.isoformat())
    child(entry, "AcctSvcrRef", line.bank_reference)
    domain = child(child(entry, "BkTxCd"), "Domn")
    child(domain, "Cd", "PMNT")
    family = child(domain, "Fmly")
    child(family, "Cd", "RCDT" if line.amount >= 0 else "ICDT")
    child(family, "SubFmlyCd", "ESCT")
    details = child(child(entry, "NtryDtls"), "TxDtls")
    child(child(details, "Refs"), "EndToEndId", line.end_to_end_id or NOT_PROVIDED)
    amount(details, line.amount, currency)
    child(child(details, "RmtInf"), "Ustrd", line.description)
    return entry


def mt940(statements: Iterable[BankStatement]) -> str:
    """SWIFT MT940 messages, one per statement, as a bank's export file holds them."""
    messages = []
    for st in statements:
        fields = [f":20:{st.statement_id}", f":25:{st.identifier}", f":28C:{st.sequence:05d}/001",
                  f":60F:{_mt940_balance(st.opening, st.opening_date, st.currency)}"]
        for line in st.lines:
            mark = "C" if line.amount >= 0 else "D"
            fields.append(f":61:{line.day:%y%m%d}{line.day:%m%d}{mark}{_mt940_amount(line.amount)}"
                          f"NTRFNONREF//{line.bank_reference}")
            fields.append(f":86:{line.description}")
        fields.append(f":62F:{_mt940_balance(st.closing, st.closing_date, st.currency)}")
        messages.append("{1:F01DEMOBANKAXXX0000000000}{2:I940DEMOBANKAXXXN}{4:\n" + "\n".join(fields) + "\n-}")
    return "\n".join(messages) + "\n"


def _mt940_amount(value: Decimal) -> str:
    return f"{abs(value):.2f}".replace(".", ",")


def _mt940_balance(value: Decimal, day: dt.date, currency: str) -> str:
    return f"{'C' if value >= 0 else 'D'}{day:%y%m%d}{currency}{_mt940_amount(value)}"
