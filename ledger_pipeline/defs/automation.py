"""How the code location's schedules are made: each runs in LEDGER_TIMEZONE and starts stopped, so
nothing runs on a schedule until someone turns it on (the UI's Automation page, or
`ledger-pipeline dagster schedule start NAME -w workspace.yaml`)."""

import dagster as dg

from ..platform import settings


def stopped_schedule(name: str, job, cron: str,
                     run_config: dg.RunConfig | None = None) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name=name, job=job, cron_schedule=cron, execution_timezone=settings.timezone(),
                                 run_config=run_config, default_status=dg.DefaultScheduleStatus.STOPPED)
