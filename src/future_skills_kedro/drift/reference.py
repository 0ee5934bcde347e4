"""Which rows a monitoring window is compared with.

``holdout`` (the default): the champion's newest labelled quarters, i.e. its holdout quarters,
the freshest data it was judged on; ``training``: the quarters it was trained on (pooled over
years: market signals move every quarter, so a normal new quarter reads as drift against
it); ``previous_window``: the production window just before this one ("did something change
since last time"). The champion's reference features hold its training and holdout quarters
(``training.reference_features``); a champion trained before the holdout quarters were kept
has only its training quarters, and ``holdout`` then falls back to them and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

HOLDOUT = "holdout"
TRAINING = "training"
PREVIOUS_WINDOW = "previous_window"
REFERENCE_KINDS = (HOLDOUT, TRAINING, PREVIOUS_WINDOW)
QUARTER_COLUMN = "as_of_date"


def quarter_labels(values: pd.Series | Sequence[Any]) -> np.ndarray:
    """Quarter dates as "YYYY-MM-DD" text, whatever their type (datetime or text)."""
    return pd.to_datetime(pd.Series(values)).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)


def champion_holdout_quarters(reference: Any) -> list[str]:
    """The champion's holdout quarters: from its drift calibration, else its holdout
    predictions; [] when it has neither."""
    calibration = getattr(reference, "drift_calibration", None)
    if calibration and calibration.get("holdout_quarters"):
        return sorted(calibration["holdout_quarters"])
    holdout = reference.holdout_predictions
    if holdout is not None and QUARTER_COLUMN in holdout.columns and len(holdout):
        return sorted(set(quarter_labels(holdout[QUARTER_COLUMN])))
    return []


def _described(
    kind: str, requested: str, rows: int, start: str | None, end: str | None
) -> dict[str, Any]:
    return {
        "kind": kind,
        "requested": requested,
        "start_date": start,
        "end_date": end,
        "rows": rows,
        "note": None,
    }


def _quarter_rows(reference: Any, kind: str, requested: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    features = reference.features
    quarters = quarter_labels(features[QUARTER_COLUMN])
    holdout = set(champion_holdout_quarters(reference))
    in_holdout = np.isin(quarters, list(holdout))
    note = None
    if kind == HOLDOUT and not in_holdout.any():
        kind = TRAINING
        note = (
            f"champion v{reference.version} kept no feature rows of its holdout quarters "
            f"({', '.join(sorted(holdout)) or 'unknown'}): compared with its training quarters"
        )
    chosen = in_holdout if kind == HOLDOUT else ~in_holdout
    if kind == TRAINING and not chosen.any():  # e.g. a random (stratified) split
        chosen = np.ones(len(features), dtype=bool)
    frame = features.loc[chosen]
    picked = quarters[chosen]
    info = _described(
        kind,
        requested,
        len(frame),
        str(picked.min()) if len(picked) else None,
        str(picked.max()) if len(picked) else None,
    )
    info["note"] = note
    return frame, info


def reference_rows(previous_window: Any) -> int:
    """Rows of a previous window given as rows (a frame) or as counts (an object with
    ``rows`` and ``feature_counts``: Spark's aggregates, whose rows stay on the executors)."""
    if previous_window is None:
        return 0
    if hasattr(previous_window, "feature_counts"):
        return int(previous_window.rows)
    return len(previous_window)


def select_reference(
    reference: Any,
    kind: str,
    previous_window: Any = None,
    previous_window_info: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The reference rows of ``kind`` and ``{kind, requested, start_date, end_date, rows,
    note}``; ``kind`` is what was used (a fallback's ``note`` says why it differs).

    ``previous_window``: rows, or counts (see :func:`reference_rows`), returned as given."""
    if kind not in REFERENCE_KINDS:
        raise ValueError(f"unknown drift reference {kind!r}: one of {', '.join(REFERENCE_KINDS)}")
    if kind == PREVIOUS_WINDOW:
        rows = reference_rows(previous_window)
        if rows:
            info = previous_window_info or {}
            return previous_window, _described(kind, kind, rows, info.get("start"), info.get("end"))
        frame, info = _quarter_rows(reference, HOLDOUT, kind)
        span = previous_window_info or {}
        reason = (
            f"no predictions logged in the previous window "
            f"{span.get('start')}..{span.get('end')}: compared with the champion's "
            f"{info['kind']} quarters"
        )
        info["note"] = reason if info["note"] is None else f"{reason}; {info['note']}"
        return frame, info
    return _quarter_rows(reference, kind, kind)
