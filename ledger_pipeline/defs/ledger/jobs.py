"""The ledger's jobs: applying the schema (the first start launches it, and so can anyone from the UI)."""

import dagster as dg

from .assets import ledger_schema

ledger_schema_job = dg.define_asset_job(
    "ledger_schema_job",
    selection=[ledger_schema],
    description="Apply every migration in sql/migrations to the ledger database, and record the schema's version.",
)
