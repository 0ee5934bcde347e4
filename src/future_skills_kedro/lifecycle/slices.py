"""The per-slice table of a training run: the policy metric of the new model and of the
champion on each slice (department, seniority, horizon, ...) of the same holdout rows.

The non-inferiority rule of the promotion policy reads it (``promotion.py``), the run logs
it, and the model card prints it. A plain function of scored frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from future_skills_kedro.contract import TARGET_COLUMN
from future_skills_kedro.scoring import classification_metrics

SLICE_TABLE_COLUMNS = ("slice", "value", "rows", "metric", "challenger", "champion", "difference")


def slice_table(
    holdout_set: pd.DataFrame,
    challenger_scored: pd.DataFrame,
    champion_scored: pd.DataFrame | None,
    slices: Sequence[str],
    metric: str,
) -> pd.DataFrame:
    """One row per (slice column, value): rows, ``metric`` of both models, difference.

    ``challenger_scored`` and ``champion_scored`` are aligned with ``holdout_set`` row by
    row; ``champion`` and ``difference`` are NaN when there is no champion scored on them.
    Values are text (``horizon_years`` 3 -> "3") so the table reads the same from CSV.
    """
    rows = holdout_set.reset_index(drop=True)
    challenger = challenger_scored.reset_index(drop=True)
    champion = None if champion_scored is None else champion_scored.reset_index(drop=True)
    records = []
    for column in slices:
        for value, index in sorted(rows.groupby(column, observed=True).groups.items()):
            where = np.asarray(index)
            y_true = rows[TARGET_COLUMN].iloc[where]
            new = classification_metrics(y_true, challenger.iloc[where])[metric]
            old = (
                float("nan")
                if champion is None
                else classification_metrics(y_true, champion.iloc[where])[metric]
            )
            records.append(
                {
                    "slice": column,
                    "value": str(value),
                    "rows": len(where),
                    "metric": metric,
                    "challenger": new,
                    "champion": old,
                    "difference": new - old,
                }
            )
    return pd.DataFrame.from_records(records, columns=list(SLICE_TABLE_COLUMNS))


def slice_records(table: pd.DataFrame | None) -> list[dict] | None:
    """The table as plain records for the policy (NaN -> None), or None without a table."""
    if table is None:
        return None
    frame = table.astype(object).where(table.notna(), None)
    return frame.to_dict(orient="records")
