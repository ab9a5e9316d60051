"""Statement files written for the tests, in the published shapes of the formats: camt.053 of
each version .001.02 to .001.08 (the element names and order of ISO 20022's schemas: Sts a code up
to .06 and a choice (Sts/Cd) from .07; parties named directly up to .06 and as Pty from .07;
transaction amounts in AmtDtls/TxAmt in .02, in TxDtls/Amt from .03), SWIFT MT940, and
Stripe's itemized balance-transaction export."""

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


@dataclass
class Entry:
    """One booked entry, from or to DE89370400440532013000, for "Invoice 42"."""

    amount: Decimal  # signed: a credit positive
    booked: str = "2026-03-02"
    reference: str = "BANKREF-1"
    end_to_end_id: str = "E2E-1"
    party: str = "ACME GmbH"
    status: str = "BOOK"


@dataclass
class Camt:
    statement_id: str = "STMT-2026-03-02"
    iban: str = "NL91ABNA0417164300"
    currency: str = "EUR"
    sequence: int = 61
    opening: Decimal = Decimal("1000.00")
    closing: Decimal = Decimal("1150.00")
    opening_date: str = "2026-03-01"
    closing_date: str = "2026-03-02"
    entries: list = field(default_factory=lambda: [Entry(Decimal("250.00")),
                                                   Entry(Decimal("-100.00"), reference="BANKREF-2",
                                                         end_to_end_id="E2E-2", party="Landlord BV")])


def _amount(value: Decimal, currency: str) -> str:
    return f'<Amt Ccy="{currency}">{abs(value)}</Amt><CdtDbtInd>{"CRDT" if value >= 0 else "DBIT"}</CdtDbtInd>'


def _balance(code: str, value: Decimal, currency: str, day: str) -> str:
    return (f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_amount(value, currency)}"
            f"<Dt><Dt>{day}</Dt></Dt></Bal>")


def _entry(e: Entry, version: int, currency: str) -> str:
    credit = e.amount >= 0
    party, account = ("Dbtr", "DbtrAcct") if credit else ("Cdtr", "CdtrAcct")
    name = f"<Pty><Nm>{e.party}</Nm></Pty>" if version >= 7 else f"<Nm>{e.party}</Nm>"
    status = f"<Sts><Cd>{e.status}</Cd></Sts>" if version >= 7 else f"<Sts>{e.status}</Sts>"
    tx_amount = (_amount(e.amount, currency) if version >= 3
                 else f'<AmtDtls><TxAmt><Amt Ccy="{currency}">{abs(e.amount)}</Amt></TxAmt></AmtDtls>')
    return (f"<Ntry>{_amount(e.amount, currency)}{status}<BookgDt><Dt>{e.booked}</Dt></BookgDt>"
            f"<ValDt><Dt>{e.booked}</Dt></ValDt><AcctSvcrRef>{e.reference}</AcctSvcrRef>"
            f"<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{'RCDT' if credit else 'ICDT'}</Cd>"
            f"<SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
            f"<NtryDtls><TxDtls><Refs><EndToEndId>{e.end_to_end_id}</EndToEndId></Refs>{tx_amount}"
            f"<RltdPties><{party}>{name}</{party}><{account}><Id><IBAN>DE89370400440532013000</IBAN></Id></{account}>"
            f"</RltdPties><RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>")


def camt053(version: int = 8, statements: tuple = (), prolog: str = "") -> str:
    body = "".join(
        f"<Stmt><Id>{s.statement_id}</Id><ElctrncSeqNb>{s.sequence}</ElctrncSeqNb>"
        f"<CreDtTm>2026-03-02T06:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{s.iban}</IBAN></Id><Ccy>{s.currency}</Ccy></Acct>"
        f"{_balance('OPBD', s.opening, s.currency, s.opening_date)}"
        f"{_balance('CLBD', s.closing, s.currency, s.closing_date)}"
        f"{''.join(_entry(e, version, s.currency) for e in s.entries)}</Stmt>"
        for s in statements or (Camt(),))
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n{prolog}'
            f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}">\n'
            f"<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-02T06:00:00</CreDtTm></GrpHdr>\n"
            f"{body}\n</BkToCstmrStmt>\n</Document>\n")


MT940 = """\
{1:F01ABNANL2AXXXX0000000000}{2:I940ABNANL2AXXXXN}{4:
:20:ABN-0302
:25:NL91ABNA0417164300
:28C:00061/001
:60F:C260301EUR1000,00
:61:2603020302C250,00NTRFE2E-1//BANKREF-1
/CTC/ACME GmbH
:86:/EREF/E2E-1/NAME/ACME GmbH/REMI/Invoice 42
:61:2603020302D100,00NTRFE2E-2//BANKREF-2
:86:/NAME/Landlord BV/REMI/Rent March
:62F:C260302EUR1150,00
-}
"""

STRIPE_HEADER = ("balance_transaction_id,created_utc,available_on_utc,currency,gross,fee,net,"
                 "reporting_category,source_id,description")
STRIPE_ROWS = [
    "txn_1,2026-03-01 09:15:00,2026-03-03 00:00:00,usd,100.00,3.20,96.80,charge,ch_1,Order 1001",
    "txn_2,2026-03-01 17:40:00,2026-03-03 00:00:00,usd,-20.00,0.00,-20.00,refund,re_1,Refund order 998",
    "txn_3,2026-03-02 08:00:00,2026-03-04 00:00:00,eur,50.00,1.75,48.25,charge,ch_2,Order 1002",
    "txn_4,2026-03-02 12:00:00,2026-03-02 12:00:00,usd,-70.00,0.00,-70.00,payout,po_1,STRIPE PAYOUT",
]


def stripe_export(rows=None) -> str:
    return "\n".join([STRIPE_HEADER, *(STRIPE_ROWS if rows is None else rows)]) + "\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
