"""The audit trail's assets: the seals (whose materializations anchor the chain outside the ledger
database) and audit_log's monthly partitions."""

import dagster as dg

from ...audit import anchors, lifecycle, seals
from ...platform import settings
from ..ledger.assets import ledger_schema
from ..resources import LedgerResource
from . import dagster_anchors


@dg.asset(
    group_name="audit",
    deps=[ledger_schema],
    description="Seals the audit rows written since the last seal (a SHA-256 chain in audit_seals); each new"
    " seal's hash is anchored in this materialization's metadata and, if LEDGER_AUDIT_ANCHOR_FILE is set,"
    " appended to that file.",
)
def audit_seals(context: dg.AssetExecutionContext, ledger_db: LedgerResource) -> dg.MaterializeResult:
    new = seals.seal(ledger_db.database)
    made = [new] if new else []
    anchors.append_to_file(made)
    head = new or seals.head(ledger_db.database)
    context.log.info(f"sealed {new.row_count} audit rows as seal {new.seal_no}" if new else "nothing new to seal")
    return dg.MaterializeResult(metadata=dagster_anchors.metadata(made, head))


class AuditLifecycleConfig(dg.Config):
    archive: bool = False  # opt in: archive the months older than LEDGER_AUDIT_RETENTION_MONTHS


@dg.asset(
    group_name="audit",
    deps=[ledger_schema],
    description="audit_log's monthly partitions: creates the coming months' ahead of time, reports each"
    " partition's rows and bytes, and (opt-in) archives months older than the retention.",
)
def audit_log_partitions(
    context: dg.AssetExecutionContext, config: AuditLifecycleConfig, ledger_db: LedgerResource
) -> dg.MaterializeResult:
    db = ledger_db.database
    lifecycle.ensure_partitions(db)
    archived = []
    if config.archive:
        for month in lifecycle.archivable(db, None, settings.audit_retention_months()):
            archived.append(lifecycle.archive(db, month, settings.audit_archive_dir()).month)
            context.log.info(f"archived {archived[-1]}")
    parts = lifecycle.partitions(db)
    metadata = {"archived_now": dg.MetadataValue.json(archived),
                "rows": dg.MetadataValue.int(sum(p.rows for p in parts)),
                "bytes": dg.MetadataValue.int(sum(p.bytes for p in parts))}
    for p in parts:  # one plottable series per partition
        metadata[f"rows_{p.name}"] = dg.MetadataValue.int(p.rows)
        metadata[f"bytes_{p.name}"] = dg.MetadataValue.int(p.bytes)
    return dg.MaterializeResult(metadata=metadata)
