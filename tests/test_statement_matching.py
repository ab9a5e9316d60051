"""Matching statement lines with ledger entries, and the external reconciliation's four checks:
each rule and strategy, one line and one entry in at most one match (also under two runs at once),
deterministic results, manual matches and unmatching, each check's fault and nothing else, the
bridge, and the CLI's exit codes."""

import datetime as dt
import itertools
import json
import uuid
from decimal import Decimal

import psycopg
import pytest
from conftest import add_account, at_once
from statement_files import Camt, Entry, camt053, write
from test_cli import run

from ledger_pipeline.ledger.posting import Entry as Leg
from ledger_pipeline.ledger.posting import post_transaction
from ledger_pipeline.platform.errors import LedgerError
from ledger_pipeline.reconciliation import Scope, reconcile
from ledger_pipeline.reconciliation.checks import AUDIT_CHECKS, EXTERNAL_CHECKS
from ledger_pipeline.reconciliation.external import reconcile_external
from ledger_pipeline.statements.importer import import_file
from ledger_pipeline.statements.manual_matches import match_manual, unmatch
from ledger_pipeline.statements.mapping import map_account
from ledger_pipeline.statements.matching import Rules, match

IBAN = "NL91ABNA0417164300"
D = Decimal
_references = itertools.count(1)


class Bank:
    """A ledger with a house EUR cash account mirrored by IBAN, and helpers to post to it and to
    import statements of it."""

    def __init__(self, db, tmp_path):
        self.db, self.tmp_path = db, tmp_path
        with db.system_context() as conn:
            self.cash = add_account(conn, "CASH-EUR", "asset", currency="EUR")
            self.sales = add_account(conn, "SALES-EUR", "revenue", currency="EUR")
        map_account(db, IBAN, "CASH-EUR")
        self.files = itertools.count(1)

    def post(self, amount, day: str, reference=None) -> uuid.UUID:
        """A transaction moving ``amount`` into the cash account (out of it when negative) on
        ``day`` (at noon, or at the time given after it); returns the cash entry's id."""
        amount = D(amount)
        cash, other = ("debit", "credit") if amount > 0 else ("credit", "debit")
        with self.db.system_context() as conn:
            tx = post_transaction(conn, "DEPOSIT", [Leg(self.cash, cash, abs(amount)), Leg(self.sales, other, abs(amount))],
                                  metadata={"external_reference": reference} if reference else None,
                                  created_at=dt.datetime.fromisoformat(
                                      f"{day}+00:00" if "T" in day else f"{day}T12:00:00+00:00"))
            return conn.execute("SELECT id FROM entries WHERE transaction_id = %s AND account_id = %s",
                                (tx, self.cash)).fetchone()[0]

    def statement(self, lines, opening="0", opening_date="2026-03-01", closing_date="2026-03-05", sequence=1,
                  closing=None, statement_id=None) -> list[uuid.UUID]:
        """Imports one camt.053 statement of ``lines`` (amount, day[, end-to-end id]); returns the
        line ids in order."""
        entries = [Entry(D(amount), booked=day, reference=f"BANK-{next(_references)}",
                         end_to_end_id=rest[0] if rest else "NOTPROVIDED") for amount, day, *rest in lines]
        total = sum((e.amount for e in entries), D(0))
        camt = Camt(statement_id=statement_id or f"STMT-{sequence}", sequence=sequence, opening=D(opening),
                    closing=D(closing) if closing is not None else D(opening) + total,
                    opening_date=opening_date, closing_date=closing_date, entries=entries)
        path = write(self.tmp_path, f"s{next(self.files)}.xml", camt053(8, (camt,)))
        import_file(self.db, path)
        with self.db.system_context() as conn:
            return [row[0] for row in conn.execute(
                "SELECT l.id FROM statement_lines l JOIN statements s ON s.id = l.statement_id"
                " WHERE s.bank_statement_id = %s ORDER BY l.line_number", (camt.statement_id,))]

    def active(self) -> list[tuple]:
        """Every active match: (rule, strategy, line ids, entry ids, amount difference, days)."""
        with self.db.system_context() as conn:
            return conn.execute(
                "SELECT m.rule, m.strategy,"
                "  array_agg(k.statement_line_id ORDER BY k.statement_line_id) FILTER (WHERE k.statement_line_id IS NOT NULL),"
                "  array_agg(k.entry_id ORDER BY k.entry_id) FILTER (WHERE k.entry_id IS NOT NULL),"
                "  m.amount_difference, m.days_difference"
                " FROM statement_matches m JOIN statement_match_links k ON k.match_id = m.id AND k.active"
                " WHERE m.unmatched_at IS NULL GROUP BY m.id ORDER BY min(k.statement_line_id::text)").fetchall()


@pytest.fixture
def bank(ledger, tmp_path):
    return Bank(ledger, tmp_path)


def pairs(found):
    return {(tuple(lines), tuple(entries)) for _, _, lines, entries, _, _ in found}


# --- the rules -----------------------------------------------------------------------------------

def test_reference_rule_comes_first_and_beats_a_closer_amount(bank):
    closer = bank.post("100", "2026-03-02")
    referenced = bank.post("100", "2026-03-03", reference="INV-1")
    [line] = bank.statement([("100", "2026-03-02", "INV-1")])
    match(bank.db)
    assert bank.active() == [("reference", "one_to_one", [line], [referenced], D(0), 1)]
    assert closer not in {e for _, _, _, entries, _, _ in bank.active() for e in entries}


def test_reference_rule_records_an_amount_difference(bank):
    entry = bank.post("99.99", "2026-03-02", reference="INV-2")
    [line] = bank.statement([("100.00", "2026-03-02", "INV-2")])
    match(bank.db)
    assert bank.active() == [("reference", "one_to_one", [line], [entry], D("0.01"), 0)]


def test_amount_date_rule_matches_within_the_window_only(bank):
    lagging = bank.post("50", "2026-03-04")
    bank.post("70", "2026-03-05")
    first, second = bank.statement([("50", "2026-03-02"), ("70", "2026-03-02")])
    result = match(bank.db)
    assert bank.active() == [("amount_date", "one_to_one", [first], [lagging], D(0), 2)]
    assert result.counts() == {"amount_date": 1}
    match(bank.db, Rules(window_days=3))
    assert len(bank.active()) == 2 and second in {lines[0] for _, _, lines, _, _, _ in bank.active()}


def test_a_credit_to_the_bank_is_a_debit_of_the_cash_account(bank):
    paid_out = bank.post("-40", "2026-03-02")
    bank.post("40", "2026-03-02")
    [line] = bank.statement([("-40", "2026-03-02")])
    match(bank.db)
    assert pairs(bank.active()) == {((line,), (paid_out,))}


@pytest.mark.parametrize("rules, ledger_amount, difference", [
    (Rules(absolute_tolerance=D("0.01")), "99.99", D("0.01")),
    (Rules(relative_tolerance=D("0.001")), "99.95", D("0.05")),
])
def test_tolerance_rule_matches_within_its_tolerance(bank, rules, ledger_amount, difference):
    entry = bank.post(ledger_amount, "2026-03-03")
    [line] = bank.statement([("100.00", "2026-03-02")])
    assert match(bank.db).made == 0  # the defaults: no tolerance
    match(bank.db, rules)
    assert bank.active() == [("tolerance", "one_to_one", [line], [entry], difference, 1)]


def test_tolerance_rule_does_not_stretch_past_it(bank):
    bank.post("99.98", "2026-03-02")
    bank.statement([("100.00", "2026-03-02")])
    match(bank.db, Rules(absolute_tolerance=D("0.01")))
    assert bank.active() == []


def test_a_payout_settles_entries_sharing_its_reference(bank):
    entries = sorted(bank.post(amount, "2026-03-02", reference="PAYOUT-7") for amount in ("100", "120", "80"))
    [line] = bank.statement([("300", "2026-03-03", "PAYOUT-7")])
    match(bank.db)
    assert bank.active() == [("reference", "one_to_many", [line], entries, D(0), -1)]


def test_a_payout_settles_entries_summing_to_it_exactly(bank):
    entries = sorted(bank.post(amount, day) for amount, day in (("100", "2026-03-01"), ("150", "2026-03-02"),
                                                                 ("50", "2026-03-03")))
    distractor = bank.post("70", "2026-03-02")
    [line] = bank.statement([("300", "2026-03-03")])
    match(bank.db)
    assert bank.active() == [("sum", "one_to_many", [line], entries, D(0), -2)]
    assert distractor not in entries


def test_several_lines_settle_one_entry(bank):
    entry = bank.post("200", "2026-03-02")
    lines = sorted(bank.statement([("120", "2026-03-02"), ("80", "2026-03-03")]))
    match(bank.db)
    assert bank.active() == [("sum", "many_to_one", lines, [entry], D(0), -1)]


def test_group_size_is_bounded(bank):
    for amount in ("10", "20", "30", "40"):
        bank.post(amount, "2026-03-02")
    bank.statement([("100", "2026-03-02")])
    match(bank.db)  # four entries, the default bound is three
    assert bank.active() == []
    match(bank.db, Rules(max_group_size=4))
    assert [(rule, strategy, len(entries)) for rule, strategy, _, entries, _, _ in bank.active()] == [
        ("sum", "one_to_many", 4)]


def test_strategies_can_be_switched_off(bank, tmp_path):
    bank.post("100", "2026-03-02", reference="P-1")
    bank.post("200", "2026-03-02", reference="P-1")
    bank.statement([("300", "2026-03-02", "P-1")])
    path = write(tmp_path, "rules.toml", '[matching]\nstrategies = ["one_to_one"]\nwindow_days = 1\n')
    rules = Rules.from_toml(path)
    assert rules == Rules(strategies=("one_to_one",), window_days=1)
    match(bank.db, rules)
    assert bank.active() == []


@pytest.mark.parametrize("text, message", [
    ('[matching]\norder = ["reference", "fuzzy"]\n', "unknown matching rules or strategies: fuzzy"),
    ('[matching]\nabsolute_tolerance = 0.01\n', "written as a string"),
    ('[matching]\nwindow = 2\n', "unknown keys window"),
])
def test_bad_rules_are_refused(tmp_path, text, message):
    with pytest.raises(LedgerError, match=message):
        Rules.from_toml(write(tmp_path, "rules.toml", text))


# --- one line, one entry, one match --------------------------------------------------------------

def test_ties_are_broken_the_same_way_every_time(bank):
    early = bank.post("10", "2026-03-02T09:00")
    late = bank.post("10", "2026-03-02T15:00")
    first, second = bank.statement([("10", "2026-03-02"), ("10", "2026-03-02")])
    dry = [(m.line_ids, m.entry_ids) for m in match(bank.db, dry_run=True).matches]
    assert dry == [(m.line_ids, m.entry_ids) for m in match(bank.db, dry_run=True).matches]
    assert bank.active() == []  # a dry run records nothing
    match(bank.db)
    assert pairs(bank.active()) == {((first,), (early,)), ((second,), (late,))}
    assert dry == [([first], [early]), ([second], [late])]


def test_two_runs_at_once_never_put_a_line_or_an_entry_in_two_matches(bank, ledger_url):
    from ledger_pipeline.platform.db import LedgerDatabase

    for n in range(30):
        bank.post("10", f"2026-03-0{1 + n % 5}")
    bank.statement([("10", f"2026-03-0{1 + n % 5}") for n in range(30)] + [("20", "2026-03-03")])
    databases = [LedgerDatabase(url=ledger_url) for _ in range(2)]  # a connection each
    try:
        results = at_once(*[lambda db=db: match(db) for db in databases])
    finally:
        for db in databases:
            db.close()
    assert sorted(r.made for r in results) == [0, 30]
    with bank.db.system_context() as conn:
        assert conn.execute(
            "SELECT count(*), count(DISTINCT statement_line_id), count(DISTINCT entry_id),"
            " count(*) FILTER (WHERE statement_line_id IS NULL) FROM statement_match_links WHERE active"
        ).fetchone() == (60, 30, 30, 30)


def test_the_database_refuses_a_second_active_match_of_a_line(bank):
    entry = bank.post("10", "2026-03-02")
    other = bank.post("5", "2026-03-02")
    [line] = bank.statement([("10", "2026-03-02")])
    match(bank.db)
    with pytest.raises(psycopg.errors.UniqueViolation):
        with bank.db.system_context() as conn:
            made = conn.execute("INSERT INTO statement_matches (bank_account_id, rule, strategy, amount_difference,"
                                " days_difference) SELECT bank_account_id, 'amount_date', 'one_to_one', 0, 0"
                                " FROM statement_matches RETURNING id").fetchone()[0]
            conn.execute("INSERT INTO statement_match_links (match_id, entry_id) VALUES (%s, %s)", (made, other))
            conn.execute("INSERT INTO statement_match_links (match_id, statement_line_id) VALUES (%s, %s)",
                         (made, line))
    with pytest.raises(LedgerError, match="already in match"):
        match_manual(bank.db, line, [other], "the bank split it")
    assert pairs(bank.active()) == {((line,), (entry,))}


# --- by hand ---------------------------------------------------------------------------------------

def test_a_policy_that_narrows_sight_of_the_matches_makes_the_external_run_error(bank, ledger_url):
    with psycopg.connect(ledger_url) as conn:
        conn.execute("CREATE POLICY hide_manual ON statement_matches AS RESTRICTIVE TO ledger_system USING (NOT manual)")
    result = reconcile_external(bank.db).run
    assert result.status == "error"
    assert "statement_matches has 1 restrictive policies that may hide rows" in result.row["error"]


def test_a_manual_match_survives_a_rerun(bank):
    entry = bank.post("90", "2026-03-10")
    [line] = bank.statement([("100", "2026-03-02")])
    made = match_manual(bank.db, line, [entry], "fee deducted by the bank")
    assert (made.amount_difference, made.days_difference) == (D(10), 8)
    match(bank.db)
    reconcile_external(bank.db)
    assert bank.active() == [("manual", "one_to_one", [line], [entry], D(10), 8)]
    with bank.db.system_context() as conn:
        assert conn.execute("SELECT manual, reason FROM statement_matches").fetchall() == [
            (True, "fee deducted by the bank")]


def test_a_manual_match_is_refused_for_another_account_or_without_a_reason(bank):
    with bank.db.system_context() as conn:
        usd = add_account(conn, "CASH-USD", "asset", currency="USD")
        other_sales = add_account(conn, "SALES-USD", "revenue", currency="USD")
        tx = post_transaction(conn, "DEPOSIT", [Leg(usd, "debit", D(5)), Leg(other_sales, "credit", D(5))])
        usd_entry = conn.execute("SELECT id FROM entries WHERE transaction_id = %s AND account_id = %s",
                                 (tx, usd)).fetchone()[0]
    entry = bank.post("5", "2026-03-02")
    [line] = bank.statement([("5", "2026-03-02")])
    with pytest.raises(LedgerError, match="not a EUR entry of the ledger account"):
        match_manual(bank.db, line, [usd_entry], "wrong account")
    with pytest.raises(LedgerError, match="a reason is required"):
        match_manual(bank.db, line, [entry], "  ")
    assert bank.active() == []


def test_unmatch_is_audited_and_the_rules_leave_the_pair_apart(bank, ledger_url):
    entry = bank.post("25", "2026-03-02")
    [line] = bank.statement([("25", "2026-03-02")])
    [made] = match(bank.db, listed=True).matches
    unmatch(bank.db, made.id, "a different customer's payment")
    assert bank.active() == []
    with pytest.raises(LedgerError, match="already undone"):
        unmatch(bank.db, made.id, "again")
    with bank.db.system_context() as conn:
        audited = conn.execute(
            "SELECT table_name, operation, new_data ->> 'unmatch_reason', new_data ->> 'active' FROM audit_log"
            " WHERE table_name LIKE 'statement_match%%' AND operation = 'UPDATE' ORDER BY table_name").fetchall()
    assert audited == [("statement_match_links", "UPDATE", None, "false"),
                       ("statement_match_links", "UPDATE", None, "false"),
                       ("statement_matches", "UPDATE", "a different customer's payment", None)]
    assert match(bank.db).made == 0  # never paired again by a rule
    match_manual(bank.db, line, [entry], "it was theirs after all")  # a person may
    assert [rule for rule, *_ in bank.active()] == ["manual"]
    audit = reconcile(bank.db, Scope("manual", checks=AUDIT_CHECKS))  # the trail covers the matches
    assert audit.status == "passed", audit.checks
    with psycopg.connect(ledger_url) as conn:  # the superuser, editing where the triggers do not see
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE statement_matches SET reason = 'edited' WHERE manual")
    # A row changed keeps its arrival: the full verification finds it at once (a nightly run, when
    # the slice reaches its audit rows: tests/test_audit_verification.py).
    tampered = reconcile(bank.db, Scope("manual", checks=AUDIT_CHECKS), audit_full=True)
    assert tampered.checks["audit_trail_complete"].unexpected_count == 1


# --- a pass retries what changed since the last one -------------------------------------------------

def test_a_line_left_unmatched_is_retried_only_when_something_near_its_day_changes(bank):
    bank.post("10", "2026-03-02")
    bank.statement([("10", "2026-03-02"), ("25", "2026-03-02"), ("40", "2026-03-20")], closing_date="2026-03-20")
    first = match(bank.db)
    assert (first.made, first.lines_read) == (1, 3)
    assert match(bank.db).lines_read == 1  # the 25, near the match the first pass made
    assert (match(bank.db).lines_read, match(bank.db, dry_run=True).lines_read) == (0, 0)
    arrived = bank.post("25", "2026-03-03")  # within the window of the 25, not of the 40
    later = match(bank.db)
    assert (later.made, later.lines_read) == (1, 1)
    assert arrived in {e for _, _, _, entries, _, _ in bank.active() for e in entries}


def test_a_statement_arriving_late_is_matched_against_entries_already_there(bank):
    waiting = bank.post("5", "2026-03-02")
    bank.statement([("7", "2026-03-10")], sequence=2, opening_date="2026-03-09", closing_date="2026-03-10")
    assert match(bank.db).made == 0
    [late] = bank.statement([("5", "2026-03-02")], sequence=1)
    assert bank.active() == []
    assert match(bank.db).lines_read == 1
    assert pairs(bank.active()) == {((late,), (waiting,))}


def test_a_pass_up_to_a_later_day_reads_the_lines_past_the_last_ones(bank):
    entry = bank.post("8", "2026-03-04")
    [line] = bank.statement([("8", "2026-03-04")])
    assert match(bank.db, through=dt.date(2026, 3, 2)).lines_read == 0
    assert match(bank.db, through=dt.date(2026, 3, 5)).made == 1
    assert pairs(bank.active()) == {((line,), (entry,))}
    match(bank.db, through=dt.date(2026, 3, 3))  # a backfill's day: what it did not reach stays to retry
    with bank.db.system_context() as conn:
        assert conn.execute("SELECT through FROM statement_match_passes").fetchall() == [(dt.date(2026, 3, 5),)]


def test_an_undone_match_frees_its_line_for_another_entry_on_the_next_pass(bank):
    first = bank.post("10", "2026-03-02T09:00")
    second = bank.post("10", "2026-03-02T15:00")
    [line] = bank.statement([("10", "2026-03-02")])
    [made] = match(bank.db, listed=True).matches
    assert made.entry_ids == [first] and match(bank.db).made == 0
    unmatch(bank.db, made.id, "the later payment was this one")
    assert (match(bank.db).made, pairs(bank.active())) == (1, {((line,), (second,))})


def test_a_manual_match_or_other_rules_retry_the_lines_near_it(bank):
    entry = bank.post("90", "2026-03-10")
    [line, left] = bank.statement([("100", "2026-03-02"), ("3", "2026-03-04")])
    assert match(bank.db).lines_read == 2
    match_manual(bank.db, line, [entry], "fee deducted by the bank")
    assert match(bank.db).lines_read == 1  # the 3, within twice the window of the manual match's day
    assert match(bank.db).lines_read == 0
    assert match(bank.db, Rules(window_days=1)).lines_read == 1  # other rules: every line again
    assert left not in {k for _, _, lines, _, _, _ in bank.active() for k in lines}


def test_matches_are_system_work_only(bank, app_ledger):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with app_ledger.user_context(uuid.uuid4()) as conn:
            conn.execute("SELECT * FROM statement_matches")


# --- the checks ------------------------------------------------------------------------------------

def clean_set(bank):
    """Two continuous statements whose every line has its entries, with a two-day lag and a payout
    settling three entries: nothing to report."""
    bank.post("1000", "2026-02-27")  # before the first statement: the ledger's opening balance
    bank.post("100", "2026-03-02")
    bank.post("-30", "2026-03-04")  # two days after the bank
    bank.post("100", "2026-03-05")
    for amount in ("40", "50", "60"):
        bank.post(amount, "2026-03-06", reference="PAYOUT-1")
    bank.post("-20", "2026-03-08")
    bank.statement([("100", "2026-03-02"), ("-30", "2026-03-02"), ("100", "2026-03-05")], opening="1000",
                   opening_date="2026-03-01", closing_date="2026-03-05", sequence=1)
    bank.statement([("150", "2026-03-07", "PAYOUT-1"), ("-20", "2026-03-08")], opening="1170",
                   opening_date="2026-03-05", closing_date="2026-03-08", sequence=2)


def mismatches(result) -> dict[str, int]:
    return {name: c.unexpected_count for name, c in result.run.checks.items() if c.unexpected_count}


def items(db, run_id, check):
    with db.system_context() as conn:
        return conn.execute("SELECT status, expected, actual, difference, details FROM reconciliation_items"
                            " WHERE run_id = %s AND check_name = %s ORDER BY created_at, id", (run_id, check)).fetchall()


def test_a_clean_set_passes_every_check(bank):
    clean_set(bank)
    result = reconcile_external(bank.db)
    assert result.run.status == "passed", result.run.row
    assert set(result.run.checks) == set(EXTERNAL_CHECKS)
    assert mismatches(result) == {}
    assert result.matching.counts() == {"reference": 1, "amount_date": 4}
    bridge = items(bank.db, result.run.run_id, "bank_balance_explained")
    assert [(status, details["unexplained"]) for status, *_, details in bridge] == [("matched", 0), ("matched", 0)]
    assert result.run.row["run_type"] == "external"


def _bank_line_missing(bank):
    bank.statement([("7.50", "2026-03-09")], opening="1300", opening_date="2026-03-08", closing_date="2026-03-09",
                   sequence=3)


def _ledger_entry_missing(bank):
    bank.post("12", "2026-03-07")


def _one_cent_off(bank):
    bank.post("19.99", "2026-03-09", reference="INV-9")
    bank.statement([("20.00", "2026-03-09", "INV-9")], opening="1300", opening_date="2026-03-08",
                   closing_date="2026-03-09", sequence=3)


def _opening_not_previous_closing(bank):
    bank.post("5", "2026-03-09")
    bank.statement([("5", "2026-03-09")], opening="1310", opening_date="2026-03-08", closing_date="2026-03-09",
                   sequence=3)


def _sequence_gap(bank):
    bank.post("5", "2026-03-09")
    bank.statement([("5", "2026-03-09")], opening="1300", opening_date="2026-03-08", closing_date="2026-03-09",
                   sequence=4)


def _lines_do_not_add_up(bank):
    bank.post("5", "2026-03-09")
    bank.statement([("5", "2026-03-09")], opening="1300", opening_date="2026-03-08", closing_date="2026-03-09",
                   sequence=3, closing="1306")


@pytest.mark.parametrize("fault, check, aspect, part", [
    (_bank_line_missing, "statement_lines_matched", "unmatched", ("unmatched_lines", D("7.50"))),
    (_ledger_entry_missing, "ledger_entries_matched", "unmatched", ("unmatched_entries", D(12))),
    (_one_cent_off, "statement_lines_matched", "matched_with_difference", ("matched_differences", D("0.01"))),
    (_opening_not_previous_closing, "statements_continuous", "opening_is_previous_closing",
     ("statement_breaks", D(10))),
    (_sequence_gap, "statements_continuous", "sequence_gap", None),
    (_lines_do_not_add_up, "statements_continuous", "lines_add_up", ("statement_breaks", D(1))),
])
def test_each_fault_is_reported_by_its_check_and_nothing_else(bank, fault, check, aspect, part):
    clean_set(bank)
    fault(bank)
    result = reconcile_external(bank.db)
    assert result.run.status == "failed"
    assert mismatches(result) == {check: 1}
    [(status, _, _, _, details)] = items(bank.db, result.run.run_id, check)
    assert (status, details["aspect"]) == ("mismatch", aspect)
    bridge = items(bank.db, result.run.run_id, "bank_balance_explained")
    assert {details["unexplained"] for *_, details in bridge} == {0}  # every difference has its item
    if part:
        name, amount = part
        _, change, _, _, last = max(bridge, key=lambda item: item[4]["closing_date"])  # the latest statement
        assert last[name] == amount
        assert last["difference_at_close"] - last["difference_at_first_opening"] == change


def test_the_grace_window_spares_entries_the_bank_may_not_have_yet(bank, monkeypatch):
    today = dt.date.today()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    bank.post("9", yesterday)
    bank.statement([], opening="0", opening_date=(today - dt.timedelta(days=2)).isoformat(), closing_date=yesterday)
    assert mismatches(reconcile_external(bank.db)) == {}
    monkeypatch.setenv("LEDGER_MATCH_GRACE_DAYS", "0")
    assert mismatches(reconcile_external(bank.db)) == {"ledger_entries_matched": 1}


def test_account_scope(bank):
    clean_set(bank)
    _ledger_entry_missing(bank)
    assert mismatches(reconcile_external(bank.db, account_code="CASH-EUR")) == {"ledger_entries_matched": 1}
    with pytest.raises(LedgerError, match="no bank account is mapped"):
        reconcile_external(bank.db, account_code="SALES-EUR")


# --- the CLI ---------------------------------------------------------------------------------------

def test_cli_exit_codes(bank, ledger_url):
    clean_set(bank)
    dry = run("statements", "reconcile", "--dry-run", "--json", url=ledger_url)
    assert dry.returncode == 0, dry.stderr
    assert len(json.loads(dry.stdout)["matches"]) == 5 and bank.active() == []
    passed = run("statements", "reconcile", url=ledger_url)
    assert passed.returncode == 0, passed.stderr + passed.stdout
    assert "matching: 5 new matches" in passed.stdout
    _ledger_entry_missing(bank)
    failed = run("statements", "reconcile", "--account", "CASH-EUR", url=ledger_url)
    assert failed.returncode == 1, failed.stderr
    assert "type external  FAILED  (bank statements)" in failed.stdout
    assert "ledger_entries_matched           unmatched entry_id" in failed.stdout
    as_json = run("statements", "reconcile", "--json", url=ledger_url)
    assert as_json.returncode == 1, as_json.stderr
    assert json.loads(as_json.stdout)["mismatch_count"] == 1
    error = run("statements", "reconcile", "--account", "NOPE", url=ledger_url)
    assert error.returncode == 2 and "no bank account is mapped" in error.stderr


def test_cli_match_manual_and_unmatch(bank, ledger_url):
    entry = bank.post("90", "2026-03-10")
    [line] = bank.statement([("100", "2026-03-02")])
    made = run("statements", "match-manual", str(line), str(entry), "--reason", "fee", url=ledger_url)
    assert made.returncode == 0, made.stderr
    match_id = made.stdout.split()[1].rstrip(":")
    assert bank.active()[0][0] == "manual"
    refused = run("statements", "unmatch", match_id, url=ledger_url)
    assert refused.returncode == 2 and "--reason" in refused.stderr
    undone = run("statements", "unmatch", match_id, "--reason", "wrong", url=ledger_url)
    assert undone.returncode == 0, undone.stderr
    assert bank.active() == []


# --- Dagster ---------------------------------------------------------------------------------------

def test_the_external_reconciliation_asset_checks_reports_and_stops_at_its_day(bank, ledger_url, tmp_path,
                                                                                monkeypatch):
    import dagster as dg
    import pyarrow.parquet as pq

    from ledger_pipeline.defs.resources import LedgerResource
    from ledger_pipeline.defs.statements.external import external_reconciliation

    monkeypatch.setenv("LEDGER_REPORTS_DIR", str(tmp_path / "reports"))
    clean_set(bank)
    _ledger_entry_missing(bank)  # booked on the 7th
    resources = {"ledger_db": LedgerResource(url=ledger_url)}
    with dg.instance_for_test() as instance:
        early = dg.materialize([external_reconciliation], resources=resources, instance=instance,
                               partition_key="2026-03-05")
        late = dg.materialize([external_reconciliation], resources=resources, instance=instance,
                              partition_key="2026-03-08")
    assert early.success and late.success
    assert {e.check_name: e.passed for e in early.get_asset_check_evaluations()} == dict.fromkeys(EXTERNAL_CHECKS, True)
    assert {e.check_name for e in late.get_asset_check_evaluations() if not e.passed} == {"ledger_entries_matched"}
    metadata = late.asset_materializations_for_node("external_reconciliation")[0].metadata
    assert metadata["open_items"].value == 1 and metadata["match_rate"].value == 1.0
    assert "ledger_entries_matched" in metadata["largest_open_items"].value
    report = pq.read_table(tmp_path / "reports" / "external_reconciliation" / "2026-03-08.parquet").to_pylist()
    assert [(r["check_name"], r["account_code"], r["difference"]) for r in report] == [
        ("ledger_entries_matched", "CASH-EUR", D(-12))]
    assert (tmp_path / "reports" / "external_reconciliation" / "2026-03-08.csv").exists()
    with bank.db.system_context() as conn:
        assert conn.execute("SELECT partition_key, run_type FROM reconciliation_runs ORDER BY started_at").fetchall() == [
            ("2026-03-05", "external"), ("2026-03-08", "external")]


def test_a_completed_full_reconciliation_asks_for_the_external_one(bank, ledger_url, monkeypatch):
    import dagster as dg

    from ledger_pipeline.definitions import defs
    from ledger_pipeline.defs.partitions import daily_partitions
    from ledger_pipeline.defs.statements.external import AFTER_FULL_RUN_TAG, external_after_full_reconciliation

    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url)
    with dg.instance_for_test() as instance:
        def tick(cursor=None):
            with dg.build_sensor_context(instance=instance, definitions=defs, cursor=cursor) as context:
                return external_after_full_reconciliation.evaluate_tick(context)

        first = tick()
        assert first.run_requests == [] and first.cursor
        full = defs.resolve_job_def("full_reconciliation_job").execute_in_process(instance=instance)
        assert full.success
        [request] = tick(first.cursor).run_requests
        assert (request.partition_key, request.tags[AFTER_FULL_RUN_TAG]) == (
            daily_partitions.get_last_partition_key(), full.run_id)


def test_a_failed_external_run_is_alerted(bank, ledger_url, tmp_path, monkeypatch):
    import dagster as dg

    from ledger_pipeline.definitions import defs
    from ledger_pipeline.defs.alerting.sensors import reconciliation_alerts
    from ledger_pipeline.defs.resources import LedgerResource

    monkeypatch.setenv("LEDGER_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url)  # the job's own resources
    monkeypatch.delenv("LEDGER_ALERT_URLS", raising=False)
    clean_set(bank)
    _ledger_entry_missing(bank)
    resources = {"ledger_db": LedgerResource(url=ledger_url)}
    with dg.instance_for_test() as instance:
        def tick(cursor=None):
            with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources,
                                         cursor=cursor) as context:
                return reconciliation_alerts.evaluate_tick(context)

        first = tick()
        assert defs.resolve_job_def("external_reconciliation_job").execute_in_process(
            instance=instance, partition_key="2026-03-08").success
        assert tick(first.cursor).skip_message.startswith("1 new alert(s), logged")
