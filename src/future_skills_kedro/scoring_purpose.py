"""Why a scoring run scores (production, shadow or backfill) and where its outputs go.

Plain code, no Kedro import: the inference node records the decision on every log record,
and the project's ScoringPurposeHook applies the same decision to the catalog. Catalog
entries marked ``metadata: {scoring_purpose_folder: true}`` are an inference run's own
outputs (predictions, plan, summary...); for a run that is not production they move one
folder deeper, ``<folder>/<purpose>/<alias>/<as_of_date or newest>/<file>``, so a challenger
or a re-scored quarter never overwrites production's files. The prediction logs are not
marked: every record goes to the daily files and says its purpose itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any

from future_skills_kedro.prediction_log import BACKFILL, PRODUCTION, PURPOSES, SHADOW

CHAMPION_ALIAS = "champion"


@dataclass(frozen=True)
class ScoringPurpose:
    """Why an inference run scores, and where its own outputs go."""

    purpose: str
    alias: str
    as_of_date: str | None  # the configured snapshot date; None = the newest quarter
    reason: str

    @property
    def output_folder(self) -> str | None:
        """Sub-folder of every inference output (not the logs): None for production.

        ``shadow/challenger/newest``, ``backfill/champion/2025-09-30``: each alias and
        quarter keeps its own files, and production's are never overwritten.
        """
        if self.purpose == PRODUCTION:
            return None
        return f"{self.purpose}/{self.alias}/{self.as_of_date or 'newest'}"


def _iso_date(value: Any, name: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()[:10]).isoformat()
    except ValueError:
        raise ValueError(f"{name} must be a date like 2025-09-30 or null, got {value!r}") from None


def decide_scoring_purpose(
    alias: str, snapshot_as_of_date: Any = None, override: str | None = None
) -> ScoringPurpose:
    """The purpose of a scoring run, from what it was asked to do.

    1. ``inference.purpose`` set: that purpose (the operator knows best);
    2. an alias other than ``champion`` (``--params scoring_alias=challenger``): shadow;
    3. ``inference.snapshot.as_of_date`` set (re-scoring a chosen quarter): backfill;
    4. otherwise the champion scoring the newest snapshot: production.
    """
    alias = str(alias)
    as_of_date = _iso_date(snapshot_as_of_date, "inference.snapshot.as_of_date")
    if override is not None:
        if override not in PURPOSES:
            raise ValueError(
                f"inference.purpose must be one of {', '.join(PURPOSES)} or null, got {override!r}"
            )
        return ScoringPurpose(override, alias, as_of_date, "set by inference.purpose")
    if alias != CHAMPION_ALIAS:
        reason = f"scored by alias '{alias}', not '{CHAMPION_ALIAS}'"
        return ScoringPurpose(SHADOW, alias, as_of_date, reason)
    if as_of_date is not None:
        reason = f"re-scores {as_of_date} (inference.snapshot.as_of_date)"
        return ScoringPurpose(BACKFILL, alias, as_of_date, reason)
    return ScoringPurpose(PRODUCTION, alias, None, "the champion scoring the newest snapshot")


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
