"""The daily partitions (days of LEDGER_TIMEZONE) that the day reconciliations and the daily reports
share."""

from functools import partial

import dagster as dg

from ..platform import settings

daily_partitions = dg.DailyPartitionsDefinition(start_date=settings.partitions_start(), timezone=settings.timezone())

# An asset of days whose backfill over many days is one run: the day reconciliations take the days
# in one pass over their entries, not one run per day.
daily_asset = partial(dg.asset, partitions_def=daily_partitions, backfill_policy=dg.BackfillPolicy.single_run())
