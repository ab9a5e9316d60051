"""The audit trail's schedules: sealing every 15 minutes, and the monthly partitions each night."""

from ..automation import stopped_schedule
from .jobs import audit_partitions_job, audit_seal_job

# Rows not yet sealed are protected only by the triggers; sealing often keeps that window short.
audit_seal_every_15_minutes = stopped_schedule("audit_seal_every_15_minutes", audit_seal_job, "*/15 * * * *")
audit_partitions_daily = stopped_schedule("audit_partitions_daily", audit_partitions_job, "30 1 * * *")
