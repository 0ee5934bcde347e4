"""Stable fingerprints the training run hands to the lifecycle (schema, data, params, holdout)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

_HASH_CHARS = 16


def _digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()[:_HASH_CHARS]


def hash_params(params: Mapping[str, Any]) -> str:
    """Hash of a (nested) parameter dict, independent of key order."""
    return _digest(json.dumps(params, sort_keys=True, default=str).encode())


def logical_type(dtype: Any) -> str:
    """A pandas dtype as a logical type: string, integer, float, boolean, datetime, category.

    Why: raw dtype names change between pandas versions (``object`` became ``str`` in
    pandas 3), which would fake a schema change and a MAJOR version on an upgrade.
    """
    import pandas as pd
    from pandas.api import types

    checks = (
        ("boolean", types.is_bool_dtype),
        ("category", lambda d: isinstance(d, pd.CategoricalDtype)),
        ("integer", types.is_integer_dtype),
        ("float", types.is_float_dtype),
        ("datetime", types.is_datetime64_any_dtype),
        ("string", lambda d: types.is_string_dtype(d) or types.is_object_dtype(d)),
    )
    return next((name for name, check in checks if check(dtype)), str(dtype))


def schema_of(frame: Any) -> list[tuple[str, str]]:
    """Ordered (column, logical type) pairs of a pandas DataFrame: the model's input schema."""
    return [(str(column), logical_type(dtype)) for column, dtype in frame.dtypes.items()]


def hash_frame(frame: Any) -> str:
    """Content hash of a pandas DataFrame: values, column names and dtypes.

    Independent of the index and of row order (metrics do not depend on it). Use it for
    ``data_hash`` (the training table) and ``holdout_hash`` (the holdout rows the metrics
    were measured on: same holdout hash = comparable metrics).
    """
    import numpy as np
    import pandas as pd  # lazy: the lifecycle package itself must stay light

    values = np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())
    header = json.dumps(schema_of(frame)).encode()
    return _digest(header + values.tobytes())


def target_classes_of(labels: Iterable[Any]) -> tuple[str, ...]:
    """Sorted distinct target classes."""
    return tuple(sorted({str(label) for label in labels}))
