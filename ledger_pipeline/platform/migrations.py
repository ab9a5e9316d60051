"""The migration runner: applies sql/migrations/NNN_name.up.sql in order, rolls back with .down.sql.

Each migration runs in its own database transaction, the whole run under one advisory lock so two
runners never apply the same migration. Applied versions are recorded in schema_migrations with the
SHA-256 of their file; a runner refuses to go on when an applied file has changed or disappeared.
A down file that puts back a function or policy an earlier migration defined names it rather than
copying it (``-- restore: audit_write from 016_statements.up.sql``): the text comes from that file,
so a rollback cannot drift from what the earlier migration applied.
A schema_migrations table written by another tool (the seed's own ran 001-005) is adopted: its
versions count as applied, with no checksum to verify.
"""

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import psycopg
import sqlparse

from . import settings
from .connections import connect
from .errors import LedgerError

MIGRATIONS_DIR = settings.SQL_DIR / "migrations"
# An arbitrary constant that names "ledger-pipeline migrations" among advisory locks.
LOCK_KEY = 7_306_012_605_164_512_001
_FILE = re.compile(r"^(?P<version>\d{3})_(?P<name>\w+)\.(?P<direction>up|down)\.sql$")
_RESTORE = re.compile(r"^-- restore: (?P<name>\w+) from (?P<file>\d{3}_\w+\.up\.sql)$", re.M)


class MigrationError(LedgerError):
    pass


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    up: Path
    down: Optional[Path]

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Applied:
    version: str
    checksum: Optional[str]  # None: adopted from another tool
    applied_at: object


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    files: dict[str, dict[str, Path]] = {}
    names: dict[str, str] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files are named NNN_name.up.sql / NNN_name.down.sql")
        version = match["version"]
        if names.setdefault(version, match["name"]) != match["name"]:
            raise MigrationError(f"two migrations share version {version}: {names[version]} and {match['name']}")
        files.setdefault(version, {})[match["direction"]] = path
    migrations = []
    for version, paths in sorted(files.items()):
        if "up" not in paths:
            raise MigrationError(f"migration {version} has a down file but no {version}_{names[version]}.up.sql")
        migrations.append(Migration(version, names[version], paths["up"], paths.get("down")))
    return migrations


class Runner:
    """Runs migrations against one database over one autocommit connection."""

    def __init__(self, url: str, directory: Path = MIGRATIONS_DIR):
        self.url = url
        self.migrations = discover(directory)
        self.by_version = {m.version: m for m in self.migrations}

    def status(self) -> list[dict]:
        with self._locked() as conn:
            applied = self._applied(conn)
        rows = []
        for version in sorted(set(self.by_version) | set(applied)):
            migration, record = self.by_version.get(version), applied.get(version)
            if record is None:
                state = "pending"
            elif record.checksum is None:
                state = "adopted"
            elif migration is None:
                state = "applied, file missing"
            elif migration.checksum != record.checksum:
                state = "applied, file edited"
            else:
                state = "applied"
            rows.append({
                "version": version,
                "name": migration.name if migration else "",
                "state": state,
                "applied_at": record.applied_at if record else None,
            })
        return rows

    def up(self) -> list[str]:
        """Applies every pending migration; returns the versions applied now."""
        done = []
        with self._locked() as conn:
            applied = self._verified(conn)
            pending = [m for m in self.migrations if m.version not in applied]
            newest = max(applied, default="")
            for migration in pending:
                if migration.version < newest:
                    raise MigrationError(
                        f"migration {migration.version}_{migration.name} is pending but the newer {newest} "
                        "is already applied; give it a version above the newest applied one"
                    )
            for migration in pending:
                self._run(conn, migration, migration.up, migration.up.read_text())
                done.append(migration.version)
        return done

    def down(self, version: str) -> list[str]:
        """Rolls back ``version`` and every applied migration newer than it, newest first."""
        if version not in self.by_version:
            known = ", ".join(self.by_version) or "none"
            raise MigrationError(f"unknown migration version {version!r} (known: {known})")
        with self._locked() as conn:
            applied = self._verified(conn)
            if version not in applied:
                raise MigrationError(f"nothing to roll back: migration {version} is not applied")
            targets = sorted((v for v in applied if v >= version), reverse=True)
            for v in targets:
                migration = self.by_version.get(v)
                if migration is None or migration.down is None:
                    raise MigrationError(f"migration {v} has no down file; nothing was rolled back")
            # Every down file's restores resolved before any is run: a bad one refuses the whole
            # rollback rather than stopping it halfway.
            texts = {v: with_restores(self.by_version[v].down) for v in targets}
            for v in targets:
                self._run(conn, self.by_version[v], self.by_version[v].down, texts[v])
        return targets

    @contextmanager
    def _locked(self) -> Iterator[psycopg.Connection]:
        # Closing the connection ends the session, and with it the advisory lock.
        with connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            self._ensure_table(conn)
            yield conn

    @staticmethod
    def _ensure_table(conn: psycopg.Connection) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY)")
        # Adopting another tool's table: add what this runner records, keep what it had.
        conn.execute(
            "ALTER TABLE schema_migrations"
            " ADD COLUMN IF NOT EXISTS checksum text,"
            " ADD COLUMN IF NOT EXISTS applied_at timestamptz DEFAULT now()"
        )

    @staticmethod
    def _applied(conn: psycopg.Connection) -> dict[str, Applied]:
        rows = conn.execute("SELECT version::text, checksum, applied_at FROM schema_migrations").fetchall()
        return {v: Applied(v, c, at) for v, c, at in rows}

    def _verified(self, conn: psycopg.Connection) -> dict[str, Applied]:
        applied = self._applied(conn)
        for record in applied.values():
            if record.checksum is None:
                continue
            migration = self.by_version.get(record.version)
            if migration is None:
                raise MigrationError(
                    f"migration {record.version} is applied but its file is missing from {MIGRATIONS_DIR}"
                )
            if migration.checksum != record.checksum:
                raise MigrationError(
                    f"{migration.up.name} was edited after it was applied (checksum differs); "
                    "write a new migration instead"
                )
        return applied

    @staticmethod
    def _run(conn: psycopg.Connection, migration: Migration, path: Path, text: str) -> None:
        try:
            with conn.transaction():
                conn.execute(text)
                if path == migration.up:
                    conn.execute(
                        "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (%s, %s, now())",
                        (migration.version, migration.checksum),
                    )
                else:
                    conn.execute("DELETE FROM schema_migrations WHERE version = %s", (migration.version,))
        except psycopg.Error as exc:
            raise MigrationError(
                f"{path.name} failed and was rolled back: {str(exc).strip().splitlines()[0]}"
            ) from exc


def with_restores(path: Path) -> str:
    """A down file's text, each ``-- restore:`` line replaced by the definition of that function or
    policy in the file it names, made to replace the one in place: a function by ``CREATE OR
    REPLACE``, a policy by dropping it first. The named file must define it once, and no migration
    between that one and this must define or alter it again: else the text would not be what was
    there before this migration."""
    text = path.read_text()
    # A near miss (another case, a space too many, no colon) would otherwise pass as a comment.
    for line in re.findall(r"^--\s*restore(?:\s*:|\s+\w+\s+from\b).*$", text, re.M | re.I):
        if not _RESTORE.fullmatch(line):
            raise MigrationError(f"{path.name}: {line!r} is not '-- restore: NAME from NNN_name.up.sql'")

    def definition(line: re.Match) -> str:
        name, source = line["name"], path.with_name(line["file"])
        if not source.exists():
            raise MigrationError(f"{path.name}: {line['file']} does not exist")
        found = _defining(source, name)
        if len(found) != 1:
            raise MigrationError(f"{path.name}: {source.name} defines {name} {len(found)} times, not once")
        statement, match = found[0]
        later = [p.name for p in sorted(path.parent.glob("*.up.sql")) if source.name < p.name < path.name
                 and _defining(p, name, altering=True)]
        if later:
            raise MigrationError(f"{path.name}: {name} was changed again after {source.name}, in {', '.join(later)}")
        if match["kind"].upper() == "POLICY":
            return f"DROP POLICY {name} ON {match['table']};\n{statement}"
        return re.sub(match.re, f"CREATE OR REPLACE FUNCTION {name}(", statement, count=1)
    return _RESTORE.sub(definition, text)


def _defining(path: Path, name: str, altering: bool = False) -> list[tuple[str, re.Match]]:
    """The statements of ``path`` that create the function or policy ``name`` (or, ``altering``, also
    alter it), each with its match."""
    verb = r"(?:CREATE\s+(?:OR\s+REPLACE\s+)?|ALTER\s+)" if altering else r"CREATE\s+(?:OR\s+REPLACE\s+)?"
    head = re.compile(rf"{verb}(?P<kind>FUNCTION|POLICY)\s+(?:public\.)?{name}(?:\s*\(|\s+ON\s+(?P<table>[\w.]+))",
                      re.I)
    # sqlparse splits at top-level semicolons only, so a function body's own never cuts it.
    statements = sqlparse.split(path.read_text())
    found = [(s, head.match(sqlparse.format(s, strip_comments=True).lstrip())) for s in statements]
    return [(s, m) for s, m in found if m]
