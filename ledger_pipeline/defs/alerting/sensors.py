"""The alert sensor: alert when a reconciliation fails a check or breaks, through the outbox in the
ledger database (LEDGER_ALERT_URLS), else the log."""

import dagster as dg
import psycopg
from psycopg.rows import dict_row

from ...alerting import messages, outbox
from ...platform import settings
from ...platform.errors import LedgerError
from ..automation import running_sensor
from ..reconciliation.assets import audit_full_verification, daily_reconciliation, full_reconciliation, ledger_balance
from ..reconciliation.jobs import RECONCILIATION_JOBS
from ..resources import LedgerResource
from ..run_history import Finished, failed_checks, failure_message, finished_runs, start_cursor, targets
from ..statements.external import external_reconciliation, external_reconciliation_job

RECONCILIATION_ASSETS = {full_reconciliation.key, ledger_balance.key, daily_reconciliation.key,
                         audit_full_verification.key, external_reconciliation.key}
ALERTING_JOBS = RECONCILIATION_JOBS + (external_reconciliation_job,)


@running_sensor(30, "Alert when a reconciliation fails a check or breaks (LEDGER_ALERT_URLS, else the log).")
def reconciliation_alerts(context: dg.SensorEvaluationContext, ledger_db: LedgerResource):
    # Each alert is queued in the outbox before the cursor passes its run, and delivered from
    # there with retries of its own: an alert that cannot be delivered holds up no other.
    urls = settings.alert_urls()
    cursor = start_cursor(context)
    new = 0
    if cursor is not None:
        for finished in finished_runs(context.instance, cursor):
            run = finished.run
            if any(targets(run, job, RECONCILIATION_ASSETS) for job in ALERTING_JOBS):
                checks = failed_checks(context.instance, run.run_id)
                if finished.failed or checks:
                    alert = compose_alert(context.instance, ledger_db, finished, checks)
                    if not urls:
                        messages.log(alert, context.log)
                    elif not queue_or_send(ledger_db, run.run_id, alert, urls, context.log):
                        context.update_cursor(str(cursor))  # before this run: the next evaluation tries again
                        return dg.SkipReason(f"the alert for run {run.run_id} could be neither queued nor sent")
                    new += 1
            cursor = finished.storage_id
        context.update_cursor(str(cursor))
    if not urls:
        return dg.SkipReason(f"{new} new alert(s), logged (no LEDGER_ALERT_URLS)")
    try:
        delivery = outbox.deliver_due(ledger_db.database, urls, context.log)
    except (LedgerError, psycopg.OperationalError) as exc:
        return dg.SkipReason(f"{new} new alert(s); the outbox is out of reach, its alerts wait: {exc}")
    return dg.SkipReason(f"{new} new alert(s); {delivery.describe()}")


def queue_or_send(ledger_db: LedgerResource, run_id: str, alert: messages.Alert, urls: list[str], log) -> bool:
    """Queues the alert in the outbox, which lives in the ledger database. When that database is
    out of reach (often the very reason for the alert) the alert is sent at once instead, without
    the outbox's retries: True when it was queued or every channel took it."""
    try:
        outbox.enqueue(ledger_db.database, run_id, alert, urls)
        return True
    except (LedgerError, psycopg.OperationalError) as exc:
        log.warning(f"the alert outbox is out of reach ({exc}); sending the alert for run {run_id} directly")
        return all(outbox.send(url, alert.title, alert.body) is None for url in urls)


def compose_alert(instance, ledger_db: LedgerResource, finished: Finished, checks: list[str]) -> messages.Alert:
    run = finished.run
    failure = failure_message(instance, finished) if finished.failed else None
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
                (run.run_id, messages.TOP_MISMATCHES),
            ).fetchall()
    except (LedgerError, psycopg.Error) as exc:
        # The ledger being unreachable is often why the run broke: alert without the details.
        failure = f"{failure or 'the run failed'}; the ledger could not be read for details: {exc}"
    return messages.compose(run.run_id, run.job_name, checks, failure, runs, top)
