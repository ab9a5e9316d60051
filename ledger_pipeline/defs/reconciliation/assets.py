"""The reconciliations that guard the ledger, as assets: the full run, the hourly quick check and
the day runs (daily partitions)."""

import dagster as dg
from dagster._core.storage.tags import BACKFILL_ID_TAG

from ...reconciliation import CHECK_NAMES, Scope, reconcile, reconcile_windows
from ...reconciliation.checks import AUDIT_CHECKS, PERIOD_CHECKS, QUICK_CHECKS
from ..audit import dagster_anchors
from ..ledger.assets import ledger_schema
from ..partitions import daily_asset, daily_partitions
from ..resources import BalanceCacheResource, LedgerResource
from .check_results import check_specs, report

# Two full reconciliations never run at once: every run that materializes the asset, whichever job
# or button launched it, takes this pool's single slot (dagster.yaml: pools default_limit 1).
FULL_RECONCILIATION_POOL = "ledger_full_reconciliation"


class ReconcileConfig(dg.Config):
    run_type: str = "manual"  # 'daily' from the schedule, 'escalation' from the sensor


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
                       cache=balance_cache.cache(), anchors=dagster_anchors.read(context.instance))
    return report(context.log, [result], CHECK_NAMES)


@dg.asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    check_specs=check_specs("audit_full_verification", AUDIT_CHECKS),
    pool=FULL_RECONCILIATION_POOL,
    description="`audit verify --full`: every audit row re-hashed and every archived month read back, where the"
    " nightly run re-hashes new seals and a rotating slice; recorded in reconciliation_runs.",
)
def audit_full_verification(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    result = reconcile(ledger_db.database, Scope("manual", checks=AUDIT_CHECKS), dagster_run_id=context.run.run_id,
                       anchors=dagster_anchors.read(context.instance), audit_full=True)
    return report(context.log, [result], AUDIT_CHECKS)


@dg.asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    check_specs=check_specs("ledger_balance", QUICK_CHECKS),
    description="The hourly quick check: the ledger as a whole balances, per currency.",
)
def ledger_balance(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    result = reconcile(ledger_db.database, Scope.quick(), dagster_run_id=context.run.run_id)
    return report(context.log, [result], QUICK_CHECKS)


@daily_asset(
    group_name="reconciliation",
    deps=[ledger_schema],
    check_specs=check_specs("daily_reconciliation", PERIOD_CHECKS),
    description="One reconciliation per day: the transactions created that day, balances as of its end.",
)
def daily_reconciliation(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    run_type = "backfill" if BACKFILL_ID_TAG in context.run.tags else "daily"
    windows = [(key, *daily_partitions.time_window_for_partition_key(key)) for key in context.partition_keys]
    results = reconcile_windows(ledger_db.database, run_type, windows, dagster_run_id=context.run.run_id)
    return report(context.log, results, PERIOD_CHECKS)
