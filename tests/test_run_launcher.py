"""The run launcher's worker health check: the pid the run worker recorded in its engine event's
metadata, whatever the event's text, read once per run."""

import json
import os
import subprocess
import sys

import dagster as dg
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

from ledger_pipeline.defs.run_launcher import LocalRunLauncher


def started_run(instance: dg.DagsterInstance, pid: int) -> dg.DagsterRun:
    run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job(),
                                      tags={GRPC_INFO_TAG: json.dumps({"host": "localhost", "port": 4000})})
    instance.report_engine_event("launching", run, EngineEventData())  # the launcher's, no pid
    instance.report_engine_event("a worker said hello in words that are nobody's business", run,
                                 EngineEventData.in_process(pid))
    return run


def launcher(instance: dg.DagsterInstance) -> LocalRunLauncher:
    launcher = LocalRunLauncher()
    launcher.register_instance(instance)
    return launcher


def test_a_live_worker_runs_a_gone_one_failed_and_each_is_read_once():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with dg.instance_for_test() as instance:
        check = launcher(instance)
        alive, dead = started_run(instance, os.getpid()), started_run(instance, gone.pid)
        assert check.check_run_worker_health(alive).status == WorkerStatus.RUNNING
        result = check.check_run_worker_health(dead)
        assert result.status == WorkerStatus.FAILED and f"pid {gone.pid}" in result.msg
        # Once known, the worker is not looked up again: with the run's events gone, it still is.
        instance.delete_run(alive.run_id)
        instance.delete_run(dead.run_id)
        assert check.check_run_worker_health(alive).status == WorkerStatus.RUNNING
        assert check.check_run_worker_health(dead).status == WorkerStatus.FAILED


def test_a_run_whose_worker_has_not_announced_itself_is_not_failed():
    with dg.instance_for_test() as instance:
        run = instance.create_run_for_job(dg.GraphDefinition("noop").to_job(),
                                          tags={GRPC_INFO_TAG: json.dumps({"socket": "/tmp/x"})})
        assert launcher(instance).check_run_worker_health(run).status == WorkerStatus.RUNNING
