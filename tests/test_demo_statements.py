"""The demo's bank statements: made from a demo ledger's cash entries, imported through the inbox,
and reconciled: each planted fault reported by its check and nothing else, the lag and the payout
matched, and the bridge's unexplained rest zero."""

import pytest

from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.reconciliation.external import reconcile_external
from ledger_pipeline.statements import inbox
from ledger_pipeline.statements.demo_statements import iban, write_demo_statements


def items(db, run_id):
    with db.system_context() as conn:
        return conn.execute("SELECT check_name, status, details FROM reconciliation_items WHERE run_id = %s"
                            " ORDER BY check_name, created_at, id", (run_id,)).fetchall()


def active_match(db, entry_id):
    with db.system_context() as conn:
        return conn.execute(
            "SELECT m.rule, m.strategy, m.days_difference,"
            "       array_agg(k.entry_id ORDER BY k.entry_id) FILTER (WHERE k.entry_id IS NOT NULL)"
            " FROM statement_matches m JOIN statement_match_links k ON k.match_id = m.id AND k.active"
            " WHERE m.unmatched_at IS NULL AND m.id = (SELECT match_id FROM statement_match_links"
            "                                          WHERE entry_id = %s AND active)"
            " GROUP BY m.id", (entry_id,)).fetchone()


@pytest.mark.parametrize("seed", [1, 2])
def test_each_demo_fault_is_reported_by_its_check_and_nothing_else(ledger, tmp_path, seed):
    demo = write_demo_data(ledger, 600, days=7, seed=seed)
    made = write_demo_statements(ledger, demo, tmp_path)
    assert [p.name for p in inbox.pending(tmp_path)] == sorted(p.name for p in made.files)
    outcomes = [inbox.process(ledger, path) for path in inbox.pending(tmp_path)]
    assert [(o.status, o.result.statement_count) for o in outcomes] == [("imported", 2), ("imported", 2)]

    result = reconcile_external(ledger)
    assert result.run.status == "failed"
    found = items(ledger, result.run.run_id)
    mismatched = sorted((check, details.get("aspect")) for check, status, details in found if status == "mismatch")
    assert mismatched == [("ledger_entries_matched", "unmatched"),
                          ("statement_lines_matched", "matched_with_difference"),
                          ("statement_lines_matched", "unmatched"),
                          ("statements_continuous", "opening_is_previous_closing")]
    faults = made.faults
    by_aspect = {(check, details.get("aspect")): details for check, status, details in found if status == "mismatch"}
    assert by_aspect["statement_lines_matched", "unmatched"]["bank_reference"] == faults["bank_line_missing"][
        "bank_reference"]
    missing = by_aspect["ledger_entries_matched", "unmatched"]
    assert missing["entry_id"] == str(faults["ledger_entry_missing"]["entry_id"])
    opening_break = by_aspect["statements_continuous", "opening_is_previous_closing"]
    assert (opening_break["bank_account"], opening_break["statement"][:5]) == (
        faults["opening_break"]["bank_account"], "00002")

    assert active_match(ledger, faults["cent_off"]["entry_id"])[:2] == ("reference", "one_to_one")
    assert active_match(ledger, faults["two_day_lag"]["entry_id"])[:3] == ("amount_date", "one_to_one", -2)
    payout = active_match(ledger, faults["payout"]["entry_ids"][0])
    assert (payout[1], payout[3]) == ("one_to_many", faults["payout"]["entry_ids"])

    bridge = [details for check, _, details in found if check == "bank_balance_explained"]
    assert len(bridge) == 4 and {d["unexplained"] for d in bridge} == {0}
    assert {d["bank_account"] for d in bridge} == {iban(f"EUR-{demo.suffix}"), faults["opening_break"]["bank_account"]}


def test_iban_checksum_is_valid():
    number = iban("EUR-abc")
    rearranged = number[4:] + number[:4]
    assert len(number) == 22 and int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1
