"""positions_in: Arrow's lookup where it applies, pandas' positions whatever the dtype."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from future_skills_kedro.lookups import positions_in


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(["b", "z", None, "a", "b"], dtype="str"),
        pd.Series(["b", "z", None, "a", "b"], dtype=object),
        pd.Series(["b", "z", None, "a", "b"], dtype="category"),
        pd.Series([1, 2, 3], dtype="int64"),
        pd.Series(["b", 2, None], dtype=object),
    ],
    ids=["arrow text", "object text", "category", "numbers", "mixed objects"],
)
def test_category_positions_are_pandas_positions_whatever_the_dtype(values):
    for categories in (np.array(["a", "b", "c"], dtype=object), np.array([1, 2], dtype=object)):
        expected = pd.Index(categories).get_indexer(values)
        np.testing.assert_array_equal(positions_in(values, categories), expected)
