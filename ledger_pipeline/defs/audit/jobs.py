"""The audit trail's jobs: sealing, and audit_log's monthly partitions."""

import dagster as dg

from .assets import audit_log_partitions, audit_seals

audit_seal_job = dg.define_asset_job(
    "audit_seal_job",
    selection=[audit_seals],
    description="Seal the audit rows written since the last seal and anchor the chain's head in Dagster.",
)
audit_partitions_job = dg.define_asset_job(
    "audit_partitions_job",
    selection=[audit_log_partitions],
    description="Create the coming months' audit_log partitions and report their sizes (archive: opt-in config).",
)
