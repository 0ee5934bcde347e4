"""Drift scores from counts (what Spark hands back) equal the scores from the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.drift import scores as drift

NUMERIC_METHODS = ("ks", "wasserstein", "jensenshannon", "psi", "psi_quantile", "mean_shift")
CATEGORICAL_METHODS = ("chisquare", "jensenshannon", "psi", "psi_quantile")


def _numbers(rng, rows: int, decimals: int, shift: float = 0.0) -> pd.Series:
    # Rounded like the logged features, so values repeat and ties are exercised.
    values = np.round(rng.normal(0.5 + shift, 0.2, rows), decimals)
    series = pd.Series(values)
    series.iloc[::97] = np.nan  # missing values are left out by both
    return series


@pytest.mark.parametrize("method", NUMERIC_METHODS)
@pytest.mark.parametrize(
    ("ref_rows", "cur_rows", "decimals"),
    [(3_000, 2_500, 4), (4_000, 30_000, 3), (500, 800, 1)],  # many, many (asymptotic KS), few
)
def test_numeric_scores_from_counts_are_the_scores_from_rows(method, ref_rows, cur_rows, decimals):
    rng = np.random.default_rng(ref_rows + cur_rows)
    reference = _numbers(rng, ref_rows, decimals)
    current = _numbers(rng, cur_rows, decimals, shift=0.05)
    spec = drift.ColumnSpec("x", drift.NUMERIC, method, drift.METHODS[method][2])

    from_rows = drift.test_column(reference, current, spec)
    from_counts = drift.test_counts(
        drift.Counts.of(reference, drift.NUMERIC), drift.Counts.of(current, drift.NUMERIC), spec
    )

    assert from_counts["score"] == pytest.approx(from_rows["score"], rel=1e-9, abs=1e-12)
    assert from_counts["drifted"] == from_rows["drifted"]
    assert from_counts["current_rows"] == from_rows["current_rows"] == current.notna().sum()
    assert from_counts["reference_rows"] == from_rows["reference_rows"]


@pytest.mark.parametrize("method", CATEGORICAL_METHODS)
def test_categorical_scores_from_counts_are_the_scores_from_rows(method):
    rng = np.random.default_rng(3)
    reference = pd.Series(rng.choice(["a", "b", "c", "d"], 2_000, p=[0.4, 0.3, 0.2, 0.1]))
    current = pd.Series(rng.choice(["a", "b", "c", "e"], 3_000, p=[0.3, 0.3, 0.3, 0.1]))
    current.iloc[::50] = None
    spec = drift.ColumnSpec("x", drift.CATEGORICAL, method, drift.METHODS[method][2])

    from_rows = drift.test_column(reference, current, spec)
    from_counts = drift.test_values(reference, drift.Counts.of(current, drift.CATEGORICAL), spec)

    assert from_counts["score"] == pytest.approx(from_rows["score"], rel=1e-9, abs=1e-12)
    assert from_counts["drifted"] == from_rows["drifted"]


@pytest.mark.parametrize("method", CATEGORICAL_METHODS)
def test_a_reference_given_as_counts_scores_as_its_rows(method):
    """A previous window aggregated by Spark is the reference: counts on that side too."""
    rng = np.random.default_rng(5)
    reference = pd.Series(rng.choice(["a", "b", "c"], 2_000, p=[0.5, 0.3, 0.2]))
    current = pd.Series(rng.choice(["a", "b", "c"], 1_000, p=[0.3, 0.3, 0.4]))
    spec = drift.ColumnSpec("x", drift.CATEGORICAL, method, drift.METHODS[method][2])

    from_rows = drift.test_column(reference, current, spec)
    counted_reference = drift.Counts.of(reference, drift.CATEGORICAL)
    from_counts = drift.counted_feature_drift(
        {"x": counted_reference}, {"x": drift.Counts.of(current, drift.CATEGORICAL)}, [spec]
    )["x"]
    reference_only = drift.test_values(counted_reference, current, spec)

    for result in (from_counts, reference_only):
        assert result["score"] == pytest.approx(from_rows["score"], rel=1e-9, abs=1e-12)
        assert result["drifted"] == from_rows["drifted"]
        assert result["reference_rows"] == len(reference)


def test_counts_from_pairs_in_any_order_are_sorted_and_a_missing_side_is_drift():
    counts = drift.Counts.from_pairs([3.0, 1.0, 2.0], [1, 5, 2], drift.NUMERIC)
    assert counts.values.tolist() == [1.0, 2.0, 3.0]
    assert counts.counts.tolist() == [5, 2, 1]
    assert counts.total == 8
    assert counts.mean() == pytest.approx((5 + 4 + 3) / 8)

    spec = drift.ColumnSpec("x", drift.NUMERIC, "wasserstein", 0.1)
    empty = drift.Counts.of(pd.Series([np.nan, np.inf]), drift.NUMERIC)
    result = drift.test_counts(counts, empty, spec)
    assert result["drifted"] is True
    assert result["score"] is None
    assert result["note"] == "no values in the current data"
