"""The ledger against the bank's statements in Dagster: the external_reconciliation asset (daily
partitions of booking days), its four asset checks, the exceptions report, and the sensor that
runs it after each completed full reconciliation (the nightly run, or one launched by hand)."""

import dagster as dg

from ...platform import settings
from ...reconciliation import exceptions_report
from ...reconciliation.checks import EXTERNAL_CHECKS
from ...reconciliation.external import reconcile_external
from ..automation import asset_job, running_sensor
from ..partitions import daily_asset, daily_partitions
from ..reconciliation.assets import full_reconciliation
from ..reconciliation.check_results import check_specs, report
from ..reconciliation.jobs import full_reconciliation_job
from ..resources import LedgerResource
from ..run_history import finished_since_cursor, targets
from .assets import bank_statements

AFTER_FULL_RUN_TAG = "ledger/after_full_reconciliation"


# A backfill is one matching pass and one reconciliation through its last day.
@daily_asset(
    group_name="statements",
    deps=[bank_statements],
    check_specs=check_specs("external_reconciliation", EXTERNAL_CHECKS),
    description="The ledger against the bank statements through the day: matching, then the four external"
                " checks (reconciliation_runs, run type 'external'); the open items as Parquet and CSV under"
                " LEDGER_REPORTS_DIR/external_reconciliation/.",
)
def external_reconciliation(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    last = context.partition_key_range.end
    through = daily_partitions.time_window_for_partition_key(last).start.date()
    result = reconcile_external(ledger_db.database, dagster_run_id=context.run.run_id, partition_key=last,
                                through=through).run
    checked = report(context.log, [result], EXTERNAL_CHECKS)  # raises if the run broke
    exceptions = exceptions_report.write(ledger_db.database, result.run_id, settings.reports_dir(), last)
    return dg.MaterializeResult(check_results=checked.check_results, metadata={
        **checked.metadata,
        "open_items": dg.MetadataValue.int(len(exceptions.items)),
        # A float, so the UI plots the daily match rate across materializations.
        "match_rate": dg.MetadataValue.float(round(exceptions.match_rate, 6)),
        "largest_open_items": dg.MetadataValue.md(exceptions.markdown()),
        "parquet": dg.MetadataValue.path(str(exceptions.parquet)),
        "csv": dg.MetadataValue.path(str(exceptions.csv)),
    })


external_reconciliation_job = asset_job(
    "external_reconciliation_job", external_reconciliation,
    "Reconcile the ledger with the bank statements through a day (a partition).", partitions_def=daily_partitions,
)


@running_sensor(60, "After each full reconciliation that completes, reconcile the ledger with the bank statements"
                    " through the last complete day.", job=external_reconciliation_job)
def external_after_full_reconciliation(context: dg.SensorEvaluationContext):
    for finished in finished_since_cursor(context):
        run = finished.run
        if finished.failed or not targets(run, full_reconciliation_job, {full_reconciliation.key}):
            continue
        day = daily_partitions.get_last_partition_key()
        if day is not None:
            yield dg.RunRequest(run_key=run.run_id, partition_key=day, tags={AFTER_FULL_RUN_TAG: run.run_id})
