"""The reconciliation jobs: the full run, the hourly quick check and the day runs."""

from ..automation import asset_job
from .assets import audit_full_verification, daily_reconciliation, full_reconciliation, ledger_balance

full_reconciliation_job = asset_job(
    "full_reconciliation_job", full_reconciliation,
    "Reconcile the whole ledger (the seed's daily 2 AM job; also the escalation target).",
)
hourly_balance_check_job = asset_job(
    "hourly_balance_check_job", ledger_balance,
    "The hourly quick check that the ledger balances; a failure escalates to a full run.",
)
daily_reconciliation_job = asset_job(
    "daily_reconciliation_job", daily_reconciliation,
    "Reconcile one day (a partition); backfills run a range of days in one run.",
)
audit_full_verification_job = asset_job(
    "audit_full_verification_job", audit_full_verification,
    "Re-hash every audit row and read every archived month back (`audit verify --full`).",
)
RECONCILIATION_JOBS = (full_reconciliation_job, hourly_balance_check_job, daily_reconciliation_job,
                       audit_full_verification_job)
