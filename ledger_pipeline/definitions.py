"""The code location: the Definitions that workspace.yaml, `dg` and `dagster` load, gathered from the
defs folder as Dagster's `dg` project layout does."""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
