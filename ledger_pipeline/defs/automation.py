"""How the code location's jobs, schedules and sensors are made. A schedule runs in LEDGER_TIMEZONE
and starts stopped, so nothing runs on a schedule until someone turns it on (the UI's Automation
page, or `ledger-pipeline dagster schedule start NAME -w workspace.yaml`). A sensor starts running:
it only answers what has already happened (a failed check, a late arrival, a dropped file)."""

import dagster as dg

from ..platform import settings


def stopped_schedule(name: str, job, cron: str,
                     run_config: dg.RunConfig | None = None) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name=name, job=job, cron_schedule=cron, execution_timezone=settings.timezone(),
                                 run_config=run_config, default_status=dg.DefaultScheduleStatus.STOPPED)


def asset_job(name: str, asset, description: str, partitions_def=None):
    """A job that materializes one asset."""
    return dg.define_asset_job(name, selection=[asset], description=description, partitions_def=partitions_def)


def running_sensor(seconds: int, description: str, job=None):
    """The decorator of a sensor evaluated at most every ``seconds``, running from the start."""
    return dg.sensor(job=job, minimum_interval_seconds=seconds, default_status=dg.DefaultSensorStatus.RUNNING,
                     description=description)
