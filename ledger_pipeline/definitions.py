"""The code location: the one Definitions object that workspace.yaml loads."""

import dagster as dg

from .assets import ledger_schema
from .resources import LedgerResource

defs = dg.Definitions(
    assets=[ledger_schema],
    resources={"ledger_db": LedgerResource()},
)
