"""The lifetime of the Dagster processes that `ledger-pipeline start` runs.

`dg dev` starts the webserver and the daemon, a code server (`dagster code-server start`) with
its `dagster api grpc` child, and the run workers that child spawns. It stops them itself on a
signal, but not in an order that lets a run in flight close its reconciliation row, and it trusts
each of them to exit: a code server retrying a database that is already gone has been seen to
ignore SIGTERM for a quarter of an hour. So `dg dev` runs in a session of its own, and on
shutdown the supervisor stops the session's members itself, stage by stage, escalating from a
polite signal to SIGKILL after a grace period, and only returns when none is left.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil


@dataclass(frozen=True)
class Stage:
    name: str
    markers: tuple[str, ...]  # a member belongs to the first stage one of whose markers its command line has
    polite: signal.Signals
    grace_seconds: float  # then SIGKILL: long enough for a clean exit, short enough for a person waiting


# In order (SIGINT is what `dg dev` makes its webserver and daemon stop on): nothing launches
# new runs once the webserver and the daemon are gone; a run worker interrupted with SIGINT (what
# Dagster's own termination sends it) closes its reconciliation row as 'error' ("interrupted")
# while the database and the code server are still up; then the code servers. `dg dev` itself is
# killed before all of them: left running, it reports each of them stopping as a crash, with a
# traceback; it holds nothing of its own, and its end closes the shutdown pipes its webserver and
# daemon watch, so they start stopping at once. The webserver holds no state and waits on open
# browser connections: it gets little grace.
STAGES = (
    Stage("webserver", ("dagster_webserver", "dagster-webserver"), signal.SIGINT, 5),
    Stage("daemon", ("dagster._daemon", "dagster-daemon"), signal.SIGINT, 15),
    Stage("run workers", ("multiprocessing.spawn", "multiprocessing.forkserver", "api execute_run"), signal.SIGINT, 30),
    Stage("code servers", ("code-server", "api grpc"), signal.SIGTERM, 10),
)
REST = Stage("rest of the session", ("",), signal.SIGTERM, 5)


class Supervisor:
    def __init__(self, command: list[str], env: dict[str, str], cwd: str,
                 say: Callable[[str], None] = print):
        self.command, self.env, self.cwd, self.say = command, env, cwd, say
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        def restore_signals():
            # A shell may have started us with SIGINT ignored (a background job); the children
            # must still stop on it.
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

        # A session of its own: a terminal's Ctrl-C reaches only us, and every process Dagster
        # starts stays findable by its session id even after its parent is gone.
        self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, preexec_fn=restore_signals,
                                        start_new_session=True)

    def members(self) -> list[psutil.Process]:
        """Every live process of the session, and any descendant that left it."""
        assert self.process is not None
        session = self.process.pid
        found: dict[int, psutil.Process] = {}
        for proc in psutil.process_iter():
            try:
                if os.getsid(proc.pid) == session:
                    found[proc.pid] = proc
            except (ProcessLookupError, PermissionError):
                continue
        try:
            root = psutil.Process(session)
            for proc in [root, *root.children(recursive=True)]:
                found.setdefault(proc.pid, proc)
        except psutil.NoSuchProcess:
            pass
        return [p for p in found.values() if _alive(p)]

    def stop(self) -> None:
        """Stops every member, stage by stage; returns when none is left."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # dg dev itself: see STAGES
        for stage in STAGES:
            procs = [p for p in self.members() if _stage_of(p) is stage]
            if procs:
                self._stop(stage, procs)
        # Whatever is left, of any kind: a process that started meanwhile, or one nothing recognised.
        for _ in range(3):
            if not (left := self.members()):
                break
            self._stop(REST, left)
        if left := self.members():
            self.say("still running after SIGKILL: " + ", ".join(str(p.pid) for p in left))
        self.process.wait()

    def _stop(self, stage: Stage, procs: list[psutil.Process]) -> None:
        self.say(f"stopping the {stage.name} ({', '.join(str(p.pid) for p in procs)})")
        _signal(procs, stage.polite)
        alive = _wait(procs, stage.grace_seconds)
        if alive:
            self.say(f"the {stage.name} did not stop within {stage.grace_seconds:.0f} s: killing "
                     + ", ".join(str(p.pid) for p in alive))
            _signal(alive, signal.SIGKILL)
            _wait(alive, 5)


def _stage_of(proc: psutil.Process) -> Stage:
    try:
        line = " ".join(proc.cmdline()) + " "
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        line = ""
    return next((stage for stage in STAGES if any(marker in line for marker in stage.markers)), REST)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait(procs: list[psutil.Process], timeout: float) -> list[psutil.Process]:
    """The processes still alive after ``timeout``. A zombie counts as gone: it runs nothing, and
    its parent (not us, for most members) reaps it."""
    deadline = time.monotonic() + timeout
    while (alive := [p for p in procs if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _signal(procs: Iterable[psutil.Process], signum: signal.Signals) -> None:
    for proc in procs:
        try:
            proc.send_signal(signum)
        except psutil.NoSuchProcess:
            pass
