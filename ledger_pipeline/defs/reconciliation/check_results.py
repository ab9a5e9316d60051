"""The bridge from a reconciliation (its Great Expectations outcomes) to Dagster: asset check
specs, one ERROR-severity asset check result per ledger check, and plottable metadata."""

import dagster as dg

from ...reconciliation import RunResult


def check_specs(asset: str, names: tuple[str, ...]) -> list[dg.AssetCheckSpec]:
    # Non-blocking: a ledger that fails a check is a finding to show, not a crashed run.
    return [dg.AssetCheckSpec(name=name, asset=asset, blocking=False) for name in names]


def report(log, results: list[RunResult], names: tuple[str, ...]) -> dg.MaterializeResult:
    """One materialization for one or more reconciliation runs (a range of daily partitions
    reconciles one day per run), each run's outcome logged to ``log``. Raises dg.Failure if a run
    broke: an error is no reassurance."""
    for r in results:
        day = r.row.get("partition_key")
        log.info(f"{day + ': ' if day else ''}reconciliation {r.run_id}: {r.status}")
    broken = [r for r in results if r.status == "error"]
    if broken:
        raise dg.Failure(
            description="reconciliation could not run: " + "; ".join(f"{_label(r)}: {r.error}" for r in broken),
            metadata={"reconciliation_run_ids": dg.MetadataValue.json([str(r.run_id) for r in results])},
        )
    checks = []
    for name in names:
        failing = [r for r in results if not r.checks[name].passed]
        mismatches = sum(r.checks[name].unexpected_count or 0 for r in results)
        # Dagster has no skipped outcome for a check that ran: a skipped check passes, at WARN,
        # and says so in its description and metadata.
        skipped = next((r.checks[name].skipped for r in results if r.checks[name].skipped), None)
        checks.append(
            dg.AssetCheckResult(
                check_name=name,
                passed=not failing,
                severity=dg.AssetCheckSeverity.WARN if skipped else dg.AssetCheckSeverity.ERROR,
                description=(f"skipped: {skipped}" if skipped else
                             f"{mismatches} mismatches" + (f" in {', '.join(map(_label, failing))}" if failing else "")),
                metadata={
                    "mismatches": dg.MetadataValue.int(mismatches),
                    "skipped": dg.MetadataValue.bool(bool(skipped)),
                    "sample": dg.MetadataValue.json([row for r in failing for row in r.checks[name].sample][:10]),
                    "reconciliation_run_ids": dg.MetadataValue.json([str(r.run_id) for r in failing]),
                },
            )
        )
    rows = [r.row for r in results]
    metadata = {
        "reconciliation_run_id": dg.MetadataValue.text(", ".join(str(r.run_id) for r in results)),
        "status": dg.MetadataValue.text(", ".join(sorted({r.status for r in results}))),
        # Floats so the UI can plot them; the exact amounts are in reconciliation_runs.
        "total_debits": dg.MetadataValue.float(float(sum(row["total_debits"] or 0 for row in rows))),
        "total_credits": dg.MetadataValue.float(float(sum(row["total_credits"] or 0 for row in rows))),
        "mismatches": dg.MetadataValue.int(sum(row["mismatch_count"] or 0 for row in rows)),
        "accounts_checked": dg.MetadataValue.int(sum(row["accounts_checked"] or 0 for row in rows)),
        "transactions_checked": dg.MetadataValue.int(sum(row["transactions_checked"] or 0 for row in rows)),
        # The runs of one materialization are one batch: each carries the batch's duration.
        "duration_seconds": dg.MetadataValue.float(round(max(r.duration_seconds for r in results), 3)),
    }
    for check in checks:
        metadata[f"mismatches_{check.check_name}"] = check.metadata["mismatches"]
    return dg.MaterializeResult(metadata=metadata, check_results=checks)


def _label(result: RunResult) -> str:
    return result.row.get("partition_key") or str(result.run_id)
