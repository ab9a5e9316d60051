"""The bank_statements asset: what the banks have said, as imported into the ledger database."""

from pathlib import Path

import dagster as dg

from ...statements import inbox
from ...statements.overview import overview
from ..ledger.assets import ledger_schema
from ..resources import LedgerResource


class StatementFileConfig(dg.Config):
    path: str = ""  # a file in the statements inbox to import first; empty: only report


@dg.asset(
    group_name="statements",
    deps=[ledger_schema],
    # A file refused for its content is moved aside and said why, without raising; what raises is
    # the database out of reach, and the file stays in the inbox for the retries (then for a
    # touched file, a new request).
    retry_policy=dg.RetryPolicy(max_retries=3, delay=30),
    description="The bank statements imported so far (statements, statement_lines), per mapped bank account."
                " A run with a file imports it first: to done/, or to rejected/ beside a .reason file.",
)
def bank_statements(context: dg.AssetExecutionContext, config: StatementFileConfig,
                    ledger_db: LedgerResource) -> dg.MaterializeResult:
    metadata = {}
    if config.path and not Path(config.path).exists():
        # An earlier attempt of this run moved it before failing later: it has been dealt with.
        context.log.info(f"{config.path} is no longer in the inbox: nothing to import")
    elif config.path:
        outcome = inbox.process(ledger_db.database, Path(config.path))
        log = context.log.warning if outcome.reason else context.log.info
        log(f"{Path(config.path).name}: {outcome.status}" + (f": {outcome.reason}" if outcome.reason else ""))
        metadata.update({
            "file": dg.MetadataValue.text(Path(config.path).name),
            "outcome": dg.MetadataValue.text(outcome.status),
            "moved_to": dg.MetadataValue.path(str(outcome.moved_to)),
            "reason": dg.MetadataValue.text(outcome.reason or ""),
            "lines_imported": dg.MetadataValue.int(int(outcome.result.line_count) if outcome.result else 0),
        })
    accounts = overview(ledger_db.database)
    metadata.update({
        "bank_accounts": dg.MetadataValue.int(len(accounts)),
        "statements": dg.MetadataValue.int(sum(a.statements for a in accounts)),
        "lines": dg.MetadataValue.int(sum(a.lines for a in accounts)),
        "accounts": dg.MetadataValue.md("\n".join(
            ["| bank account | currency | ledger account | statements | lines | latest closing |",
             "|---|---|---|---:|---:|---|"]
            + [f"| {a.identifier} | {a.currency} | {a.ledger_account} | {a.statements} | {a.lines} |"
               f" {a.latest_closing_balance if a.latest_closing_date else ''}"
               f"{f' on {a.latest_closing_date}' if a.latest_closing_date else ''} |" for a in accounts])),
    })
    return dg.MaterializeResult(metadata=metadata)
