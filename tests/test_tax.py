"""Taxed postings and the check vat_matches_rate."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from conftest import add_account

from ledger_pipeline.ledger import tax
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.reconciliation import Scope, reconcile

UTC = dt.timezone.utc
TODAY = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
NOON = TODAY + dt.timedelta(hours=12)


@pytest.fixture
def shop(ledger):
    """A USD wallet holding 100.00 and the fee revenue account."""
    with ledger.system_context() as conn:
        cash = add_account(conn, "CASH-USD", "asset")
        wallet = add_account(conn, "WALLET-USD", "liability", uuid.uuid4())
        fees = add_account(conn, "FEES-USD", "revenue")
        post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal(100)), Entry(wallet, "credit", Decimal(100))],
                         created_at=NOON)
    return wallet, fees


def test_a_taxed_posting_carries_its_vat_leg(ledger, shop):
    wallet, fees = shop
    with ledger.system_context() as conn:
        txn = tax.post_taxed(conn, "FEE_VAT_GB", wallet, fees, Decimal("2.45"), created_at=NOON)
        legs = conn.execute("SELECT a.code, e.entry_type, e.amount FROM entries e JOIN accounts a ON a.id = e.account_id"
                            " WHERE e.transaction_id = %s ORDER BY a.code", (txn,)).fetchall()
    # 2.45 * 0.20 = 0.49
    assert legs == [("FEES-USD", "credit", Decimal("2.45")), ("VAT-PAYABLE-GB-USD", "credit", Decimal("0.49")),
                    ("WALLET-USD", "debit", Decimal("2.94"))]
    assert reconcile(ledger, Scope("manual")).status == "passed"


def test_a_vat_leg_off_by_one_minor_unit_is_caught(ledger, shop):
    wallet, fees = shop
    with ledger.system_context() as conn:
        tax.post_taxed(conn, "FEE_VAT_DE", wallet, fees, Decimal("10.00"), created_at=NOON)
        off = tax.post_taxed(conn, "FEE_VAT_DE", wallet, fees, Decimal("10.00"), vat=Decimal("1.91"), created_at=NOON)
    for scope in (Scope("manual"), Scope("manual", TODAY, TODAY + dt.timedelta(days=1))):
        result = reconcile(ledger, scope)
        assert {n for n, c in result.checks.items() if not c.passed} == {"vat_matches_rate"}
        with ledger.system_context() as conn:
            rows = conn.execute(
                "SELECT transaction_id, currency, expected, actual, difference, details ->> 'tax_jurisdiction'"
                " FROM reconciliation_items WHERE run_id = %s AND check_name = 'vat_matches_rate'",
                (result.run_id,)).fetchall()
        assert rows == [(off, "USD", Decimal("1.90"), Decimal("1.91"), Decimal("0.01"), "DE")]
