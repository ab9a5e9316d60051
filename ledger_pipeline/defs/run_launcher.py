"""Dagster's default run launcher, with the worker health check that run monitoring needs.

Run monitoring (the daemon) fails a started run whose worker is gone only if the run launcher can
tell, and Dagster's DefaultRunLauncher cannot (`supports_check_run_worker_health` is False): a run
whose worker was SIGKILLed together with its code server would stay STARTED, and keep its pool's
one slot, for ever. The default launcher's workers are processes on the code server's machine,
which is this machine for `ledger-pipeline start` (the daemon, the code server and the workers all
run here), so their health is whether the process that announced itself for the run still runs.
A run sent to a code server elsewhere is never judged from here: it counts as running.
"""

import json
import socket
from typing import Optional

import dagster as dg
import psutil
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

# The event a run worker writes as it starts (dagster/_grpc/impl.py), whose metadata carries its pid.
STARTED_PROCESS = "Started process for run"


class LocalRunLauncher(dg.DefaultRunLauncher):
    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = _worker(self._instance, run.run_id) if _launched_here(run) else None
        if worker is None:
            # Not announced yet, or announced elsewhere: nothing proves it dead, so it is not failed.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "no run worker process recorded on this machine")
        pid, started_at = worker
        try:
            process = psutil.Process(pid)
            # A reused pid belongs to a process that started after the worker announced itself.
            if process.status() != psutil.STATUS_ZOMBIE and process.create_time() <= started_at + 1:
                return CheckRunHealthResult(WorkerStatus.RUNNING)
        except psutil.NoSuchProcess:
            pass
        return CheckRunHealthResult(WorkerStatus.FAILED, f"the run worker (pid {pid}) is no longer running")


def _launched_here(run: dg.DagsterRun) -> bool:
    """Whether the run went to a code server on this machine (a socket, or a loopback host)."""
    info = json.loads(run.tags.get(GRPC_INFO_TAG) or "{}")
    return "socket" in info or info.get("host") in ("localhost", "127.0.0.1", "::1", socket.gethostname())


def _worker(instance: dg.DagsterInstance, run_id: str) -> Optional[tuple[int, float]]:
    """The pid of the run's latest worker, and when it announced itself."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, ascending=False).records
    for record in records:
        entry = record.event_log_entry
        if entry.message.startswith(STARTED_PROCESS):
            pid = entry.dagster_event.engine_event_data.metadata.get("pid")
            if pid is not None:
                return int(pid.value), entry.timestamp
    return None
