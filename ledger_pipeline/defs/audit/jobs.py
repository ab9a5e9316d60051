"""The audit trail's jobs: sealing, and audit_log's monthly partitions."""

from ..automation import asset_job
from .assets import audit_log_partitions, audit_seals

audit_seal_job = asset_job(
    "audit_seal_job", audit_seals,
    "Seal the audit rows written since the last seal and anchor the chain's head in Dagster.",
)
audit_partitions_job = asset_job(
    "audit_partitions_job", audit_log_partitions,
    "Create the coming months' audit_log partitions and report their sizes (archive: opt-in config).",
)
