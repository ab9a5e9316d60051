"""Dagster assets: the schema, the reconciliations that guard the ledger, the reports made from it
(the reporting-currency trial balance, the tax report), and the audit trail's seals and partitions."""

import dagster as dg
from dagster._core.storage.tags import BACKFILL_ID_TAG

from . import settings, tax, trial_balance
from .asset_checks import check_specs, report
from .audit import anchors, lifecycle, seals
from .migrations import Runner
from .reconciliation import CHECK_NAMES, Scope, reconcile, reconcile_windows
from .reconciliation.checks import PERIOD_CHECKS, QUICK_CHECKS
from .resources import BalanceCacheResource, LedgerResource

# Two full reconciliations never run at once: every run that materializes the asset, whichever job
# or button launched it, takes this pool's single slot (dagster.yaml: pools default_limit 1).
FULL_RECONCILIATION_POOL = "ledger_full_reconciliation"


class ReconcileConfig(dg.Config):
    run_type: str = "manual"  # 'daily' from the schedule, 'escalation' from the sensor


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


@dg.asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    check_specs=check_specs("full_reconciliation", CHECK_NAMES),
    pool=FULL_RECONCILIATION_POOL,
    description="A full reconciliation of the whole ledger, recorded in reconciliation_runs.",
)
def full_reconciliation(
    context: dg.AssetExecutionContext, config: ReconcileConfig, ledger_db: LedgerResource,
    balance_cache: BalanceCacheResource,
) -> dg.MaterializeResult:
    # The anchors outside the ledger database: this instance's audit_seals materializations, and the file.
    result = reconcile(ledger_db.database, Scope(config.run_type), dagster_run_id=context.run.run_id,
                       cache=balance_cache.cache(), anchors=anchors.read(context.instance))
    context.log.info(f"reconciliation {result.run_id}: {result.status}")
    return report([result], CHECK_NAMES)


@dg.asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    check_specs=check_specs("ledger_balance", QUICK_CHECKS),
    description="The hourly quick check: the ledger as a whole balances, per currency.",
)
def ledger_balance(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    result = reconcile(ledger_db.database, Scope.quick(), dagster_run_id=context.run.run_id)
    context.log.info(f"reconciliation {result.run_id}: {result.status}")
    return report([result], QUICK_CHECKS)


daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.partitions_start(), timezone=settings.timezone())


@dg.asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    partitions_def=daily_partitions,
    # A backfill over many days is one run, reconciling them all in one pass over their entries.
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=check_specs("daily_reconciliation", PERIOD_CHECKS),
    description="One reconciliation per day: the transactions created that day, balances as of its end.",
)
def daily_reconciliation(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    run_type = "backfill" if BACKFILL_ID_TAG in context.run.tags else "daily"
    windows = [(key, *daily_partitions.time_window_for_partition_key(key)) for key in context.partition_keys]
    results = reconcile_windows(ledger_db.database, run_type, windows, dagster_run_id=context.run.run_id)
    for result in results:
        context.log.info(f"{result.row['partition_key']}: reconciliation {result.run_id}: {result.status}")
    return report(results, PERIOD_CHECKS)


def _day(context: dg.AssetExecutionContext):
    start, end = daily_partitions.time_window_for_partition_key(context.partition_key)
    return start.date(), start, end


@dg.asset(
    group_name="reports",
    deps=[ledger_schema],
    partitions_def=daily_partitions,
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
        "reporting_currency": dg.MetadataValue.text(settings.reporting_currency()),
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


@dg.asset(
    group_name="reports",
    deps=[ledger_schema],
    partitions_def=daily_partitions,
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


@dg.asset(
    group_name="audit",
    deps=[ledger_schema],
    description="Seals the audit rows written since the last seal (a SHA-256 chain in audit_seals); each new"
    " seal's hash is anchored in this materialization's metadata and, if LEDGER_AUDIT_ANCHOR_FILE is set,"
    " appended to that file.",
)
def audit_seals(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    new = seals.seal(ledger_db.database)
    made = [new] if new else []
    anchors.append_to_file(made)
    head = new or seals.head(ledger_db.database)
    context.log.info(f"sealed {new.row_count} audit rows as seal {new.seal_no}" if new else "nothing new to seal")
    return dg.MaterializeResult(metadata=anchors.metadata(made, head))


class AuditLifecycleConfig(dg.Config):
    archive: bool = False  # opt in: archive the months older than LEDGER_AUDIT_RETENTION_MONTHS


@dg.asset(
    group_name="audit",
    deps=[ledger_schema],
    description="audit_log's monthly partitions: creates the coming months' ahead of time, reports each"
    " partition's rows and bytes, and (opt-in) archives months older than the retention.",
)
def audit_log_partitions(
    context: dg.AssetExecutionContext, config: AuditLifecycleConfig, ledger_db: LedgerResource
) -> dg.MaterializeResult:
    db = ledger_db.database
    lifecycle.ensure_partitions(db)
    archived = []
    if config.archive:
        for month in lifecycle.archivable(db, None, settings.audit_retention_months()):
            archived.append(lifecycle.archive(db, month, settings.audit_archive_dir()).month)
            context.log.info(f"archived {archived[-1]}")
    parts = lifecycle.partitions(db)
    metadata = {"archived_now": dg.MetadataValue.json(archived),
                "rows": dg.MetadataValue.int(sum(p.rows for p in parts)),
                "bytes": dg.MetadataValue.int(sum(p.bytes for p in parts))}
    for p in parts:  # one plottable series per partition
        metadata[f"rows_{p.name}"] = dg.MetadataValue.int(p.rows)
        metadata[f"bytes_{p.name}"] = dg.MetadataValue.int(p.bytes)
    return dg.MaterializeResult(metadata=metadata)
