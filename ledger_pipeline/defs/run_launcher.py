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
from collections import OrderedDict
from typing import Optional

import dagster as dg
import psutil
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

PAGE = 20  # the worker announces itself among a run's first engine events
REMEMBERED = 1000  # runs whose worker is known; far more than ever run at once


class LocalRunLauncher(dg.DefaultRunLauncher):
    def __init__(self, inst_data=None):
        super().__init__(inst_data)
        # Each run's worker, once found: later polls of the same run read no events at all.
        self._workers: OrderedDict[str, tuple[int, float]] = OrderedDict()

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        worker = self._worker_of(run) if _launched_here(run) else None
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

    def _worker_of(self, run: dg.DagsterRun) -> Optional[tuple[int, float]]:
        worker = self._workers.get(run.run_id)
        if worker is None:
            worker = _worker(self._instance, run.run_id)
            if worker is None:
                return None
            self._workers[run.run_id] = worker
            while len(self._workers) > REMEMBERED:
                self._workers.popitem(last=False)
        return worker


def _launched_here(run: dg.DagsterRun) -> bool:
    """Whether the run went to a code server on this machine (a socket, or a loopback host)."""
    info = json.loads(run.tags.get(GRPC_INFO_TAG) or "{}")
    return "socket" in info or info.get("host") in ("localhost", "127.0.0.1", "::1", socket.gethostname())


def _worker(instance: dg.DagsterInstance, run_id: str) -> Optional[tuple[int, float]]:
    """The pid the run's worker recorded as it started, and when: the first engine event of the run
    that carries a pid (dagster/_grpc/impl.py records it as the worker's own, for the run as a
    whole; a step's subprocess records its pid in a step event instead)."""
    cursor = None
    while True:
        page = instance.get_records_for_run(run_id, cursor=cursor, of_type=dg.DagsterEventType.ENGINE_EVENT,
                                            limit=PAGE, ascending=True)
        for record in page.records:
            event = record.event_log_entry.dagster_event
            pid = event.engine_event_data.metadata.get("pid") if event.step_key is None else None
            if pid is not None:
                return int(pid.value), record.event_log_entry.timestamp
        if not page.has_more:
            return None
        cursor = page.cursor
