"""From one prediction back to what made it (``kedro models trace REQUEST_ID``).

A request id (``<batch id>-<row>``, docs/prediction-logs.md) is looked up in the daily
prediction-log files, newest first, then in the predictions tables of the inference runs
(``predictions.parquet``, production's and those a shadow or backfill run wrote one folder
deeper). The record names the model version and semver that scored it; the registry adds the
version's training run and lineage tags (data hash, params hash, git sha). A version pruned
since (``kedro models prune``) is no longer in the registry: its ``prune`` event in the audit
file still names its training run.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from future_skills_kedro.datasets.prediction_logs.files import log_files
from future_skills_kedro.lifecycle.registry import (
    TAG_DATA_HASH,
    TAG_GIT_SHA,
    TAG_KEDRO_RUN_ID,
    TAG_PARAMS_HASH,
    LifecycleError,
    ModelRegistry,
)

_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,200}")
PREDICTIONS_FILE = "predictions.parquet"


class InvalidRequestId(LifecycleError, ValueError):
    """Not something a request id can be."""


class RequestNotFound(LifecycleError, LookupError):
    """No prediction log or predictions table holds the request id."""


@dataclass(frozen=True)
class FoundPrediction:
    """One scored row: where it was found and what it says (a prediction-log record's fields)."""

    request_id: str
    source: str  # file (and line for a log file)
    timestamp: str | None
    purpose: str | None
    model_name: str | None
    model_version: str | None
    model_semver: str | None
    model_alias: str | None
    keys: dict[str, Any]
    prediction: str | None
    probabilities: dict[str, float]
    confidence: float | None


@dataclass(frozen=True)
class Trace:
    prediction: FoundPrediction
    version: int | None
    semver: str | None  # the registry's (the record's is prediction.model_semver)
    in_registry: bool
    stage: str | None
    run_id: str | None
    lineage: dict[str, str | None] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.prediction.request_id,
            "prediction": {
                key: value
                for key, value in vars(self.prediction).items()
                if key not in ("request_id",)
            },
            "model": {
                "name": self.prediction.model_name,
                "version": self.version,
                "semver": self.semver or self.prediction.model_semver,
                "in_registry": self.in_registry,
                "stage": self.stage,
                "training_run_id": self.run_id,
                **self.lineage,
            },
            "warnings": list(self.warnings),
        }


def check_request_id(request_id: str) -> str:
    if not _REQUEST_ID.fullmatch(request_id):
        raise InvalidRequestId(
            f"{request_id!r} is not a request id: request ids look like "
            "<batch id>-<row>, e.g. 4f0c2d...-17 (column request_id of predictions.parquet "
            "and of the prediction logs)"
        )
    return request_id


def _line_at(data: mmap.mmap, position: int) -> tuple[bytes, int]:
    start = data.rfind(b"\n", 0, position) + 1
    end = data.find(b"\n", position)
    return data[start : len(data) if end < 0 else end], data[:start].count(b"\n") + 1


def find_in_logs(directory: str | os.PathLike, request_id: str) -> FoundPrediction | None:
    """The log record of ``request_id``, newest file first (a plain byte search per file)."""
    needle = json.dumps(request_id).encode()
    for path in reversed(log_files(directory)):
        if path.stat().st_size == 0:
            continue
        with (
            path.open("rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data,
        ):
            position = data.find(needle)
            while position >= 0:
                line, number = _line_at(data, position)
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None  # a corrupt line that happens to hold the id: keep looking
                if isinstance(record, dict) and record.get("request_id") == request_id:
                    return _from_record(record, f"{path}:{number}")
                position = data.find(needle, position + len(needle))
    return None


def _from_record(record: Mapping[str, Any], source: str) -> FoundPrediction:
    def text(name: str) -> str | None:
        value = record.get(name)
        return None if value is None else str(value)

    return FoundPrediction(
        request_id=str(record["request_id"]),
        source=source,
        timestamp=text("timestamp"),
        purpose=text("purpose"),
        model_name=text("model_name"),
        model_version=text("model_version"),
        model_semver=text("model_semver"),
        model_alias=text("model_alias"),
        keys=dict(record.get("keys") or {}),
        prediction=text("prediction"),
        probabilities=dict(record.get("probabilities") or {}),
        confidence=record.get("confidence"),
    )


def predictions_tables(folder: str | os.PathLike) -> list[Path]:
    """``predictions.parquet`` of ``folder`` and of its purpose sub-folders, newest first."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = [path for path in root.rglob(PREDICTIONS_FILE) if path.is_file()]
    return sorted(found, key=lambda path: path.stat().st_mtime, reverse=True)


def find_in_predictions(paths: Iterable[Path], request_id: str) -> FoundPrediction | None:
    """The row of ``request_id`` in the first predictions table holding it."""
    import pyarrow.parquet as pq

    for path in paths:
        try:
            table = pq.read_table(path, filters=[("request_id", "==", request_id)])
        except (OSError, ValueError, KeyError):  # an older table without request_id
            continue
        if table.num_rows:
            row = table.slice(0, 1).to_pylist()[0]
            return _from_predictions_row(row, str(path))
    return None


def _from_predictions_row(row: Mapping[str, Any], source: str) -> FoundPrediction:
    from future_skills_kedro.prediction_log import CLASSES, KEY_FIELDS, PROBABILITY_PREFIX
    from future_skills_kedro.scoring import CONFIDENCE_COLUMN, PREDICTION_COLUMN

    def text(name: str) -> str | None:
        value = row.get(name)
        return None if value is None else str(value)

    keys = {name: text(name) for name in (*KEY_FIELDS, "horizon_years") if name in row}
    if "as_of_date" in row and row["as_of_date"] is not None:
        keys["as_of_date"] = str(row["as_of_date"])[:10]
    return FoundPrediction(
        request_id=str(row["request_id"]),
        source=source,
        timestamp=None if row.get("scored_at") is None else row["scored_at"].isoformat(),
        purpose=None,
        model_name=text("model_name"),
        model_version=text("model_version"),
        model_semver=text("model_semver"),
        model_alias=None,
        keys=keys,
        prediction=text(PREDICTION_COLUMN),
        probabilities={
            label: row[f"{PROBABILITY_PREFIX}{label}"]
            for label in CLASSES
            if f"{PROBABILITY_PREFIX}{label}" in row
        },
        confidence=row.get(CONFIDENCE_COLUMN),
    )


def find_prediction(
    request_id: str, log_directory: str | os.PathLike, predictions_folders: Sequence[Path]
) -> FoundPrediction:
    """The prediction of ``request_id`` (logs first); :class:`RequestNotFound` naming where
    it looked."""
    check_request_id(request_id)
    found = find_in_logs(log_directory, request_id)
    tables = [path for folder in predictions_folders for path in predictions_tables(folder)]
    if found is None:
        found = find_in_predictions(tables, request_id)
    if found is None:
        where = [str(log_directory), *(str(folder) for folder in predictions_folders)]
        raise RequestNotFound(
            f"request id {request_id!r} is in no prediction log and no predictions table "
            f"(looked in {', '.join(dict.fromkeys(where))})"
        )
    return found


def trace_prediction(
    registry: ModelRegistry, found: FoundPrediction, events: Sequence[Mapping[str, Any]]
) -> Trace:
    """What the registry (or, for a pruned version, the audit file) says about the version
    that made ``found``."""
    warnings: list[str] = []
    if found.model_name and found.model_name != registry.model_name:
        warnings.append(
            f"the prediction was made by {found.model_name}, this project's model is "
            f"{registry.model_name}: lineage looked up under {registry.model_name}"
        )
    try:
        number = int(str(found.model_version))
    except ValueError:
        return Trace(found, None, None, False, None, None, {}, (*warnings, "no model version"))
    info = registry.find_version(number)
    if info is None:
        pruned = next(
            (
                event
                for event in reversed(events)
                if event.get("action") == "prune" and event.get("version") == number
            ),
            None,
        )
        if pruned is None:
            warnings.append(f"v{number} is not in the registry (deleted outside the lifecycle?)")
            return Trace(found, number, None, False, None, None, {}, tuple(warnings))
        warnings.append(
            f"v{number} was pruned on {pruned.get('timestamp')}: its registry entry and "
            "artifacts are gone; run and semver from the audit log, lineage from the run"
        )
        run_id = pruned.get("run_id")
        return Trace(
            found, number, pruned.get("semver"), False, None, run_id,
            _pruned_lineage(registry, run_id), tuple(warnings),
        )  # fmt: skip
    if found.model_semver and info.semver and found.model_semver != info.semver:
        warnings.append(
            f"the record says {found.model_semver}, the registry tags v{number} {info.semver}"
        )
    lineage = {
        tag: info.tags.get(tag)
        for tag in (TAG_DATA_HASH, TAG_PARAMS_HASH, TAG_GIT_SHA, TAG_KEDRO_RUN_ID)
    }
    return Trace(
        found, number, info.semver, True, info.stage, info.run_id, lineage, tuple(warnings)
    )


def _pruned_lineage(registry: ModelRegistry, run_id: str | None) -> dict[str, str | None]:
    """The lineage a prune copied onto the version's training run (``pruned_version.<tag>``)."""
    from mlflow.exceptions import MlflowException

    from future_skills_kedro.lifecycle.retention import RUN_TAG_LINEAGE_PREFIX

    if not run_id:
        return {}
    try:
        tags = registry.client.get_run(run_id).data.tags
    except MlflowException:  # the run itself was deleted by hand: nothing more to say
        return {}
    return {
        tag: tags.get(f"{RUN_TAG_LINEAGE_PREFIX}{tag}")
        for tag in (TAG_DATA_HASH, TAG_PARAMS_HASH, TAG_GIT_SHA, TAG_KEDRO_RUN_ID)
    }
