"""Dagster sensors: escalate a failed hourly check to a full reconciliation, re-reconcile days
that late arrivals made stale, and alert on reconciliations that fail or break.

A failing non-blocking asset check leaves its run successful, so run-failure sensors never see
it: both sensors read finished runs (successful and failed) and the check evaluations of each.
A run_key is deduplicated forever, so the escalation's key is the hourly run's id: one full
reconciliation per failed hourly run, however often the sensor sees it.
"""

from collections.abc import Iterator

import dagster as dg
import psycopg
from psycopg.rows import dict_row

from . import alert_outbox, alerts, settings
from .errors import LedgerError
from .assets import daily_reconciliation, full_reconciliation, ledger_balance
from .jobs import RECONCILIATION_JOBS, daily_reconciliation_job, full_reconciliation_job, hourly_balance_check_job
from .reconciliation.late_arrivals import find_stale
from .resources import LedgerResource

ESCALATED_FROM_TAG = "ledger/escalated_from"
STALE_RUN_TAG = "ledger/stale_reconciliation"
REASON_TAG = "ledger/reason"
RECONCILIATION_ASSETS = {full_reconciliation.key, ledger_balance.key, daily_reconciliation.key}
PAGE = 100


def finished_runs(instance: dg.DagsterInstance, after: int) -> Iterator[tuple[int, dg.DagsterRun, bool]]:
    """(storage id, run, whether the run failed) for runs that finished after the cursor, in order."""
    pages = [
        instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type=event_type, after_storage_id=after), limit=PAGE, ascending=True
        ).records
        for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)
    ]
    # A full page may have more behind it: go no further than the shortest full page reached, so
    # the cursor never passes a run not yet seen.
    horizon = min((page[-1].storage_id for page in pages if len(page) == PAGE), default=None)
    records = sorted((r for page in pages for r in page), key=lambda r: r.storage_id)
    for record in records:
        if horizon is not None and record.storage_id > horizon:
            break
        run = instance.get_run_by_id(record.run_id)
        if run is not None:
            failed = record.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_FAILURE
            yield record.storage_id, run, failed


def start_cursor(context: dg.SensorEvaluationContext) -> int | None:
    """The stored cursor, or None after recording the newest run status change as the start:
    a sensor first switched on (or reset) acts on what happens from then on, not on history."""
    if context.cursor:
        return int(context.cursor)
    latest = [
        records[0].storage_id
        for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE)
        if (records := context.instance.fetch_run_status_changes(event_type, limit=1).records)
    ]
    context.update_cursor(str(max(latest, default=0)))
    return None


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records]
    return sorted({e.check_name for e in evaluations if not e.passed})


def failure_message(instance: dg.DagsterInstance, run_id: str) -> str:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    messages = [r.event_log_entry.dagster_event.event_specific_data.error.message.strip() for r in records]
    return "; ".join(m.splitlines()[0] for m in messages if m) or "the run failed"


def targets(run: dg.DagsterRun, job: dg.JobDefinition | None, assets: set[dg.AssetKey]) -> bool:
    """Whether the run materialized these assets, launched from the job or from the UI's buttons."""
    return (job is not None and run.job_name == job.name) or bool(run.asset_selection and run.asset_selection & assets)


@dg.sensor(
    job=full_reconciliation_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When an hourly balance check fails or errors, run a full reconciliation (once per hourly run).",
)
def escalate_failed_hourly_check(context: dg.SensorEvaluationContext):
    cursor = start_cursor(context)
    if cursor is None:
        return
    for storage_id, run, run_failed in finished_runs(context.instance, cursor):
        cursor = storage_id
        if not targets(run, hourly_balance_check_job, {ledger_balance.key}):
            continue
        checks = failed_checks(context.instance, run.run_id)
        if run_failed or checks:
            reason = "run failed" if run_failed else "failed checks: " + ", ".join(checks)
            context.log.info(f"escalating hourly run {run.run_id}: {reason}")
            yield dg.RunRequest(
                run_key=run.run_id,
                run_config=dg.RunConfig(ops={"full_reconciliation": {"config": {"run_type": "escalation"}}}),
                tags={ESCALATED_FROM_TAG: run.run_id, "ledger/escalation_reason": reason[:200]},
            )
    context.update_cursor(str(cursor))


@dg.sensor(
    job=daily_reconciliation_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When entries arrive into a day that was already reconciled, reconcile that day again.",
)
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


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alert when a reconciliation fails a check or breaks (LEDGER_ALERT_URLS, else the log).",
)
def reconciliation_alerts(context: dg.SensorEvaluationContext, ledger_db: LedgerResource):
    # Each alert is queued in the outbox before the cursor passes its run, and delivered from
    # there with retries of its own: an alert that cannot be delivered holds up no other.
    urls = settings.alert_urls()
    cursor = start_cursor(context)
    new = 0
    if cursor is not None:
        for storage_id, run, run_failed in finished_runs(context.instance, cursor):
            if any(targets(run, job, RECONCILIATION_ASSETS) for job in RECONCILIATION_JOBS):
                checks = failed_checks(context.instance, run.run_id)
                if run_failed or checks:
                    alert = compose_alert(context.instance, ledger_db, run, checks, run_failed)
                    if not urls:
                        alerts.log(alert, context.log)
                    elif not queue_or_send(ledger_db, run.run_id, alert, urls, context.log):
                        context.update_cursor(str(cursor))  # before this run: the next evaluation tries again
                        return dg.SkipReason(f"the alert for run {run.run_id} could be neither queued nor sent")
                    new += 1
            cursor = storage_id
        context.update_cursor(str(cursor))
    if not urls:
        return dg.SkipReason(f"{new} new alert(s), logged (no LEDGER_ALERT_URLS)")
    try:
        delivery = alert_outbox.deliver_due(ledger_db.database, urls, context.log)
    except (LedgerError, psycopg.OperationalError) as exc:
        return dg.SkipReason(f"{new} new alert(s); the outbox is out of reach, its alerts wait: {exc}")
    return dg.SkipReason(f"{new} new alert(s); {delivery.describe()}")


def queue_or_send(ledger_db: LedgerResource, run_id: str, alert: alerts.Alert, urls: list[str], log) -> bool:
    """Queues the alert in the outbox, which lives in the ledger database. When that database is
    out of reach (often the very reason for the alert) the alert is sent at once instead, without
    the outbox's retries: True when it was queued or every channel took it."""
    try:
        alert_outbox.enqueue(ledger_db.database, run_id, alert, urls)
        return True
    except (LedgerError, psycopg.OperationalError) as exc:
        log.warning(f"the alert outbox is out of reach ({exc}); sending the alert for run {run_id} directly")
        return all(alert_outbox.send(url, alert.title, alert.body) is None for url in urls)


def compose_alert(instance, ledger_db: LedgerResource, run: dg.DagsterRun, checks: list[str], run_failed: bool):
    failure = failure_message(instance, run.run_id) if run_failed else None
    runs, top = [], []
    try:
        with ledger_db.system_context() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            runs = cursor.execute(
                "SELECT * FROM reconciliation_runs WHERE dagster_run_id = %s ORDER BY started_at", (run.run_id,)
            ).fetchall()
            top = cursor.execute(
                "SELECT i.* FROM reconciliation_items i JOIN reconciliation_runs r ON r.id = i.run_id"
                " WHERE r.dagster_run_id = %s AND i.status = 'mismatch'"
                " ORDER BY abs(i.difference) DESC NULLS LAST LIMIT %s",
                (run.run_id, alerts.TOP_MISMATCHES),
            ).fetchall()
    except (LedgerError, psycopg.Error) as exc:
        # The ledger being unreachable is often why the run broke: alert without the details.
        failure = f"{failure or 'the run failed'}; the ledger could not be read for details: {exc}"
    return alerts.compose(run.run_id, run.job_name, checks, failure, runs, top)
