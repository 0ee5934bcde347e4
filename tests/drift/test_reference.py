"""Which rows a window is compared with, for each ``monitoring.drift.reference``."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from future_skills_kedro.drift.reference import (
    HOLDOUT,
    PREVIOUS_WINDOW,
    TRAINING,
    champion_holdout_quarters,
    select_reference,
)

QUARTERS = ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]


def champion(
    quarters=QUARTERS, holdout=("2024-09-30", "2024-12-31"), calibrated=True, predictions=True
):
    features = pd.DataFrame(
        {
            "as_of_date": pd.to_datetime([q for q in quarters for _ in range(3)]),
            "trend_score": range(3 * len(quarters)),
        }
    )
    holdout_predictions = (
        pd.DataFrame({"as_of_date": pd.to_datetime(list(holdout))}) if predictions else None
    )
    return SimpleNamespace(
        version="4",
        features=features,
        holdout_predictions=holdout_predictions,
        drift_calibration={"holdout_quarters": list(holdout), "quarters": QUARTERS}
        if calibrated
        else None,
    )


def test_holdout_is_the_champion_s_newest_labelled_quarters():
    frame, info = select_reference(champion(), HOLDOUT)
    assert info == {
        "kind": HOLDOUT,
        "requested": HOLDOUT,
        "start_date": "2024-09-30",
        "end_date": "2024-12-31",
        "rows": 6,
        "note": None,
    }
    assert frame["trend_score"].tolist() == [6, 7, 8, 9, 10, 11]


def test_training_is_the_quarters_before_the_holdout():
    frame, info = select_reference(champion(), TRAINING)
    assert (info["kind"], info["start_date"], info["end_date"], info["rows"]) == (
        TRAINING,
        "2024-03-31",
        "2024-06-30",
        6,
    )
    assert frame["trend_score"].max() == 5


def test_without_calibration_the_holdout_quarters_come_from_the_holdout_predictions():
    reference = champion(calibrated=False)
    assert champion_holdout_quarters(reference) == ["2024-09-30", "2024-12-31"]
    _, info = select_reference(reference, HOLDOUT)
    assert (info["kind"], info["rows"]) == (HOLDOUT, 6)


def test_an_old_champion_with_training_rows_only_falls_back_to_them_and_says_so():
    old = champion(quarters=QUARTERS[:2], calibrated=False)
    frame, info = select_reference(old, HOLDOUT)
    assert info["kind"] == TRAINING and info["requested"] == HOLDOUT
    assert info["rows"] == len(frame) == 6
    assert "kept no feature rows of its holdout quarters" in info["note"]


def test_previous_window_uses_that_window_or_falls_back_to_the_holdout():
    previous = pd.DataFrame({"trend_score": [1.0, 2.0]})
    span = {"start": "2025-06-01", "end": "2025-06-07"}
    frame, info = select_reference(champion(), PREVIOUS_WINDOW, previous, span)
    assert frame is previous
    assert (info["kind"], info["start_date"], info["end_date"], info["rows"]) == (
        PREVIOUS_WINDOW,
        "2025-06-01",
        "2025-06-07",
        2,
    )
    frame, info = select_reference(champion(), PREVIOUS_WINDOW, pd.DataFrame(), span)
    assert (info["kind"], info["requested"], info["rows"]) == (HOLDOUT, PREVIOUS_WINDOW, 6)
    assert "no predictions logged in the previous window 2025-06-01..2025-06-07" in info["note"]


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown drift reference 'latest'"):
        select_reference(champion(), "latest")
