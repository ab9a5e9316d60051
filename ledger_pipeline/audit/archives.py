"""Archived audit months: one Parquet file per month (pyarrow), beside a manifest with the file's
SHA-256, its row count and the seals that cover its rows. Rows stream through in batches, so a
month of any size never sits in memory whole.

Columns keep PostgreSQL's own text forms where a Parquet type would change them (uuids, inet,
jsonb snapshots as their jsonb text), so a month read back hashes exactly as it did in the log.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from ..platform.errors import LedgerError

BATCH = 50_000
SCHEMA = pa.schema([
    ("id", pa.string()), ("table_name", pa.string()), ("operation", pa.string()), ("record_id", pa.string()),
    ("user_id", pa.string()), ("ip_address", pa.string()), ("old_data", pa.string()), ("new_data", pa.string()),
    ("created_at", pa.timestamp("us")), ("seq", pa.int64()), ("txid", pa.int64()), ("db_role", pa.string()),
    ("db_login", pa.string()),
])
SELECT = ("SELECT id::text, table_name, operation, record_id::text, user_id::text, ip_address::text,"
          " old_data::text, new_data::text, created_at, seq, txid, db_role, db_login FROM {table} ORDER BY seq, id")
COLUMNS = ", ".join(SCHEMA.names)


@dataclass(frozen=True)
class Manifest:
    month: str  # YYYY-MM
    file: str  # the Parquet file's name, beside the manifest
    sha256: str
    rows: int
    seals: list  # [{"seal_no", "hash"}] of the seals that cover rows of the month
    archived_at: str

    @staticmethod
    def path(directory: Path, month: str) -> Path:
        return directory / f"audit_log_{month}.manifest.json"

    def write(self, directory: Path) -> None:
        Manifest.path(directory, self.month).write_text(json.dumps(self.__dict__, indent=2) + "\n")

    @staticmethod
    def read(directory: Path, month: str) -> "Manifest":
        path = Manifest.path(directory, month)
        try:
            return Manifest(**json.loads(path.read_text()))
        except FileNotFoundError:
            raise LedgerError(f"no archive of {month} in {directory} (missing {path.name})") from None
        except (ValueError, TypeError) as exc:
            raise LedgerError(f"{path} is not an archive manifest: {exc}") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def export(conn: psycopg.Connection, table: str, month: str, directory: Path, seals: list) -> Manifest:
    """Writes ``table``'s rows (one month's partition) to Parquet, in seq order, and its manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit_log_{month}.parquet"
    rows = 0
    with conn.cursor(name=f"export_{month.replace('-', '_')}") as cursor, pq.ParquetWriter(path, SCHEMA) as writer:
        cursor.execute(psycopg.sql.SQL(SELECT).format(table=psycopg.sql.Identifier(table)))
        while batch := cursor.fetchmany(BATCH):
            writer.write_table(pa.Table.from_pylist([dict(zip(SCHEMA.names, row)) for row in batch], SCHEMA))
            rows += len(batch)
    manifest = Manifest(month, path.name, sha256(path), rows, seals,
                        dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    manifest.write(directory)
    return manifest


def load(conn: psycopg.Connection, directory: Path, month: str, into: str = "audit_archived") -> Manifest:
    """Reads a month's file back into the table ``into`` (its columns those of audit_log), after
    checking the file against its manifest's checksum and row count."""
    manifest = Manifest.read(directory, month)
    path = directory / manifest.file
    if not path.exists():
        raise LedgerError(f"the archive of {month} is missing its file {path}")
    if sha256(path) != manifest.sha256:
        raise LedgerError(f"the archive of {month} does not match its manifest's checksum: {path}")
    rows = 0
    copy_sql = psycopg.sql.SQL("COPY {} ({}) FROM STDIN").format(psycopg.sql.Identifier(into),
                                                                 psycopg.sql.SQL(COLUMNS))
    with conn.cursor().copy(copy_sql) as copy:
        for batch in pq.ParquetFile(path).iter_batches(BATCH):
            for row in zip(*(column.to_pylist() for column in batch.columns)):
                copy.write_row(row)
            rows += batch.num_rows
    if rows != manifest.rows:
        raise LedgerError(f"the archive of {month} holds {rows} rows, its manifest says {manifest.rows}")
    return manifest
