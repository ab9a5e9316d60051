"""The daily partitions (days of LEDGER_TIMEZONE) that the day reconciliations and the daily reports
share."""

import dagster as dg

from ..platform import settings

daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.partitions_start(), timezone=settings.timezone())
