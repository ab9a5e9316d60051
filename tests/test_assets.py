import dagster as dg

from ledger_pipeline.defs.ledger.assets import ledger_schema
from ledger_pipeline.defs.resources import LedgerResource


def test_materializing_ledger_schema_applies_pending_migrations(empty_db_url):
    resources = {"ledger_db": LedgerResource(url=empty_db_url)}
    with dg.instance_for_test() as instance:
        first = dg.materialize([ledger_schema], resources=resources, instance=instance)
        again = dg.materialize([ledger_schema], resources=resources, instance=instance)
    assert first.success and again.success
    meta = first.asset_materializations_for_node("ledger_schema")[0].metadata
    assert meta["applied_now"].data == ["001", "002", "006", "007", "008", "009", "010", "011", "012", "013", "014", "015", "016", "017", "018", "019", "020", "021"]
    assert meta["schema_version"].text == "021"
    assert again.asset_materializations_for_node("ledger_schema")[0].metadata["applied_now"].data == []
