"""The ledger's assets: the schema, and the reports made from it (the reporting-currency trial
balance, the tax report)."""

from functools import partial

import dagster as dg

from ...ledger import currencies, tax, trial_balance
from ...platform import settings
from ...platform.migrations import Runner
from ..partitions import daily_partitions
from ..resources import LedgerResource


@dg.asset(
    group_name="ledger",
    description="The ledger schema: every migration in sql/migrations applied to the ledger database.",
)
def ledger_schema(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    runner = Runner(ledger_db.database.database_url())
    applied_now = runner.up()
    status = runner.status()
    versions = [row["version"] for row in status if row["state"] in ("applied", "adopted")]
    context.log.info(f"applied now: {applied_now or 'nothing'}; schema at {versions[-1] if versions else 'empty'}")
    return dg.MaterializeResult(
        metadata={
            "applied_now": dg.MetadataValue.json(applied_now),
            "applied_versions": dg.MetadataValue.json(versions),
            "schema_version": dg.MetadataValue.text(versions[-1] if versions else ""),
        }
    )


def _day(context: dg.AssetExecutionContext):
    start, end = daily_partitions.time_window_for_partition_key(context.partition_key)
    return start.date(), start, end


# A daily report: one partition per day of LEDGER_TIMEZONE, made from the ledger the schema holds.
daily_report = partial(dg.asset, group_name="reports", deps=[ledger_schema], partitions_def=daily_partitions)


@daily_report(
    description="Each account's balance as of the day's end, in its currency and in LEDGER_REPORTING_CURRENCY at"
                " the day's rate (table trial_balances).",
)
def reporting_trial_balance(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    day, start, end = _day(context)
    totals = trial_balance.write(ledger_db.database, day, start, end)
    by_type = {t.account_type: t for t in totals}
    debit_normal = sum(t.reporting_total for t in totals if t.account_type in ("asset", "expense"))
    credit_normal = sum(t.reporting_total for t in totals if t.account_type not in ("asset", "expense"))
    metadata = {
        "reporting_currency": dg.MetadataValue.text(currencies.reporting_currency()),
        "accounts": dg.MetadataValue.int(sum(t.accounts for t in totals)),
        "accounts_without_rate": dg.MetadataValue.int(sum(t.without_rate for t in totals)),
        # Floats so the UI plots them; the exact amounts are in trial_balances. Converted at one
        # day's rate, debit- and credit-normal totals differ by the FX translation difference.
        "debit_normal_total": dg.MetadataValue.float(float(debit_normal)),
        "credit_normal_total": dg.MetadataValue.float(float(credit_normal)),
    }
    for kind in ("asset", "liability", "equity", "revenue", "expense"):
        metadata[f"total_{kind}"] = dg.MetadataValue.float(float(by_type[kind].reporting_total) if kind in by_type else 0.0)
    return dg.MaterializeResult(metadata=metadata)


@daily_report(
    description="Per tax jurisdiction and currency: the day's taxable base, VAT and taxed transactions (table"
                " tax_reports), exported as Parquet and CSV under LEDGER_REPORTS_DIR/tax_report/.",
)
def tax_report(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    day, start, end = _day(context)
    rows, parquet_path, csv_path = tax.write_report(ledger_db.database, day, start, end, settings.reports_dir())
    preview = "\n".join(
        ["| jurisdiction | currency | taxable base | VAT | transactions |", "|---|---|---:|---:|---:|"]
        + [f"| {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in rows]
    )
    return dg.MaterializeResult(metadata={
        "jurisdictions": dg.MetadataValue.int(len({r[1] for r in rows})),
        "transactions": dg.MetadataValue.int(sum(r[5] for r in rows)),
        "vat_total": dg.MetadataValue.float(float(sum(r[4] for r in rows))),  # across currencies: a trend line only
        "parquet": dg.MetadataValue.path(str(parquet_path)),
        "csv": dg.MetadataValue.path(str(csv_path)),
        "preview": dg.MetadataValue.md(preview),
    })
