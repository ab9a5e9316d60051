"""Dagster's storage as an anchor of the audit seals: each seal's hash in the materialization
metadata of the audit_seals asset, in the instance database, out of reach of whoever rewrites the
ledger database."""

import dagster as dg

from ...audit import anchors
from ...audit.anchors import Anchor
from ...audit.seals import Seal

ASSET = "audit_seals"
PAGE = 1000


def from_dagster(instance: dg.DagsterInstance) -> list[Anchor]:
    """Every seal anchored in the materializations of the audit_seals asset in ``instance``."""
    found, cursor = [], None
    while True:
        page = instance.fetch_materializations(dg.AssetKey(ASSET), limit=PAGE, cursor=cursor, ascending=True)
        for event in page.records:
            seals = event.asset_materialization.metadata.get("seals")
            for item in (seals.data if seals is not None else []):
                found.append(Anchor(int(item["seal_no"]), str(item["hash"]), int(item["row_count"]), "dagster"))
        if not page.has_more:
            return found
        cursor = page.cursor


def report(instance: dg.DagsterInstance, seals: list[Seal], head: Seal | None) -> None:
    """Anchors seals made outside a Dagster run (the CLI) as a runless materialization."""
    instance.report_runless_asset_event(dg.AssetMaterialization(ASSET, metadata=metadata(seals, head)))


def metadata(seals: list[Seal], head: Seal | None) -> dict:
    return {
        "seals": dg.MetadataValue.json(anchors.record(seals)),
        "rows_sealed": dg.MetadataValue.int(sum(s.row_count for s in seals)),
        "head_seal_no": dg.MetadataValue.int(head.seal_no if head else 0),
        "head_hash": dg.MetadataValue.text(head.hash if head else ""),
    }


def read(instance: dg.DagsterInstance | None) -> list[Anchor]:
    """Every anchor available: the file's, and the Dagster instance's when one is given."""
    return anchors.from_file() + (from_dagster(instance) if instance is not None else [])
