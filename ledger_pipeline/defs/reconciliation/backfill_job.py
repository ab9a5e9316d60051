"""The fanned-out backfill: a range of days split into chunks that run in parallel, on worker
processes or Celery workers; the one op job of the code location."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import dagster as dg

from ...platform import settings
from ...reconciliation import backfill_plans, reconcile_windows
from ..partitions import daily_partitions
from ..resources import LedgerResource
from .assets import daily_reconciliation


class FannedOutBackfillConfig(dg.Config):
    first_day: str  # a daily partition key, e.g. 2026-01-01
    last_day: str  # inclusive
    chunk_days: int = 31  # days per chunk: each chunk is one step, one pass over its days


def backfill_chunks(config: FannedOutBackfillConfig) -> list[list[str]]:
    if config.chunk_days < 1:
        raise dg.Failure(f"chunk_days must be at least 1, got {config.chunk_days}")
    first = daily_partitions.get_first_partition_key()
    today = dt.datetime.now(ZoneInfo(daily_partitions.timezone)).date().isoformat()
    for name, key in (("first_day", config.first_day), ("last_day", config.last_day)):
        try:
            dt.date.fromisoformat(key)
        except ValueError:
            raise dg.Failure(f"{name} must be a day like {first}, got {key!r}") from None
        if not first <= key <= today:
            raise dg.Failure(f"{name} {key} is outside the daily partitions, {first} to today ({today})")
    keys = daily_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(config.first_day, config.last_day))
    if not keys:
        raise dg.Failure(f"first_day {config.first_day} is after last_day {config.last_day}")
    return [keys[i:i + config.chunk_days] for i in range(0, len(keys), config.chunk_days)]


def fanned_out_backfill() -> dg.JobDefinition:
    """The job that reconciles a range of days split into chunks that run in parallel, each a
    one-pass reconcile_windows over its days in its own step, recording what a single-run backfill
    records (one 'backfill' row per day). A plan made first holds what moved after each chunk's
    end, so each chunk reads only its own days' entries (backfill_plans). Steps run on the executor
    LEDGER_EXECUTOR names: worker processes beside the run (multiprocess, no broker), or Celery
    workers listening on LEDGER_CELERY_QUEUE. A function, so Celery workers rebuild it with their
    own settings."""

    on_queue = _celery_queue_tag()

    @dg.op(out={"plan": dg.Out(str), "chunks": dg.DynamicOut(list)}, tags=on_queue)
    def plan_chunks(context: dg.OpExecutionContext, config: FannedOutBackfillConfig, ledger_db: LedgerResource):
        chunks = backfill_chunks(config)
        ends = [daily_partitions.time_window_for_partition_key(chunk[-1]).end for chunk in chunks]
        plan = backfill_plans.make(ledger_db.database, ends, context.run.run_id)
        context.log.info(f"{len(chunks)} chunks; plan {plan} holds what moved after each chunk's end")
        yield dg.Output(str(plan), "plan")
        for chunk in chunks:
            yield dg.DynamicOutput(chunk, output_name="chunks", mapping_key=f"{chunk[0]}_{chunk[-1]}".replace("-", ""))

    @dg.op(tags=on_queue)
    def reconcile_chunk(context: dg.OpExecutionContext, ledger_db: LedgerResource, days: list, plan: str) -> list:
        windows = [(key, *daily_partitions.time_window_for_partition_key(key)) for key in days]
        results = reconcile_windows(ledger_db.database, "backfill", windows, dagster_run_id=context.run.run_id,
                                    plan=uuid.UUID(plan))
        for result in results:
            context.log_event(dg.AssetMaterialization(
                asset_key=daily_reconciliation.key, partition=result.row["partition_key"],
                metadata={"reconciliation_run_id": str(result.run_id), "status": result.status}))
        broken = [r for r in results if r.status == "error"]
        if broken:  # the step fails, so a re-execution from failure runs the chunk again
            raise dg.Failure(f"{len(broken)} of {len(results)} days could not be reconciled: "
                             + "; ".join(f"{r.row['partition_key']}: {r.error}" for r in broken))
        return days

    @dg.op(tags=on_queue)
    def drop_plan(ledger_db: LedgerResource, plan: str, chunks: list) -> None:
        """Once every chunk is done: a failed one keeps the plan for the retry."""
        backfill_plans.drop(ledger_db.database, uuid.UUID(plan))

    @dg.job(
        name="fanned_out_backfill_job",
        executor_def=_executor(),
        resource_defs={"ledger_db": LedgerResource()},
        description="Reconcile a range of days in parallel chunks (see FannedOutBackfillConfig).",
    )
    def job():
        plan, chunks = plan_chunks()
        drop_plan(plan, chunks.map(lambda days: reconcile_chunk(days, plan)).collect())

    return job


def _celery_queue_tag() -> dict[str, str]:
    """The tag that routes each step to LEDGER_CELERY_QUEUE under Celery; dagster-celery is an extra
    (ledger-pipeline[celery]), imported only where that profile is chosen."""
    if settings.executor() != "celery":
        return {}
    from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG

    return {DAGSTER_CELERY_QUEUE_TAG: settings.celery_queue()}


PRELOAD_GX = "ledger_pipeline.reconciliation.expectations"  # by name: importing it imports GX


def _executor() -> dg.ExecutorDefinition:
    if settings.executor() == "celery":
        from dagster_celery import celery_executor

        return celery_executor.configured({"broker": settings.celery_broker(), "backend": "rpc://"})
    # Spawned, each step is a fresh interpreter that imports Dagster, this code location and Great
    # Expectations (seconds); forked from a server that imported them once, it starts at once.
    # Nothing they import starts a thread or opens a connection, so the fork is safe; spawning
    # stays a setting, should a library added later not be.
    return dg.multiprocess_executor.configured(
        lambda config: {"max_concurrent": config["max_concurrent"],
                        "start_method": {"forkserver": {"preload_modules": [__name__, PRELOAD_GX]}}
                        if config["forkserver"] else {"spawn": {}}},
        config_schema={
            "max_concurrent": dg.Field(int, default_value=0, description="Steps at once; 0: one per CPU."),
            "forkserver": dg.Field(bool, default_value=True,
                                   description="Fork steps from a server that has imported the code location;"
                                               " false: a fresh interpreter per step."),
        },
        name="multiprocess_forkserver",
    )


fanned_out_backfill_job = fanned_out_backfill()
