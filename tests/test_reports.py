"""The daily report assets: the reporting-currency trial balance and the tax report, each checked
against an independent computation."""

import csv
import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import pyarrow.parquet as pq
import pytest
from conftest import add_account

from ledger_pipeline.defs.ledger.assets import reporting_trial_balance, tax_report
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.ledger import fx, tax
from ledger_pipeline.ledger.posting import Entry, post_transaction

UTC = dt.timezone.utc
DAY = (dt.datetime.now(UTC) - dt.timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)
KEY = DAY.date().isoformat()


@pytest.fixture
def books(ledger):
    """USD and EUR accounts with postings before, during and after DAY, taxed fees and a
    conversion on DAY, and EUR/USD rates for DAY (two: the later one counts) and the day after."""
    user = uuid.uuid4()
    at = lambda days, hours: DAY + dt.timedelta(days=days, hours=hours)  # noqa: E731
    with ledger.system_context() as conn:
        a = {code: add_account(conn, code, kind, user if kind == "liability" else None, cur)
             for code, kind, cur in [("CASH-USD", "asset", "USD"), ("CASH-EUR", "asset", "EUR"),
                                     ("WALLET-USD", "liability", "USD"), ("WALLET-EUR", "liability", "EUR"),
                                     ("FEES-USD", "revenue", "USD"), ("FEES-EUR", "revenue", "EUR")]}
        fx.write_rates(conn, [fx.Rate("EUR", "USD", Decimal("1.05"), at(0, 0), "ecb"),
                              fx.Rate("EUR", "USD", Decimal("1.10"), at(0, 16), "ecb"),
                              fx.Rate("EUR", "USD", Decimal("1.20"), at(1, 0), "ecb")])
        for cur, when, amount in [("USD", at(-1, 9), "300.00"), ("EUR", at(0, 9), "200.00"), ("EUR", at(1, 9), "50.00")]:
            post_transaction(conn, "DEPOSIT", [Entry(a[f"CASH-{cur}"], "debit", Decimal(amount)),
                                               Entry(a[f"WALLET-{cur}"], "credit", Decimal(amount))], created_at=when)
        tax.post_taxed(conn, "FEE_VAT_DE", a["WALLET-EUR"], a["FEES-EUR"], Decimal("3.33"), created_at=at(0, 10))
        tax.post_taxed(conn, "FEE_VAT_DE", a["WALLET-EUR"], a["FEES-EUR"], Decimal("1.00"), created_at=at(0, 11))
        tax.post_taxed(conn, "FEE_VAT_GB", a["WALLET-USD"], a["FEES-USD"], Decimal("2.50"), created_at=at(0, 12))
        tax.post_taxed(conn, "FEE_VAT_GB", a["WALLET-USD"], a["FEES-USD"], Decimal("9.99"), created_at=at(1, 12))
        fx.post_conversion(conn, a["WALLET-USD"], a["WALLET-EUR"], Decimal("100.00"), Decimal("0.90"), "ecb",
                           created_at=at(0, 13))
    return a


def materialize(asset, ledger_url):
    return dg.materialize([asset], resources={"ledger_db": LedgerResource(url=ledger_url)}, partition_key=KEY)


def test_the_trial_balance_of_a_day_matches_an_independent_computation(ledger, ledger_url, books):
    result = materialize(reporting_trial_balance, ledger_url)
    assert result.success
    with ledger.system_context() as conn:
        written = {code: (cur, balance, rate, reported) for code, cur, balance, rate, reported in conn.execute(
            "SELECT account_code, currency, balance, rate, reporting_balance FROM trial_balances WHERE day = %s", (DAY.date(),))}
        # Independently: every entry before the day's end, summed in each account's normal sign.
        entries = conn.execute(
            "SELECT a.code, a.account_type, e.entry_type, e.amount FROM entries e JOIN accounts a ON a.id = e.account_id"
            " WHERE e.created_at < %s", (DAY + dt.timedelta(days=1),)).fetchall()
        codes = [code for (code,) in conn.execute("SELECT code FROM accounts")]
    balances = dict.fromkeys(codes, Decimal(0))
    for code, kind, side, amount in entries:
        balances[code] += amount if (side == "debit") == (kind in ("asset", "expense")) else -amount
    rate = {"USD": Decimal(1), "EUR": Decimal("1.10")}  # the day's latest EUR/USD
    expected = {code: (code.rsplit("-", 1)[-1], b, rate[code.rsplit("-", 1)[-1]],
                       (b * rate[code.rsplit("-", 1)[-1]]).quantize(Decimal("0.01"), ROUND_HALF_UP))
                for code, b in balances.items()}
    assert written == expected
    assert written["WALLET-EUR"][1] == Decimal("200.00") - Decimal("3.33") - Decimal("0.63") - 1 - Decimal("0.19") + 90
    meta = result.asset_materializations_for_node("reporting_trial_balance")[0].metadata
    assert meta["accounts"].value == len(codes) and meta["accounts_without_rate"].value == 0
    assert meta["total_liability"].value == float(sum(v[3] for c, v in expected.items() if c.startswith(("WALLET", "VAT"))))


def test_the_tax_report_of_a_day_matches_an_independent_computation_and_its_files_are_readable(
        ledger, ledger_url, books, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_REPORTS_DIR", str(tmp_path))
    result = materialize(tax_report, ledger_url)
    assert result.success
    # By hand: DE 19% on 3.33 (0.6327 -> 0.63) and 1.00 (0.19); GB 20% on 2.50 (0.50); the 9.99 is the next day.
    expected = [(DAY.date(), "DE", "EUR", Decimal("4.33"), Decimal("0.82"), 2),
                (DAY.date(), "GB", "USD", Decimal("2.50"), Decimal("0.50"), 1)]
    with ledger.system_context() as conn:
        rows = conn.execute("SELECT day, tax_jurisdiction, currency, taxable_base, vat, transactions FROM tax_reports"
                            " ORDER BY tax_jurisdiction").fetchall()
    assert rows == expected
    parquet = pq.read_table(tmp_path / "tax_report" / f"{KEY}.parquet").to_pylist()
    assert [tuple(r.values()) for r in parquet] == expected
    with open(tmp_path / "tax_report" / f"{KEY}.csv", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(r["tax_jurisdiction"], Decimal(r["vat"]), int(r["transactions"])) for r in lines] == [
        ("DE", Decimal("0.82"), 2), ("GB", Decimal("0.50"), 1)]
    meta = result.asset_materializations_for_node("tax_report")[0].metadata
    assert meta["transactions"].value == 3 and meta["jurisdictions"].value == 2
    assert "| DE | EUR | 4.3300 | 0.8200 | 2 |" in meta["preview"].value
    assert not list((tmp_path / "tax_report").glob("*.partial"))
