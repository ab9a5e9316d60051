"""Dagster assets: the schema, the reconciliations that guard the ledger, and the audit trail's
seals and partitions."""

import dagster as dg
from dagster._core.storage.tags import BACKFILL_ID_TAG

from . import settings
from .asset_checks import check_specs, report
from .audit import anchors, lifecycle, seals
from .migrations import Runner
from .reconciliation import CHECK_NAMES, Scope, reconcile, reconcile_windows
from .reconciliation.checks import LEDGER_CHECKS, QUICK_CHECKS
from .resources import LedgerResource

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
    context: dg.AssetExecutionContext, config: ReconcileConfig, ledger_db: LedgerResource
) -> dg.MaterializeResult:
    # The anchors outside the ledger database: this instance's audit_seals materializations, and the file.
    result = reconcile(ledger_db.database, Scope(config.run_type), dagster_run_id=context.run.run_id,
                       anchors=anchors.read(context.instance))
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
    check_specs=check_specs("daily_reconciliation", LEDGER_CHECKS),
    description="One reconciliation per day: the transactions created that day, balances as of its end.",
)
def daily_reconciliation(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    run_type = "backfill" if BACKFILL_ID_TAG in context.run.tags else "daily"
    windows = [(key, *daily_partitions.time_window_for_partition_key(key)) for key in context.partition_keys]
    results = reconcile_windows(ledger_db.database, run_type, windows, dagster_run_id=context.run.run_id)
    for result in results:
        context.log.info(f"{result.row['partition_key']}: reconciliation {result.run_id}: {result.status}")
    return report(results, LEDGER_CHECKS)


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
