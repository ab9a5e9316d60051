"""The ledger's jobs: applying the schema (the first start launches it, and so can anyone from the UI)."""

from ..automation import asset_job
from .assets import ledger_schema

ledger_schema_job = asset_job(
    "ledger_schema_job", ledger_schema,
    "Apply every migration in sql/migrations to the ledger database, and record the schema's version.",
)
