"""The reconciliation sensors: escalate a failed hourly check to a full reconciliation, and
re-reconcile days that late arrivals made stale.

A run_key is deduplicated forever, so the escalation's key is the hourly run's id: one full
reconciliation per failed hourly run, however often the sensor sees it.
"""

import dagster as dg
import psycopg

from ...platform.errors import LedgerError
from ...reconciliation.late_arrivals import find_stale
from ..automation import running_sensor
from ..resources import LedgerResource
from ..run_history import failed_checks, finished_since_cursor, targets
from .assets import daily_reconciliation, ledger_balance
from .jobs import daily_reconciliation_job, full_reconciliation_job, hourly_balance_check_job

ESCALATED_FROM_TAG = "ledger/escalated_from"
STALE_RUN_TAG = "ledger/stale_reconciliation"
REASON_TAG = "ledger/reason"


@running_sensor(30, "When an hourly balance check finds a fault, run a full reconciliation (once per hourly run).",
                job=full_reconciliation_job)
def escalate_failed_hourly_check(context: dg.SensorEvaluationContext, ledger_db: LedgerResource):
    # A run the machinery failed (a start timeout, a worker gone, the database out of reach) found
    # nothing: its alert says so, and the next hourly check looks again.
    for finished in finished_since_cursor(context):
        run = finished.run
        if not targets(run, hourly_balance_check_job, {ledger_balance.key}):
            continue
        checks = failed_checks(context.instance, run.run_id)
        if checks or (finished.failed and recorded_failure(ledger_db, run.run_id)):
            reason = "failed checks: " + ", ".join(checks) if checks else "its reconciliation failed"
            context.log.info(f"escalating hourly run {run.run_id}: {reason}")
            yield dg.RunRequest(
                run_key=run.run_id,
                run_config=dg.RunConfig(ops={"full_reconciliation": {"config": {"run_type": "escalation"}}}),
                tags={ESCALATED_FROM_TAG: run.run_id, "ledger/escalation_reason": reason[:200]},
            )
        elif finished.failed:
            context.log.info(f"not escalating hourly run {run.run_id}: it could not complete, and found nothing")


def recorded_failure(ledger_db: LedgerResource, dagster_run_id: str) -> bool:
    """Whether a reconciliation of the Dagster run recorded a finding (status 'failed'). Unreadable
    counts as no: a full run could not read the ledger either."""
    try:
        with ledger_db.system_context() as conn:
            return conn.execute("SELECT EXISTS (SELECT 1 FROM reconciliation_runs WHERE dagster_run_id = %s"
                                " AND status = 'failed')", (dagster_run_id,)).fetchone()[0]
    except (LedgerError, psycopg.Error):
        return False


@running_sensor(60, "When entries arrive into a day that was already reconciled, reconcile that day again.",
                job=daily_reconciliation_job)
def reconcile_late_arrivals(context: dg.SensorEvaluationContext, ledger_db: LedgerResource):
    # The cursor is an arrival watermark: entries below it were looked at by an earlier evaluation.
    stale, horizon = find_stale(ledger_db.database, context.cursor or None)
    for partition in stale:
        if not daily_reconciliation.partitions_def.has_partition_key(partition.partition_key):
            continue  # a period recorded under a key this code location does not define
        reason = (f"late arrival: {partition.late_entries} entries dated from {partition.first_value_date:%Y-%m-%d %H:%M}"
                  f" arrived after reconciliation {partition.run_id}")
        context.log.info(f"{partition.partition_key}: {reason}")
        yield dg.RunRequest(
            # Once per reconciliation a late entry missed: the re-run's snapshot sees every entry
            # that arrives before it starts, even while its request waits in the queue.
            run_key=f"{partition.partition_key}:{partition.run_id}",
            partition_key=partition.partition_key,
            tags={REASON_TAG: reason[:200], STALE_RUN_TAG: partition.run_id},
        )
    context.update_cursor(horizon)
