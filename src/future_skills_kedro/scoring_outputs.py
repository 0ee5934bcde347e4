"""Where a shadow or backfill scoring run writes its outputs (plain dicts, no Kedro import).

Catalog entries marked ``metadata: {scoring_purpose_folder: true}`` are an inference run's
own outputs (predictions, plan, summary...). For a run that is not production, the
project's ScoringPurposeHook swaps them for the same datasets one folder deeper,
``<folder>/<purpose>/<alias>/<as_of_date or newest>/<file>``, so a challenger or a
re-scored quarter never overwrites production's files. The prediction logs are not marked:
every record goes to the daily files and says its purpose itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

MARKER = "scoring_purpose_folder"
_PATH_KEYS = ("filepath", "path")


def routed_entries(conf_catalog: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The catalog entries whose files move with the scoring purpose."""
    return {
        name: dict(config)
        for name, config in conf_catalog.items()
        if isinstance(config, Mapping) and (config.get("metadata") or {}).get(MARKER)
    }


def reroute(config: Mapping[str, Any], folder: str) -> dict[str, Any]:
    """``config`` with its file (and a wrapped dataset's file) moved into ``folder``."""
    moved = dict(config)
    for key in _PATH_KEYS:
        if isinstance(moved.get(key), str):
            path = PurePosixPath(moved[key])
            moved[key] = str(path.parent / folder / path.name)
    if isinstance(moved.get("dataset"), Mapping):  # e.g. kedro-mlflow's MlflowArtifactDataset
        moved["dataset"] = reroute(moved["dataset"], folder)
    return moved
