"""Dagster assets."""

import dagster as dg

from .resources import LedgerResource
from .migrations import Runner


@dg.asset(
    group_name="ledger",
    description="The ledger schema: every migration in sql/migrations applied to the ledger database.",
)
def ledger_schema(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    runner = Runner(ledger_db.database.database_url())
    applied_now = runner.up()
    status = runner.status()
    versions = [row["version"] for row in status if row["state"] in ("applied", "adopted")]
    context.log.info(f"applied now: {applied_now or 'nothing'}; schema at {versions[-1] if versions else 'empty'}")
    return dg.MaterializeResult(
        metadata={
            "applied_now": dg.MetadataValue.json(applied_now),
            "applied_versions": dg.MetadataValue.json(versions),
            "schema_version": dg.MetadataValue.text(versions[-1] if versions else ""),
        }
    )
