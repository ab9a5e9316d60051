"""What the sensors read of Dagster's run history: the runs that finished after a cursor, the
checks each failed, and why a run failed.

A failing non-blocking asset check leaves its run successful, so run-failure sensors never see
it: the sensors read finished runs (successful and failed) and the check evaluations of each.
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
from dagster._core.storage.tags import WILL_RETRY_TAG

PAGE = 100
UNDECIDED_SECONDS = 60


@dataclass(frozen=True)
class Finished:
    storage_id: int
    run: dg.DagsterRun
    failed: bool
    failure: str  # what the run's failure event says ("" for a run that succeeded)


def finished_runs(instance: dg.DagsterInstance, after: int) -> Iterator[Finished]:
    """The runs that finished after the cursor, in order, each attempt once: a failed run that
    Dagster will retry is passed over (its retry is a run of its own, judged when it finishes).
    Stops before a failed run Dagster has not yet said it will or will not retry: the tag follows
    the failure event, and the next evaluation reads it (a failure still untagged after
    UNDECIDED_SECONDS, stored before retries were turned on, is final)."""
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
        if run is None:
            continue
        failed = record.event_log_entry.dagster_event_type == dg.DagsterEventType.RUN_FAILURE
        if failed and instance.run_retries_enabled:
            will_retry = run.tags.get(WILL_RETRY_TAG)
            if will_retry is None and time.time() - record.event_log_entry.timestamp < UNDECIDED_SECONDS:
                return
            if will_retry == "true":
                continue
        yield Finished(record.storage_id, run, failed, record.event_log_entry.message if failed else "")


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


def finished_since_cursor(context: dg.SensorEvaluationContext) -> Iterator[Finished]:
    """The runs finished since the sensor's cursor (none on its first evaluation: start_cursor),
    the cursor moved past each once the sensor has dealt with it."""
    cursor = start_cursor(context)
    if cursor is None:
        return
    for finished in finished_runs(context.instance, cursor):
        yield finished
        context.update_cursor(str(finished.storage_id))


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
    evaluations = [r.event_log_entry.dagster_event.asset_check_evaluation_data for r in records]
    return sorted({e.check_name for e in evaluations if not e.passed})


def failure_message(instance: dg.DagsterInstance, finished: Finished) -> str:
    """Why the run failed: its steps' errors, or else what its failure event says (a run that
    never ran a step: a start timeout, a worker gone)."""
    records = instance.get_records_for_run(finished.run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
    messages = [r.event_log_entry.dagster_event.event_specific_data.error.message.strip() for r in records]
    return "; ".join(m.splitlines()[0] for m in messages if m) or finished.failure.strip() or "the run failed"


def targets(run: dg.DagsterRun, job: dg.JobDefinition | None, assets: set[dg.AssetKey]) -> bool:
    """Whether the run materialized these assets, launched from the job or from the UI's buttons."""
    return (job is not None and run.job_name == job.name) or bool(run.asset_selection and run.asset_selection & assets)
