"""The code location: the one Definitions object that workspace.yaml loads."""

import dagster as dg

from .assets import (audit_log_partitions, audit_seals, daily_reconciliation, full_reconciliation, ledger_balance,
                     ledger_schema, reporting_trial_balance, tax_report)
from .jobs import (audit_partitions_job, audit_seal_job, daily_reconciliation_job, fanned_out_backfill_job,
                   full_reconciliation_job, hourly_balance_check_job)
from .resources import BalanceCacheResource, LedgerResource
from .schedules import (audit_partitions_daily, audit_seal_every_15_minutes, daily_full_reconciliation,
                        hourly_balance_check)
from .sensors import escalate_failed_hourly_check, reconcile_late_arrivals, reconciliation_alerts

defs = dg.Definitions(
    assets=[ledger_schema, full_reconciliation, ledger_balance, daily_reconciliation, reporting_trial_balance,
            tax_report, audit_seals, audit_log_partitions],
    jobs=[full_reconciliation_job, hourly_balance_check_job, daily_reconciliation_job, fanned_out_backfill_job,
          audit_seal_job, audit_partitions_job],
    schedules=[daily_full_reconciliation, hourly_balance_check, audit_seal_every_15_minutes, audit_partitions_daily],
    sensors=[escalate_failed_hourly_check, reconcile_late_arrivals, reconciliation_alerts],
    resources={"ledger_db": LedgerResource(), "balance_cache": BalanceCacheResource()},
)
