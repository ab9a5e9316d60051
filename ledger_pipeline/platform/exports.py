"""Tables written as Parquet and CSV side by side, each to a temporary name and renamed, so a
reader never sees half a file."""

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq


def write_table(table: pa.Table, directory: Path, name: str) -> tuple[Path, Path]:
    """Writes ``table`` as <directory>/<name>.parquet and .csv; returns the two paths."""
    directory.mkdir(parents=True, exist_ok=True)
    parquet_path, csv_path = directory / f"{name}.parquet", directory / f"{name}.csv"
    for path, writer in ((parquet_path, pq.write_table), (csv_path, pa_csv.write_csv)):
        partial = path.with_suffix(path.suffix + ".partial")
        writer(table, partial)
        os.replace(partial, path)
    return parquet_path, csv_path
