"""The bridge to Great Expectations: each check's recorded rows are counted inside PostgreSQL,
those whose expected and actual differ, by the query GX's SQL execution engine validates, which
expects the count to be 0.

The query hands GX one row, whatever the findings: an UnexpectedRowsExpectation over the rows
themselves had GX fetch every violating row through a client-side cursor (its row metric keeps 200
but the driver buffers the whole result, whatever the result_format), and a per-row expectation has
GX run the whole query once just to learn its columns; either way a run's memory grew with its
findings (issue 19).

GX takes seconds to import, so this module is imported only when a reconciliation runs, and each
process builds one GX context per database and reuses it.
"""

import os
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
with warnings.catch_warnings():
    # Deprecation noise from GX's own imports, not from anything this project calls.
    warnings.simplefilter("ignore", DeprecationWarning)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.datasource.fluent.interfaces import GxDatasourceWarning
    from sqlalchemy.pool import NullPool

MISMATCHES = (
    "SELECT count(*) FILTER (WHERE expected IS DISTINCT FROM actual) AS mismatches"
    " FROM reconciliation_items WHERE check_name = '{check}' AND run_id IN ({runs})"
)


@dataclass
class Validation:
    """What GX found for one check, over every run of the batch."""

    success: bool
    unexpected_count: int | None
    error: str | None = None


def gx_url(url: str) -> str:
    """The ledger URL as GX connects: the psycopg 3 driver, every session as ledger_system (so
    row-level security never hides a row from a check, and a login that may not see everything
    fails to connect rather than passing on partial sight), and read-only."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = " ".join(
        filter(None, [query.get("options"), "-c role=ledger_system", "-c default_transaction_read_only=on"])
    )
    return urlunsplit(parts._replace(scheme="postgresql+psycopg", query=urlencode(query)))


_datasources: dict[str, object] = {}


def _datasource(url: str):
    if url not in _datasources:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        with warnings.catch_warnings():
            # GX suggests its Postgres data source, which rejects socket-only URLs like the
            # embedded server's; the generic SQL one accepts them.
            warnings.simplefilter("ignore", GxDatasourceWarning)
            # No pool: a validation's connections close when it ends, rather than idle in every
            # process that ever validated (a run worker, a test session over many databases).
            _datasources[url] = context.data_sources.add_sql(name="ledger", connection_string=gx_url(url),
                                                             kwargs={"poolclass": NullPool})
    return _datasources[url]


def validate(url: str, checks: Sequence[str], run_ids: Sequence[uuid.UUID]) -> dict[str, Validation]:
    """Validates each check over the rows recorded for these runs."""
    datasource = _datasource(url)
    runs = ", ".join(f"'{run_id}'" for run_id in run_ids)  # UUIDs: nothing to escape
    results = {}
    for name in checks:
        asset_name = f"{name}-{run_ids[0]}"
        asset = datasource.add_query_asset(name=asset_name, query=MISMATCHES.format(check=name, runs=runs))
        try:
            batch = asset.add_batch_definition_whole_table("all").get_batch()
            expectation = gx.expectations.ExpectColumnMaxToBeBetween(
                column="mismatches", min_value=0, max_value=0, description=name
            )
            result = batch.validate(expectation, result_format="BASIC")
        finally:
            datasource.delete_asset(asset_name)
        results[name] = _validation(result)
    return results


def _validation(result) -> Validation:
    # GX reports a failed query either at the top of exception_info or per metric inside it;
    # either way, and whenever it has no count, the check did not run: that is an error, not a
    # finding (and never a pass).
    info = result.exception_info or {}
    raised = [info] + [v for v in info.values() if isinstance(v, dict)]
    errors = [e.get("exception_message") or "the expectation raised" for e in raised if e.get("raised_exception")]
    if errors or result.result.get("observed_value") is None:
        message = (errors[0] if errors else "Great Expectations returned no count").strip().splitlines()[0]
        return Validation(success=False, unexpected_count=None, error=message)
    return Validation(success=bool(result.success), unexpected_count=result.result.get("observed_value"))
