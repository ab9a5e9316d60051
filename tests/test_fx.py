"""Currencies, exchange rates and conversions: the posting helper, the rates loader and the
checks amounts_within_currency_precision, fx_conversions_consistent, exchange_rates_available."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from conftest import add_account

from ledger_pipeline.ledger import fx
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.platform.errors import LedgerError
from ledger_pipeline.reconciliation import Scope, reconcile

UTC = dt.timezone.utc
TODAY = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
NOON = TODAY + dt.timedelta(hours=12)


def mismatches(ledger, result, check):
    with ledger.system_context() as conn:
        return conn.execute(
            "SELECT transaction_id, account_id, currency, expected, actual, details FROM reconciliation_items"
            " WHERE run_id = %s AND check_name = %s AND status = 'mismatch' ORDER BY currency",
            (result.run_id, check),
        ).fetchall()


def failed(result):
    return {name for name, c in result.checks.items() if not c.passed}


def day_scope(day=TODAY):
    return Scope("manual", day, day + dt.timedelta(days=1))


@pytest.fixture
def wallets(ledger):
    """A user's USD and EUR wallets, the USD one funded with 500.00, and today's EUR/USD rate."""
    user = uuid.uuid4()
    with ledger.system_context() as conn:
        accounts = {
            "cash": add_account(conn, "CASH-USD", "asset"),
            "usd": add_account(conn, "WALLET-USD", "liability", user),
            "eur": add_account(conn, "WALLET-EUR", "liability", user, "EUR"),
            "eur_cash": add_account(conn, "CASH-EUR", "asset", currency="EUR"),
        }
        post_transaction(conn, "DEPOSIT", [Entry(accounts["cash"], "debit", Decimal("500.00")),
                                           Entry(accounts["usd"], "credit", Decimal("500.00"))], created_at=NOON)
        fx.write_rates(conn, [fx.Rate("EUR", "USD", Decimal("1.0850"), TODAY, "ecb")])
    return accounts


def test_a_conversion_posts_two_legs_each_balanced_in_its_own_currency(ledger, wallets):
    with ledger.system_context() as conn:
        txn = fx.post_conversion(conn, wallets["usd"], wallets["eur"], Decimal("100.00"), Decimal("0.921659"),
                                 "ecb", rate_as_of=TODAY, created_at=NOON)
        legs = conn.execute(
            "SELECT a.currency, sum(e.amount) FILTER (WHERE e.entry_type = 'debit'),"
            "       sum(e.amount) FILTER (WHERE e.entry_type = 'credit'), count(*)"
            " FROM entries e JOIN accounts a ON a.id = e.account_id WHERE e.transaction_id = %s"
            " GROUP BY a.currency ORDER BY a.currency", (txn,)).fetchall()
        metadata = conn.execute("SELECT metadata FROM transactions WHERE id = %s", (txn,)).fetchone()[0]
        balances = dict(conn.execute("SELECT code, balance FROM accounts").fetchall())
    assert legs == [("EUR", Decimal("92.17"), Decimal("92.17"), 2), ("USD", Decimal("100.00"), Decimal("100.00"), 2)]
    assert metadata["fx"] | {"rate_as_of": None} == {
        "from_currency": "USD", "from_amount": "100.00", "to_currency": "EUR", "to_amount": "92.17",
        "rate": "0.921659", "rate_source": "ecb", "rate_as_of": None}
    assert (balances["WALLET-USD"], balances["WALLET-EUR"]) == (Decimal("400.00"), Decimal("92.17"))
    assert (balances["FX-CLEARING-USD"], balances["FX-CLEARING-EUR"]) == (Decimal("100.00"), Decimal("-92.17"))
    full = reconcile(ledger, Scope("manual"))
    assert full.status == "passed", failed(full)
    assert reconcile(ledger, day_scope()).status == "passed"


def test_a_conversion_whose_legs_disagree_with_its_rate_is_caught(ledger, wallets):
    with ledger.system_context() as conn:
        txn = fx.post_conversion(conn, wallets["usd"], wallets["eur"], Decimal("100.00"), Decimal("0.921659"),
                                 "ecb", to_amount=Decimal("92.18"), created_at=NOON)
        strayed = fx.post_conversion(conn, wallets["usd"], wallets["eur"], Decimal("10.00"), Decimal("0.95"),
                                     "street", created_at=NOON)
    for result in (reconcile(ledger, Scope("manual")), reconcile(ledger, day_scope())):
        assert result.status == "failed" and failed(result) == {"fx_conversions_consistent"}
        found = {(row[0], row[5]["problem"]): row[2:5] for row in mismatches(ledger, result, "fx_conversions_consistent")}
        assert found == {
            (txn, "the to leg is not the from leg at the recorded rate"): ("EUR", Decimal("92.17"), Decimal("92.18")),
            (strayed, "the recorded rate strays from the day's rate beyond the tolerance"):
                ("EUR", Decimal("0.92165898617511520737"), Decimal("0.95")),  # 1 / 1.0850, as PostgreSQL divides
        }


def test_an_amount_finer_than_its_currency_allows_is_caught(ledger, wallets):
    with ledger.system_context() as conn:
        cash = add_account(conn, "CASH-JPY", "asset", currency="JPY")
        wallet = add_account(conn, "WALLET-JPY", "liability", uuid.uuid4(), "JPY")
        fx.write_rates(conn, [fx.Rate("JPY", "USD", Decimal("0.0067"), TODAY, "ecb")])
        post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal("1500")), Entry(wallet, "credit", Decimal("1500"))],
                         created_at=NOON)
    assert reconcile(ledger, Scope("manual")).status == "passed"  # sets the checkpoint
    with ledger.system_context() as conn:
        txn = post_transaction(conn, "DEPOSIT", [Entry(cash, "debit", Decimal("100.5")),
                                                 Entry(wallet, "credit", Decimal("100.5"))], created_at=NOON)
        post_transaction(conn, "DEPOSIT", [Entry(wallets["cash"], "debit", Decimal("0.005")),
                                           Entry(wallets["usd"], "credit", Decimal("0.005"))], created_at=NOON)
    for scope in (Scope("manual"), day_scope()):
        result = reconcile(ledger, scope)
        assert failed(result) == {"amounts_within_currency_precision"}
        found = {(row[1], row[2], row[3], row[4]) for row in mismatches(ledger, result, "amounts_within_currency_precision")}
        assert found == {(cash, "JPY", Decimal(101), Decimal("100.5")), (wallet, "JPY", Decimal(101), Decimal("100.5")),
                         (wallets["cash"], "USD", Decimal("0.01"), Decimal("0.005")),
                         (wallets["usd"], "USD", Decimal("0.01"), Decimal("0.005"))}
        assert txn in {row[0] for row in mismatches(ledger, result, "amounts_within_currency_precision")}


def test_a_missing_rate_for_a_day_with_entries_is_caught(ledger, wallets, monkeypatch):
    monkeypatch.setenv("LEDGER_REPORTING_CURRENCY", "USD")
    yesterday = TODAY - dt.timedelta(days=1)
    with ledger.system_context() as conn:
        post_transaction(conn, "DEPOSIT", [Entry(wallets["eur_cash"], "debit", Decimal("20.00")),
                                           Entry(wallets["eur"], "credit", Decimal("20.00"))],
                         created_at=yesterday + dt.timedelta(hours=3))
    for result in (reconcile(ledger, Scope("manual")), reconcile(ledger, day_scope(yesterday))):
        assert failed(result) == {"exchange_rates_available"}
        [row] = mismatches(ledger, result, "exchange_rates_available")
        assert row[2] == "EUR" and row[5]["day"] == yesterday.date().isoformat()
    assert reconcile(ledger, day_scope()).status == "passed"  # today has its rate
    with ledger.system_context() as conn:  # the inverse rate serves as well
        fx.write_rates(conn, [fx.Rate("USD", "EUR", Decimal("0.93"), yesterday, "ecb")])
    assert reconcile(ledger, Scope("manual")).status == "passed"


def test_loading_a_rates_file_with_a_bad_row_writes_nothing_and_names_the_row(ledger, tmp_path):
    good = "EUR,USD,1.0850,2026-11-26T00:00:00Z,ecb\nGBP,USD,1.2700,2026-11-26T00:00:00+00:00,ecb\n"
    path = tmp_path / "rates.csv"
    path.write_text("base,quote,rate,as_of,source\n" + good + "JPY,USD,-1,2026-11-26T00:00:00Z,ecb\n"
                    + "EUR,XYZ,1,2026-11-26T00:00:00Z,ecb\nEUR,USD,1.09,2026-11-26,ecb\n")
    with pytest.raises(LedgerError) as raised:
        fx.load_rates(ledger, path)
    message = str(raised.value)
    assert "3 bad rows, nothing loaded" in message
    assert "line 4: rate must be a positive number, not '-1'" in message
    assert "line 5: not an ISO 4217 currency code: 'XYZ'" in message
    assert "line 6: as_of needs a time zone" in message
    with ledger.system_context() as conn:
        assert conn.execute("SELECT count(*) FROM exchange_rates").fetchone()[0] == 0

    path.write_text("base,quote,rate,as_of,source\n" + good)
    assert fx.load_rates(ledger, path) == 2
    with pytest.raises(LedgerError, match="nothing loaded, a rate is already in exchange_rates"):
        fx.load_rates(ledger, path)
    with ledger.system_context() as conn:
        rows = conn.execute("SELECT base, quote, rate FROM exchange_rates ORDER BY base").fetchall()
    assert rows == [("EUR", "USD", Decimal("1.0850")), ("GBP", "USD", Decimal("1.2700"))]
