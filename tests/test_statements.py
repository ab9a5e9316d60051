"""Importing bank statements into the ledger database: every format, hostile input, a file once,
a restated statement refused, concurrent imports, the audit trail and row-level security."""

import datetime as dt
import json
import shutil
from decimal import Decimal

import dagster as dg
import psycopg
import pytest
from conftest import add_account, at_once
from statement_files import MT940, Camt, Entry, camt053, stripe_export, write
from test_cli import run

from ledger_pipeline.definitions import defs
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.defs.statements.sensors import statements_inbox
from ledger_pipeline.reconciliation import Scope, reconcile
from ledger_pipeline.reconciliation.checks import AUDIT_CHECKS
from ledger_pipeline.statements import formats, inbox
from ledger_pipeline.statements.importer import ALREADY_IMPORTED, IMPORTED, import_file
from ledger_pipeline.statements.mapping import map_account
from ledger_pipeline.statements.model import Line, Skipped, Statement, StatementError

IBAN = "NL91ABNA0417164300"
COUNTS = "SELECT (SELECT count(*) FROM statement_files), (SELECT count(*) FROM statements), " \
         "(SELECT count(*) FROM statement_lines)"


def parse(path, fmt=None):
    _, read = formats.reader(path, fmt)
    return list(read(path))


def counts(db) -> tuple:
    with db.system_context() as conn:
        return conn.execute(COUNTS).fetchone()


@pytest.fixture
def bank(ledger):
    """The house EUR and USD cash accounts, the IBAN mapped to the EUR one, STRIPE to both."""
    with ledger.system_context() as conn:
        add_account(conn, "CASH-EUR", "asset", currency="EUR")
        add_account(conn, "CASH-USD", "asset", currency="USD")
    map_account(ledger, IBAN, "CASH-EUR")
    map_account(ledger, "STRIPE", "CASH-EUR")
    map_account(ledger, "STRIPE", "CASH-USD")
    return ledger


# --- reading ------------------------------------------------------------------------------------

@pytest.mark.parametrize("version", range(2, 9))
def test_every_camt053_version_reads_to_the_same_statement(tmp_path, version):
    items = parse(write(tmp_path, "s.xml", camt053(version)))
    statement, credit, debit = items
    assert statement == Statement(
        key=1, account_identifier=IBAN, bank_statement_id="STMT-2026-03-02", sequence_number=61, page_number=None,
        currency="EUR", opening_balance=Decimal("1000.00"), opening_date=dt.date(2026, 3, 1),
        closing_balance=Decimal("1150.00"), closing_date=dt.date(2026, 3, 2),
        position="/Document/BkToCstmrStmt/Stmt[1]")
    assert [(line.amount, line.booking_date, line.value_date, line.bank_reference, line.end_to_end_id,
             line.counterparty, line.counterparty_account, line.description, line.bank_transaction_code,
             line.position) for line in (credit, debit)] == [
        (Decimal("250.00"), dt.date(2026, 3, 2), dt.date(2026, 3, 2), "BANKREF-1", "E2E-1", "ACME GmbH",
         "DE89370400440532013000", "Invoice 42", "PMNT-RCDT-ESCT", "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"),
        (Decimal("-100.00"), dt.date(2026, 3, 2), dt.date(2026, 3, 2), "BANKREF-2", "E2E-2", "Landlord BV",
         "DE89370400440532013000", "Invoice 42", "PMNT-ICDT-ESCT", "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"),
    ]
    assert credit.raw.startswith("<") and "BANKREF-1" in credit.raw


def test_camt053_entries_not_booked_are_skipped_and_said(tmp_path):
    pending = Camt(entries=[Entry(Decimal("250.00")), Entry(Decimal("5.00"), status="PDNG")])
    items = parse(write(tmp_path, "s.xml", camt053(8, (pending,))))
    assert [type(i) for i in items] == [Statement, Line, Skipped]
    assert items[2] == Skipped("/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]",
                               "entry status PDNG: not booked, so not a statement line")


def test_mt940_reads_its_fields(tmp_path):
    statement, credit, debit = parse(write(tmp_path, "s.sta", MT940))
    assert (statement.account_identifier, statement.bank_statement_id, statement.sequence_number,
            statement.page_number, statement.opening_balance, statement.closing_balance, statement.position) == (
        IBAN, "00061/001 2026-03-02", 61, 1, Decimal("1000.00"), Decimal("1150.00"), "line 2")
    assert [(line.amount, line.booking_date, line.bank_reference, line.bank_transaction_code, line.position)
            for line in (credit, debit)] == [
        (Decimal("250.00"), dt.date(2026, 3, 2), "BANKREF-1", "NTRF", "line 6"),
        (Decimal("-100.00"), dt.date(2026, 3, 2), "BANKREF-2", "NTRF", "line 9")]
    assert credit.raw.startswith(":61:2603020302C250,00") and ":86:/EREF/E2E-1" in credit.raw


def test_a_stripe_export_is_a_statement_per_currency_with_gross_and_fee_lines(tmp_path):
    items = parse(write(tmp_path, "balance.csv", stripe_export()))
    lines = [i for i in items if isinstance(i, Line)]
    assert [(line.statement, line.amount, line.bank_transaction_code, line.bank_reference, line.end_to_end_id,
             line.booking_date, line.value_date, line.position) for line in lines] == [
        (1, Decimal("100.00"), "charge", "txn_1", "ch_1", dt.date(2026, 3, 1), dt.date(2026, 3, 3), "line 2"),
        (1, Decimal("-3.20"), "fee", "txn_1", "ch_1", dt.date(2026, 3, 1), dt.date(2026, 3, 3), "line 2"),
        (1, Decimal("-20.00"), "refund", "txn_2", "re_1", dt.date(2026, 3, 1), dt.date(2026, 3, 3), "line 3"),
        (2, Decimal("50.00"), "charge", "txn_3", "ch_2", dt.date(2026, 3, 2), dt.date(2026, 3, 4), "line 4"),
        (2, Decimal("-1.75"), "fee", "txn_3", "ch_2", dt.date(2026, 3, 2), dt.date(2026, 3, 4), "line 4"),
        (1, Decimal("-70.00"), "payout", "txn_4", "po_1", dt.date(2026, 3, 2), dt.date(2026, 3, 2), "line 5"),
    ]
    assert json.loads(lines[0].raw)["net"] == "96.80"
    statements = [i for i in items if isinstance(i, Statement)]
    assert [(s.account_identifier, s.currency, s.bank_statement_id, s.opening_balance, s.closing_balance)
            for s in statements] == [("STRIPE", "USD", "USD 2026-03-01..2026-03-02", None, None),
                                     ("STRIPE", "EUR", "EUR 2026-03-02..2026-03-02", None, None)]


def test_a_csv_file_is_read_by_its_declared_column_map(tmp_path):
    column_map = write(tmp_path, "sparkasse.toml", """
account = "DE89370400440532013000"
currency = "EUR"
delimiter = ";"
date_format = "%d.%m.%Y"
decimal_separator = ","
thousands_separator = "."

[columns]
booking_date = "Buchungstag"
value_date = "Valuta"
amount = "Betrag"
counterparty = "Name"
description = "Verwendungszweck"
""")
    path = write(tmp_path, "umsaetze.csv", "Buchungstag;Valuta;Name;Verwendungszweck;Betrag\n"
                                           "02.03.2026;03.03.2026;ACME GmbH;Rechnung 42;1.250,00\n"
                                           "03.03.2026;03.03.2026;Vermieter;Miete;-800,50\n")
    fmt, read = formats.reader(path, f"csv:{column_map}")
    items = list(read(path))
    assert fmt == "csv:sparkasse"
    assert [(i.amount, i.booking_date, i.value_date, i.counterparty, i.description) for i in items[:2]] == [
        (Decimal("1250.00"), dt.date(2026, 3, 2), dt.date(2026, 3, 3), "ACME GmbH", "Rechnung 42"),
        (Decimal("-800.50"), dt.date(2026, 3, 3), dt.date(2026, 3, 3), "Vermieter", "Miete")]
    assert items[2].bank_statement_id == "EUR 2026-03-02..2026-03-03"


def test_formats_are_recognised_from_the_first_bytes(tmp_path):
    assert formats.detect(write(tmp_path, "a", camt053(5))) == "camt053"
    assert formats.detect(write(tmp_path, "b", MT940)) == "mt940"
    assert formats.detect(write(tmp_path, "c", stripe_export())) == "csv:stripe"
    with pytest.raises(StatementError, match="cannot tell the file's format"):
        formats.detect(write(tmp_path, "d", "date,amount\n2026-03-01,5\n"))


# --- importing ----------------------------------------------------------------------------------

def test_a_file_is_imported_in_one_transaction_and_recognised_when_it_comes_again(bank, tmp_path):
    path = write(tmp_path, "march.xml", camt053(8, (Camt(), Camt(statement_id="STMT-2026-03-03", sequence=62,
                                                                  opening=Decimal("1150.00"), entries=[]))))
    first = import_file(bank, path)
    assert (first.status, first.source_format, first.statement_count, first.line_count) == (IMPORTED, "camt053", 2, 2)
    assert [(s.bank_statement_id, s.opening_balance, s.closing_balance, s.lines) for s in first.statements] == [
        ("STMT-2026-03-02", Decimal("1000.00"), Decimal("1150.00"), 2),
        ("STMT-2026-03-03", Decimal("1150.00"), Decimal("1150.00"), 0)]
    again = import_file(bank, path)
    assert (again.status, again.statement_count, again.line_count, again.sha256) == (
        ALREADY_IMPORTED, 2, 2, first.sha256)
    assert counts(bank) == (1, 2, 2)
    with bank.system_context() as conn:
        stored = conn.execute(
            "SELECT l.amount, l.currency, l.bank_reference, l.end_to_end_id, l.counterparty, l.line_number,"
            " l.source_position, b.account_id = (SELECT id FROM accounts WHERE code = 'CASH-EUR')"
            " FROM statement_lines l JOIN statements s ON s.id = l.statement_id"
            " JOIN bank_accounts b ON b.id = s.bank_account_id ORDER BY l.line_number").fetchall()
    assert stored == [
        (Decimal("250.00"), "EUR", "BANKREF-1", "E2E-1", "ACME GmbH", 1, "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]", True),
        (Decimal("-100.00"), "EUR", "BANKREF-2", "E2E-2", "Landlord BV", 2, "/Document/BkToCstmrStmt/Stmt[1]/Ntry[2]", True)]


def test_a_statement_that_does_not_balance_is_imported_as_the_bank_wrote_it(bank, tmp_path):
    result = import_file(bank, write(tmp_path, "s.xml", camt053(8, (Camt(closing=Decimal("1149.99")),))))
    assert result.status == IMPORTED and result.statements[0].closing_balance == Decimal("1149.99")


def test_a_different_file_restating_an_imported_statement_is_refused(bank, tmp_path):
    import_file(bank, write(tmp_path, "first.xml", camt053(8)))
    restated = write(tmp_path, "second.xml", camt053(8, (Camt(), Camt(statement_id="OTHER", sequence=62)),)
                     .replace("1150.00", "1150.01", 1))
    with pytest.raises(StatementError, match=r"second\.xml: /Document/BkToCstmrStmt/Stmt\[1\]: statement"
                                             r" 'STMT-2026-03-02' of account 'NL91ABNA0417164300' was already"
                                             r" imported from first\.xml on .*; a file restating it is refused;"
                                             r" nothing was imported$"):
        import_file(bank, restated)
    assert counts(bank) == (1, 1, 2)


def test_an_unmapped_account_refuses_the_file(bank, tmp_path):
    other = Camt(iban="DE02120300000000202051", statement_id="X")
    path = write(tmp_path, "s.xml", camt053(6, (Camt(), other)))
    with pytest.raises(StatementError, match=r"Stmt\[2\]: account 'DE02120300000000202051' \(EUR\) is not mapped to"
                                             r" a ledger account: map it with `ledger-pipeline statements map"
                                             r" 'DE02120300000000202051' ACCOUNT_CODE`; nothing was imported$"):
        import_file(bank, path)
    assert counts(bank) == (0, 0, 0)


def _camt(text_from: str, text_to: str, version: int = 8) -> str:
    text = camt053(version)
    assert text_from in text
    return text.replace(text_from, text_to, 1)


ENTRY = "/Document/BkToCstmrStmt/Stmt[1]/Ntry[1]"


def _amount(amount: str, currency: str = "EUR") -> str:
    """The statement with its first entry's amount written as ``amount`` in ``currency``."""
    return _camt('<Amt Ccy="EUR">250.00</Amt>', f'<Amt Ccy="{currency}">{amount}</Amt>')


BILLION_LAUGHS = ('<!DOCTYPE Document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n')
XXE = '<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


@pytest.mark.parametrize("name, text, where, problem", [
    ("comma amount", _amount("250,00"), f"{ENTRY}/Amt", "not an amount: '250,00'"),
    ("negative amount", _amount("-250.00"), f"{ENTRY}/Amt", "not an amount: '-250.00' (the sign is CdtDbtInd's)"),
    ("exponent", _amount("2.5E2"), f"{ENTRY}/Amt", "not an amount: '2.5E2'"),
    ("finer than cents", _amount("250.001"), f"{ENTRY}/Amt", "amount 250.001 is finer than EUR's minor unit (0.01)"),
    ("bad date", _camt("<BookgDt><Dt>2026-03-02</Dt>", "<BookgDt><Dt>2026-02-30</Dt>"),
     f"{ENTRY}/BookgDt", "not a date: '2026-02-30' (expected YYYY-MM-DD)"),
    ("unknown currency", _camt("<Ccy>EUR</Ccy>", "<Ccy>EUX</Ccy>"),
     "/Document/BkToCstmrStmt/Stmt[1]/Acct/Ccy", "unknown currency 'EUX' (not an ISO 4217 code)"),
    ("entry in another currency", _amount("250.00", "USD"), f"{ENTRY}/Amt/@Ccy",
     "currency USD differs from the statement's EUR"),
    ("no closing balance", _camt("<Cd>CLBD</Cd>", "<Cd>ITBD</Cd>"),
     "/Document/BkToCstmrStmt/Stmt[1]", "the statement has no closing booked balance (CLBD)"),
    ("bad indicator", _camt("<CdtDbtInd>CRDT</CdtDbtInd><Sts>", "<CdtDbtInd>CREDIT</CdtDbtInd><Sts>", 5),
     f"{ENTRY}/CdtDbtInd", "expected CRDT or DBIT, got 'CREDIT'"),
    ("another message", camt053(8).replace("camt.053.001.08", "camt.052.001.08"),
     "/Document", "not a camt.053 document (.001.02 to .001.08): the root element is"
                  " {urn:iso:std:iso:20022:tech:xsd:camt.052.001.08}Document"),
    ("entities", camt053(8, prolog=BILLION_LAUGHS), "the document",
     "a document type declaration (DTD) is not allowed in a statement"),
    ("external entity", camt053(8, prolog=XXE), "the document",
     "a document type declaration (DTD) is not allowed in a statement"),
    ("truncated", camt053(8).rsplit("</BkToCstmrStmt>", 1)[0], "line 5, column 1",
     "not well-formed XML (Premature end of data in tag BkToCstmrStmt line 3)"),
    ("undeclared entity", _camt("<Ustrd>Invoice 42</Ustrd>", "<Ustrd>Invoice &foo;</Ustrd>"), "line 4, column",
     "not well-formed XML (Entity 'foo' not defined)"),
])
def test_bad_camt053_input_is_refused_naming_the_element(bank, tmp_path, name, text, where, problem):
    path = write(tmp_path, "bad.xml", text)
    with pytest.raises(StatementError) as refused:
        import_file(bank, path)
    assert str(refused.value).startswith(f"{path}: {where}")
    assert str(refused.value).endswith(f"{problem}; nothing was imported")
    assert counts(bank) == (0, 0, 0)


def _spoiled(bank, tmp_path, name: str, text: str, old: str, new: str) -> str:
    """The refusal of ``text`` with ``old`` spoilt to ``new``: a text file, so one field of it."""
    assert old in text
    path = write(tmp_path, name, text.replace(old, new))
    with pytest.raises(StatementError) as refused:
        import_file(bank, path)
    assert counts(bank) == (0, 0, 0)
    return str(refused.value).removeprefix(f"{path}: ")


@pytest.mark.parametrize("old, new, line, problem", [
    ("C250,00NTRF", "C25O,00NTRF", 6, ":61: '2603020302C25O,00NTRFE2E-1//BANKREF-1' is not value date,"),
    ("2603020302D100", "2602300230D100", 9, "not a date: '260230'"),
    (":60F:C260301EUR1000,00", ":60F:C260301EUR10x0,00", 5, ":60F: 'C260301EUR10x0,00' is not D/C,"),
    (":60F:C260301EUR", ":60F:C260301EUX", 5, "unknown currency 'EUX'"),
    (":62F:C260302EUR", ":62F:C260302USD", 11, "the closing balance is in USD, the opening balance in EUR"),
    ("C250,00NTRF", "C250,001NTRF", 6, "amount 250.001 is finer than EUR's minor unit (0.01)"),
    (":62F:C260302EUR1150,00", ":64:C260302EUR1150,00", 2, "the statement has no closing (:62F:) balance"),
])
def test_bad_mt940_input_is_refused_naming_the_line(bank, tmp_path, old, new, line, problem):
    assert _spoiled(bank, tmp_path, "bad.sta", MT940, old, new).startswith(f"line {line}: {problem}")


@pytest.mark.parametrize("old, new, where, problem", [
    ("100.00,3.20,96.80", "1OO.00,3.20,96.80", "line 2: gross", "not an amount: '1OO.00'"),
    ("100.00,3.20,96.80", "100.00,3.20,96.70", "line 2", "gross 100.00 less fee 3.20 is not net 96.70"),
    ("2026-03-02 08:00:00", "2026-13-02 08:00:00", "line 4: created", "not a date: '2026-13-02 08:00:00'"),
    (",eur,", ",eux,", "line 4: currency", "unknown currency 'eux'"),
    ("-70.00,0.00,-70.00", "-70.005,0.00,-70.005", "line 5: gross", "amount -70.005 is finer than USD's"),
])
def test_bad_stripe_input_is_refused_naming_the_line_and_column(bank, tmp_path, old, new, where, problem):
    assert _spoiled(bank, tmp_path, "balance.csv", stripe_export(), old, new).startswith(f"{where}: {problem}")


def test_stripe_balances_are_derived_from_the_previous_statement(bank, tmp_path):
    first = import_file(bank, write(tmp_path, "march-1.csv", stripe_export()))
    assert [(s.currency, s.opening_balance, s.closing_balance, s.balances_derived) for s in first.statements] == [
        ("USD", Decimal("0"), Decimal("6.80"), True), ("EUR", Decimal("0"), Decimal("48.25"), True)]
    second = import_file(bank, write(tmp_path, "march-2.csv", stripe_export([
        "txn_5,2026-03-03 10:00:00,2026-03-05 00:00:00,usd,10.00,0.59,9.41,charge,ch_3,Order 1003"])))
    assert [(s.bank_statement_id, s.opening_balance, s.closing_balance) for s in second.statements] == [
        ("USD 2026-03-03..2026-03-03", Decimal("6.80"), Decimal("16.21"))]


def test_an_account_named_on_the_command_line_maps_a_stripe_export(bank, tmp_path):
    path = write(tmp_path, "eu.csv", stripe_export([STRIPE_EUR_ONLY]))
    with pytest.raises(StatementError, match="account 'STRIPE-EU' .EUR. is not mapped"):
        import_file(bank, path, account="STRIPE-EU")
    map_account(bank, "STRIPE-EU", "CASH-EUR")
    assert import_file(bank, path, account="STRIPE-EU").statements[0].account_identifier == "STRIPE-EU"


STRIPE_EUR_ONLY = "txn_9,2026-03-02 08:00:00,2026-03-04 00:00:00,eur,50.00,1.75,48.25,charge,ch_9,Order 9"


def test_two_imports_of_one_file_at_once_import_it_once(bank, tmp_path):
    path = write(tmp_path, "s.xml", camt053(8))
    copy = tmp_path / "copy.xml"
    shutil.copy(path, copy)  # the same bytes under another name
    results, errors = _concurrently(bank, [path, copy])
    assert errors == []
    assert sorted(r.status for r in results) == [ALREADY_IMPORTED, IMPORTED]
    assert counts(bank) == (1, 1, 2)


def test_two_files_restating_one_statement_at_once_import_one(bank, tmp_path):
    one = write(tmp_path, "one.xml", camt053(8))
    other = write(tmp_path, "other.xml", camt053(7))
    results, errors = _concurrently(bank, [one, other])
    assert [r.status for r in results] == [IMPORTED]
    assert len(errors) == 1 and "a file restating it is refused" in str(errors[0])
    assert counts(bank) == (1, 1, 2)


def _concurrently(db, paths):
    outcomes = at_once(*[lambda path=path: import_file(db, path) for path in paths], expected=(StatementError,))
    errors = [o for o in outcomes if isinstance(o, StatementError)]
    return [o for o in outcomes if not isinstance(o, StatementError)], errors


# --- mapping ------------------------------------------------------------------------------------

def test_mapping_is_to_a_house_asset_account_and_can_be_corrected(ledger, two_users):
    with ledger.system_context() as conn:
        add_account(conn, "CASH-USD-2", "asset")
    assert map_account(ledger, " US-BANK-1 ", "CASH-USD").previous_account_code is None
    corrected = map_account(ledger, "US-BANK-1", "CASH-USD-2")
    assert (corrected.identifier, corrected.currency, corrected.previous_account_code, corrected.changed) == (
        "US-BANK-1", "USD", "CASH-USD", True)
    assert not map_account(ledger, "US-BANK-1", "CASH-USD-2").changed
    with pytest.raises(Exception, match="WALLET-A is a user's liability account: a bank account is mirrored by a"
                                        " house asset account"):
        map_account(ledger, "US-BANK-2", "WALLET-A")
    with pytest.raises(Exception, match="no ledger account has the code 'NOPE'"):
        map_account(ledger, "US-BANK-2", "NOPE")
    with ledger.system_context() as conn:
        audited = conn.execute("SELECT operation FROM audit_log WHERE table_name = 'bank_accounts' ORDER BY seq").fetchall()
    assert audited == [("INSERT",), ("UPDATE",)]


# --- audit and row-level security ---------------------------------------------------------------

def test_imported_statements_are_audited_and_pass_the_audit_checks(bank, tmp_path):
    import_file(bank, write(tmp_path, "s.xml", camt053(8)))
    with bank.system_context() as conn:
        audited = conn.execute("SELECT table_name, count(*) FROM audit_log WHERE operation = 'INSERT'"
                               " GROUP BY 1 ORDER BY 1").fetchall()
    assert audited == [("accounts", 2), ("bank_accounts", 3), ("statement_files", 1), ("statement_lines", 2),
                       ("statements", 1)]
    result = reconcile(bank, Scope("manual", checks=AUDIT_CHECKS))
    assert result.status == "passed", result


def test_statements_cannot_be_changed_by_system_work_and_are_invisible_to_the_application(
        bank, ledger_url, app_ledger, system_ledger, tmp_path):
    import_file(system_ledger, write(tmp_path, "s.xml", camt053(8)))  # a login granted ledger_system only
    with system_ledger.system_context() as conn:
        assert conn.execute(COUNTS).fetchone() == (1, 1, 2)
    for statement in ("UPDATE statement_lines SET amount = 0", "DELETE FROM statements"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with system_ledger.system_context() as conn:
                conn.execute(statement)
    for table in ("statements", "statement_lines", "statement_files", "bank_accounts"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with app_ledger.user_context("00000000-0000-0000-0000-000000000001") as conn:
                conn.execute(f"SELECT * FROM {table}")
    with psycopg.connect(ledger_url) as conn:  # even the owner cannot truncate them past the audit log
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="would bypass the audit log"):
            conn.execute("TRUNCATE statement_lines CASCADE")


# --- the command line ---------------------------------------------------------------------------

def test_the_statements_commands(bank, ledger_url, tmp_path):
    path = write(tmp_path, "s.sta", MT940)
    mapped = run("statements", "map", "NL91ABNA0417164300", "CASH-EUR", url=ledger_url)
    assert (mapped.returncode, mapped.stdout.strip()) == (0, "NL91ABNA0417164300 (EUR) is already mapped to CASH-EUR")

    imported = run("statements", "import", str(path), url=ledger_url)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == [
        f"imported {path} (mt940, sha256 {imported.stdout.split('sha256 ')[1][:12]}): 1 statements, 2 lines",
        "  NL91ABNA0417164300 00061/001 2026-03-02 EUR: opening 1000.00 (2026-03-01), closing 1150.00"
        " (2026-03-02), 2 lines"]

    again = run("statements", "import", str(path), "--json", url=ledger_url)
    assert again.returncode == 0, again.stderr
    assert {k: v for k, v in json.loads(again.stdout).items() if k in ("status", "statement_count", "line_count")} == {
        "status": "already imported", "statement_count": 1, "line_count": 2}

    bad = write(tmp_path, "bad.sta", MT940.replace("C250,00", "C25O,00"))
    refused = run("statements", "import", str(bad), "--format", "mt940", url=ledger_url)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith(f"error: {bad}: line 6: :61: ") and len(refused.stderr.splitlines()) == 1
    refused_json = run("statements", "import", str(bad), "--json", url=ledger_url)
    assert refused_json.returncode == 2 and json.loads(refused_json.stdout)["status"] == "refused"

    unknown = run("statements", "import", str(path), "--format", "ofx", url=ledger_url)
    assert unknown.returncode == 2 and "unknown format 'ofx'" in unknown.stderr


# --- the inbox ----------------------------------------------------------------------------------

def test_the_inbox_moves_each_file_to_done_or_to_rejected_with_its_reason(bank, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_STATEMENTS_INBOX", str(tmp_path / "inbox"))
    assert inbox.pending() == []
    drop = tmp_path / "inbox"
    drop.mkdir()
    good = write(drop, "a-march.xml", camt053(8))
    write(drop, "b-march-again.xml", camt053(8))
    bad = write(drop, "c-bad.sta", MT940.replace("C250,00", "C25O,00"))
    write(drop, ".d-still-writing.xml", "<Docu")
    assert inbox.pending() == [good, drop / "b-march-again.xml", bad]

    outcomes = [inbox.process(bank, path) for path in inbox.pending()]
    assert [(o.status, o.moved_to.relative_to(drop).as_posix()) for o in outcomes] == [
        (IMPORTED, "done/a-march.xml"), (ALREADY_IMPORTED, "done/b-march-again.xml"),
        ("refused", "rejected/c-bad.sta")]
    assert (drop / "rejected" / "c-bad.sta.reason").read_text() == outcomes[2].reason + "\n"
    assert outcomes[2].reason.startswith(f"{bad}: line 6: :61: '2603020302C25O,00NTRFE2E-1//BANKREF-1'")
    assert inbox.pending() == [] and (drop / ".d-still-writing.xml").exists()

    write(drop, "a-march.xml", camt053(8))  # the same name again lands beside the first
    assert inbox.process(bank, drop / "a-march.xml").moved_to == drop / "done" / "a-march-2.xml"
    assert counts(bank) == (1, 1, 2)


def test_a_missing_file_is_refused_in_one_line(bank, tmp_path):
    with pytest.raises(StatementError, match=r"/nowhere\.xml: the file: cannot be read: No such file or directory;"
                                             r" nothing was imported$"):
        import_file(bank, tmp_path / "nowhere.xml")


def test_the_inbox_sensor_imports_each_dropped_file_in_a_run_that_materializes_bank_statements(
    bank, ledger_url, tmp_path, monkeypatch
):
    monkeypatch.setenv("LEDGER_STATEMENTS_INBOX", str(tmp_path / "inbox"))
    drop = tmp_path / "inbox"
    drop.mkdir()
    write(drop, "a-march.xml", camt053(8))
    write(drop, "c-bad.sta", MT940.replace("C250,00", "C25O,00"))
    resources = {"ledger_db": LedgerResource(url=ledger_url)}
    with dg.instance_for_test() as instance:
        requests = statements_inbox.evaluate_tick(dg.build_sensor_context(instance=instance)).run_requests
        assert [r.run_key.split(":")[0] for r in requests] == ["a-march.xml", "c-bad.sta"]
        job = defs.resolve_job_def("import_statement_job")
        results = [job.execute_in_process(run_config=r.run_config, instance=instance, resources=resources)
                   for r in requests]
        assert all(r.success for r in results)
        imported, refused = (r.asset_materializations_for_node("bank_statements")[0].metadata for r in results)
        assert (imported["outcome"].value, imported["lines_imported"].value) == (IMPORTED, 2)
        assert refused["outcome"].value == "refused" and "line 6" in refused["reason"].value
        assert refused["statements"].value == 1 and f"| {IBAN} | EUR | CASH-EUR | 1 | 2 |" in (
            refused["accounts"].value)
        assert statements_inbox.evaluate_tick(dg.build_sensor_context(instance=instance)).run_requests == []
    assert (drop / "done" / "a-march.xml").exists() and (drop / "rejected" / "c-bad.sta.reason").exists()
