"""Feature drift: a vectorised engine on all rows, and Evidently for the report.

The built-in engine implements Evidently 0.7's own definitions of ``ks``, ``wasserstein``,
``chisquare``, ``jensenshannon`` and ``psi`` (same binning, same zero handling, same
p-value method), so both engines give the same score for the same rows; it only sorts each
column once and counts with ``np.searchsorted``, which keeps a million rows in seconds.
``psi_quantile`` (PSI on reference-quantile bins, robust to outliers) and ``mean_shift``
(the move of the mean in reference standard deviations, for numeric features with a few
distinct values per quarter, see :mod:`future_skills_kedro.drift.calibration`) are ours, and
only the built-in engine computes them: Evidently 0.7's API has no way to add a drift method (the
one hook, ``register_stattest``, belongs to the pre-0.7 API kept under ``evidently.legacy``
and changes a process-wide registry). With ``engine: evidently``, such a column is decided by
the built-in engine on the same rows and Evidently's report draws it with its own ``psi``
(``EVIDENTLY_STAND_IN``), which a banner on the report says. Everything here is pure:
frames in, dicts (and an HTML string) out.
"""

from __future__ import annotations

import html
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

NUMERIC = "numeric"
CATEGORICAL = "categorical"
P_VALUE = "p_value"  # drifted when the score is below the threshold
DISTANCE = "distance"  # drifted when the score is at or above the threshold

# method -> (column kinds it accepts, score kind, Evidently's default threshold)
METHODS: dict[str, tuple[frozenset[str], str, float]] = {
    "ks": (frozenset({NUMERIC}), P_VALUE, 0.05),
    "wasserstein": (frozenset({NUMERIC}), DISTANCE, 0.1),
    "chisquare": (frozenset({CATEGORICAL}), P_VALUE, 0.05),
    "jensenshannon": (frozenset({NUMERIC, CATEGORICAL}), DISTANCE, 0.1),
    "psi": (frozenset({NUMERIC, CATEGORICAL}), DISTANCE, 0.1),
    "psi_quantile": (frozenset({NUMERIC, CATEGORICAL}), DISTANCE, 0.2),
    "mean_shift": (frozenset({NUMERIC}), DISTANCE, 0.1),
}
# The project's own methods and the Evidently method that draws them in the report.
EVIDENTLY_STAND_IN = {"psi_quantile": "psi", "mean_shift": "wasserstein"}
# scipy's ks_2samp is exact up to this sample size, asymptotic above.
_KS_EXACT_MAX_N = 10_000
# Evidently bins numeric columns with more distinct reference values than this.
_BINNED_MIN_UNIQUE = 20
PSI_QUANTILE_BINS = 10
_PSI_QUANTILE_FLOOR = 1e-4  # share given to an empty bin, so the log stays finite


@dataclass(frozen=True)
class ColumnSpec:
    """How one column is tested: its kind, method and threshold."""

    name: str
    kind: str
    method: str
    threshold: float

    @property
    def score_kind(self) -> str:
        return METHODS[self.method][1]

    @property
    def evidently_method(self) -> str:
        """The method Evidently runs for this column: its own, or the stand-in that draws it."""
        return EVIDENTLY_STAND_IN.get(self.method, self.method)

    def is_drifted(self, score: float) -> bool:
        # Evidently's rules: ks p <= t, chisquare p < t, distances >= t.
        if self.method == "ks":
            return bool(score <= self.threshold)
        if self.score_kind == P_VALUE:
            return bool(score < self.threshold)
        return bool(score >= self.threshold)


def make_spec(name: str, kind: str, setting: Mapping[str, Any]) -> ColumnSpec:
    """The spec of a checked ``{method, threshold}`` setting (``parameters.monitoring``
    allows only methods that apply to the column's kind and fills a null threshold in)."""
    return ColumnSpec(name, kind, setting["method"], float(setting["threshold"]))


def column_specs(
    drift_params: Mapping[str, Any], numeric: Sequence[str], categorical: Sequence[str]
) -> list[ColumnSpec]:
    """One spec per feature: its per-column setting, else the setting of its kind."""
    overrides = drift_params["per_column"]
    return [
        make_spec(column, kind, overrides.get(column, drift_params[kind]))
        for kind, columns in ((CATEGORICAL, categorical), (NUMERIC, numeric))
        for column in columns
    ]


def prepare_features(frame: pd.DataFrame, specs: Sequence[ColumnSpec]) -> pd.DataFrame:
    """The spec columns typed alike in reference and current: float64 or str (NaN kept).

    Both engines read this frame, so they see the same values; a column absent from the
    frame comes back all-missing (and is reported as such).
    """
    columns: dict[str, pd.Series] = {}
    for spec in specs:
        if spec.name not in frame.columns:
            dtype = "float64" if spec.kind == NUMERIC else object
            columns[spec.name] = pd.Series(np.nan, index=frame.index, dtype=dtype)
            continue
        values = frame[spec.name]
        if spec.kind == NUMERIC:
            numbers = pd.to_numeric(values, errors="coerce").astype("float64")
            columns[spec.name] = numbers.where(np.isfinite(numbers))  # inf is missing
        elif isinstance(values.dtype, pd.StringDtype) or pd.api.types.is_string_dtype(values):
            columns[spec.name] = values
        else:
            columns[spec.name] = values.astype("str").where(values.notna())
    return pd.DataFrame(columns, index=frame.index)


# --------------------------------------------------------------------------- engine


def _sorted_finite(values: pd.Series | np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype="float64")
    array = array[np.isfinite(array)]
    array.sort()
    return array


def _cdf_at(sorted_values: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_values, points, side="right") / sorted_values.size


def ks_p_value(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sided two-sample KS p-value, as scipy's ``ks_2samp(method="auto")``."""
    n1, n2 = reference.size, current.size
    if max(n1, n2) <= _KS_EXACT_MAX_N:
        from scipy.stats import ks_2samp

        return float(ks_2samp(reference, current).pvalue)
    from scipy.stats import kstwo

    points = np.concatenate([reference, current])
    statistic = float(np.max(np.abs(_cdf_at(reference, points) - _cdf_at(current, points))))
    larger, smaller = sorted((float(n1), float(n2)), reverse=True)
    effective_n = larger * smaller / (larger + smaller)
    return float(np.clip(kstwo.sf(statistic, np.round(effective_n)), 0.0, 1.0))


def wasserstein_normed(reference: np.ndarray, current: np.ndarray) -> float:
    """First Wasserstein distance divided by the reference's std (Evidently's "wasserstein")."""
    points = np.concatenate([reference, current])
    points.sort(kind="mergesort")  # two sorted runs: a linear merge
    deltas = np.diff(points)
    gap = np.abs(_cdf_at(reference, points[:-1]) - _cdf_at(current, points[:-1]))
    distance = float(np.dot(gap, deltas))
    return distance / max(float(np.std(reference)), 0.001)


def mean_shift(reference: np.ndarray, current: np.ndarray) -> float:
    """|mean(current) - mean(reference)| in reference standard deviations.

    Suits numeric features with a few distinct values per quarter (economic_indicator: one
    value per department): their distribution is a handful of atoms that all move every
    quarter, which shape distances over-read; the mean's move is what changes.
    """
    return abs(float(current.mean()) - float(reference.mean())) / max(
        float(np.std(reference)), 0.001
    )


def _category_counts(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts per value over the union of both columns' values (NaN excluded)."""
    ref_counts = reference.value_counts(dropna=True)
    cur_counts = current.value_counts(dropna=True)
    keys = ref_counts.index.union(cur_counts.index)
    return (
        ref_counts.reindex(keys, fill_value=0).to_numpy(dtype="float64"),
        cur_counts.reindex(keys, fill_value=0).to_numpy(dtype="float64"),
    )


def _sturges_shares(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares per Sturges bin over both samples: ``np.histogram_bin_edges(.., "sturges")``."""
    first = min(reference[0], current[0])
    last = max(reference[-1], current[-1])
    if first == last:
        first, last = first - 0.5, last + 0.5
    size = reference.size + current.size
    width = (last - first) / (np.log2(size) + 1.0)
    n_bins = int(np.ceil((last - first) / width)) if width else 1
    edges = np.linspace(first, last, n_bins + 1, endpoint=True)
    return _bin_shares(reference, edges), _bin_shares(current, edges)


def _bin_shares(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    # np.histogram's counting: bins closed on the left, the last one closed on both sides.
    cumulative = np.concatenate(
        [
            np.searchsorted(sorted_values, edges[:-1], side="left"),
            np.searchsorted(sorted_values, edges[-1:], side="right"),
        ]
    )
    return np.diff(cumulative) / sorted_values.size


def _fill_zeroes(shares: np.ndarray) -> np.ndarray:
    """Evidently's zero replacement before taking logs."""
    shares = shares.copy()
    smallest = shares[shares != 0].min()
    shares[shares == 0] = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return shares


def _binned_shares(
    reference: Any, current: Any, kind: str, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Evidently's ``get_binned_data``: Sturges bins for many-valued numbers, else values."""
    if kind == NUMERIC and np.count_nonzero(np.diff(reference)) + 1 > _BINNED_MIN_UNIQUE:
        ref_shares, cur_shares = _sturges_shares(reference, current)
    else:
        if kind == NUMERIC:
            reference, current = pd.Series(reference), pd.Series(current)
        ref_counts, cur_counts = _category_counts(reference, current)
        ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    if fill_zeroes:
        ref_shares, cur_shares = _fill_zeroes(ref_shares), _fill_zeroes(cur_shares)
    return ref_shares, cur_shares


def _psi(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    return float(np.sum((ref_shares - cur_shares) * np.log(ref_shares / cur_shares)))


def psi_quantile(reference: Any, current: Any, kind: str, bins: int = PSI_QUANTILE_BINS) -> float:
    """PSI over the reference's quantile bins (numbers) or over values (categories).

    Open-ended outer bins, so one outlier never squeezes the other values into one bin.
    """
    if kind == NUMERIC:
        inner = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        ref_shares = np.diff(np.searchsorted(reference, edges, side="left")) / reference.size
        cur_shares = np.diff(np.searchsorted(current, edges, side="left")) / current.size
    else:
        ref_counts, cur_counts = _category_counts(reference, current)
        ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    ref_shares = np.maximum(ref_shares, _PSI_QUANTILE_FLOOR)
    cur_shares = np.maximum(cur_shares, _PSI_QUANTILE_FLOOR)
    return _psi(ref_shares, cur_shares)


def _chisquare_p_value(reference: pd.Series, current: pd.Series) -> float:
    from scipy.stats import chisquare

    ref_counts, cur_counts = _category_counts(reference, current)
    expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
    if np.any((expected == 0) & (cur_counts > 0)):
        return 0.0  # a value never seen in the reference: certainly not the same distribution
    return float(chisquare(cur_counts, expected).pvalue)


def _jensenshannon(reference: Any, current: Any, kind: str) -> float:
    from scipy.spatial import distance

    ref_shares, cur_shares = _binned_shares(reference, current, kind, fill_zeroes=False)
    return float(distance.jensenshannon(ref_shares, cur_shares))


_SCORERS = {
    "ks": lambda ref, cur, kind: ks_p_value(ref, cur),
    "wasserstein": lambda ref, cur, kind: wasserstein_normed(ref, cur),
    "chisquare": lambda ref, cur, kind: _chisquare_p_value(ref, cur),
    "jensenshannon": _jensenshannon,
    "psi": lambda ref, cur, kind: _psi(*_binned_shares(ref, cur, kind, fill_zeroes=True)),
    "psi_quantile": psi_quantile,
    "mean_shift": lambda ref, cur, kind: mean_shift(ref, cur),
}


def score_column(reference: Any, current: Any, kind: str, method: str) -> float:
    """The method's score; numbers come sorted and finite, categories as Series without NaN."""
    if method not in _SCORERS:
        raise ValueError(f"unknown drift method {method!r}")
    return _SCORERS[method](reference, current, kind)


def test_column(reference: pd.Series, current: pd.Series, spec: ColumnSpec) -> dict[str, Any]:
    """Drift result of one column: method, score, threshold, drifted (and row counts)."""
    if spec.kind == NUMERIC:
        ref_values, cur_values = _sorted_finite(reference), _sorted_finite(current)
    else:
        ref_values, cur_values = reference.dropna(), current.dropna()
    result: dict[str, Any] = {
        "type": spec.kind,
        "method": spec.method,
        "score_kind": spec.score_kind,
        "threshold": spec.threshold,
        "reference_rows": len(ref_values),
        "current_rows": len(cur_values),
    }
    if len(cur_values) == 0 or len(ref_values) == 0:
        # A feature that vanished from the logs (or was never in the reference) is a schema
        # problem: counted as drifted so it cannot go unnoticed.
        side = "current" if len(cur_values) == 0 else "reference"
        return result | {"score": None, "drifted": True, "note": f"no values in the {side} data"}
    score = score_column(ref_values, cur_values, spec.kind, spec.method)
    return result | {"score": _finite(score), "drifted": spec.is_drifted(score)}


def builtin_feature_drift(
    reference: pd.DataFrame, current: pd.DataFrame, specs: Sequence[ColumnSpec]
) -> dict[str, dict[str, Any]]:
    """Per-feature drift on all rows of both prepared frames."""
    return {
        spec.name: test_column(reference[spec.name], current[spec.name], spec) for spec in specs
    }


def drift_share(features: Mapping[str, Mapping[str, Any]]) -> float:
    return sum(bool(r["drifted"]) for r in features.values()) / len(features) if features else 0.0


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


# --------------------------------------------------------------------------- Evidently


def run_evidently(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    specs: Sequence[ColumnSpec],
    dataset_drift_share: float,
) -> tuple[dict[str, dict[str, Any]], str]:
    """Evidently's DataDriftPreset with the specs' methods and thresholds.

    Returns the per-feature results read back from ``snapshot.dict()`` (score from the
    ValueDrift metric, drifted from its test) and the report as standalone HTML. A column
    whose method Evidently lacks (``EVIDENTLY_STAND_IN``) gets the built-in engine's result
    on the same rows; the report draws it with the stand-in method and says so.
    """
    import evidently  # noqa: F401 - ~4 s import, hence here and not at module level
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(
        numerical_columns=[s.name for s in specs if s.kind == NUMERIC],
        categorical_columns=[s.name for s in specs if s.kind == CATEGORICAL],
    )
    preset = DataDriftPreset(
        columns=[s.name for s in specs],
        drift_share=dataset_drift_share,
        per_column_method={s.name: s.evidently_method for s in specs},
        per_column_threshold={s.name: s.threshold for s in specs},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas/plotly deprecation noise from Evidently
        snapshot = Report([preset], include_tests=True).run(
            current_data=Dataset.from_pandas(current, data_definition=definition),
            reference_data=Dataset.from_pandas(reference, data_definition=definition),
        )
        report_html = snapshot.get_html_str(as_iframe=False)
        content = snapshot.dict()

    scores: dict[str, tuple[float, str, float]] = {}
    for metric in content["metrics"]:
        config = metric.get("config", {})
        if config.get("type", "").endswith(":ValueDrift"):
            scores[config["column"]] = (metric["value"], config["method"], config["threshold"])
    verdicts = {
        test["metric_config"]["params"]["column"]: test["status"] == "FAIL"
        for test in content["tests"]
        if test.get("id") == "drift" and "column" in test["metric_config"]["params"]
    }
    results: dict[str, dict[str, Any]] = {}
    for spec in specs:
        if spec.name not in scores or spec.name not in verdicts:
            raise RuntimeError(f"Evidently returned no drift result for column {spec.name!r}")
        score, method, threshold = scores[spec.name]
        if method != spec.evidently_method or not math.isclose(float(threshold), spec.threshold):
            raise RuntimeError(
                f"Evidently used {method}/{threshold} for {spec.name!r}, "
                f"configured {spec.evidently_method}/{spec.threshold}"
            )
        if spec.method != spec.evidently_method:
            results[spec.name] = test_column(reference[spec.name], current[spec.name], spec) | {
                "decided_by": "builtin",
                "report_method": spec.evidently_method,
            }
            continue
        ref_rows = int(reference[spec.name].notna().sum())
        cur_rows = int(current[spec.name].notna().sum())
        results[spec.name] = {
            "type": spec.kind,
            "method": spec.method,
            "score_kind": spec.score_kind,
            "threshold": spec.threshold,
            "reference_rows": ref_rows,
            "current_rows": cur_rows,
            "score": _finite(score),
            "drifted": verdicts[spec.name],
        }
    drawn_instead = sorted(
        f"{s.name} ({s.method})" for s in specs if s.method != s.evidently_method
    )
    stand_ins = sorted({s.evidently_method for s in specs if s.method != s.evidently_method})
    if drawn_instead:
        report_html = add_banner(
            report_html,
            f"Project-only drift methods, decided on the same rows by the built-in engine "
            f"(monitoring_summary.json has their scores and verdicts) and drawn here with "
            f"Evidently's {'/'.join(stand_ins)}: " + ", ".join(drawn_instead) + ".",
        )
    return results, report_html


# --------------------------------------------------------------------------- HTML


def add_banner(report_html: str, message: str) -> str:
    """Put a one-line note at the top of Evidently's page (left as is if it has no body)."""
    banner = (
        '<div style="font-family:sans-serif;padding:8px 16px;background:#fff3cd;'
        f'border-bottom:1px solid #e0c36c">{html.escape(message)}</div>'
    )
    start = report_html.find("<body")
    if start < 0:
        return report_html
    end = report_html.find(">", start)
    return report_html[: end + 1] + banner + report_html[end + 1 :]


def _table_row(name: str, result: Mapping[str, Any]) -> str:
    score = "" if result.get("score") is None else f"{result['score']:.4g}"
    cells = (
        name,
        result["type"],
        result["method"],
        score,
        f"{result['threshold']:.4g}",
        "DRIFT" if result["drifted"] else "ok",
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in cells) + "</tr>"


def fallback_html(title: str, reason: str, features: Mapping[str, Mapping[str, Any]]) -> str:
    """A small standalone page: why there is no Evidently report, and the drift table."""
    rows = "".join(_table_row(name, result) for name, result in features.items())
    table = (
        "<table border=1 cellpadding=4 style='border-collapse:collapse'>"
        "<tr><th>feature</th><th>type</th><th>method</th><th>score</th><th>threshold</th>"
        f"<th>verdict</th></tr>{rows}</table>"
        if features
        else "<p>No feature was tested.</p>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:sans-serif'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(reason)}</p>{table}</body></html>\n"
    )


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True)
class Counts:
    """A column as its distinct values (sorted) and how often each occurs; missing left out.

    Every method above needs no more than this: CDFs, means, bins, quantiles and category
    shares are all functions of (value, count). An engine that cannot hand over the rows
    (Spark: a ``groupBy(value).count()`` per column) hands over this, and
    :func:`test_counts` scores it with the same definitions as :func:`test_column` scores
    the rows. Its size is the number of distinct values, not of rows.
    """

    values: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, values: Any, kind: str) -> Counts:
        """The counts of a column of rows (numbers: finite ones; categories: not NaN)."""
        series = pd.Series(values)
        if kind == NUMERIC:
            numbers = pd.to_numeric(series, errors="coerce").astype("float64")
            series = numbers[np.isfinite(numbers)]
        else:
            series = series.dropna()
        tally = series.value_counts(sort=False)
        return cls.from_pairs(tally.index.to_numpy(), tally.to_numpy(), kind)

    @classmethod
    def from_pairs(cls, values: Any, counts: Any, kind: str) -> Counts:
        """From (value, count) pairs in any order (e.g. collected from a ``groupBy``)."""
        dtype = "float64" if kind == NUMERIC else object
        values = np.asarray(values, dtype=dtype)
        counts = np.asarray(counts, dtype="int64")
        order = np.argsort(values, kind="stable")
        return cls(values[order], counts[order])

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def below(self, points: np.ndarray, side: str) -> np.ndarray:
        """How many values are < (``left``) or <= (``right``) each point."""
        cumulative = np.concatenate([[0], np.cumsum(self.counts)])
        return cumulative[np.searchsorted(self.values, points, side=side)]

    def cdf(self, points: np.ndarray) -> np.ndarray:
        return self.below(points, "right") / self.total

    def mean(self) -> float:
        return float(np.dot(self.values, self.counts) / self.total)

    def std(self) -> float:
        """Population standard deviation, as ``np.std`` of the rows."""
        deviation = self.values - self.mean()
        return float(np.sqrt(np.dot(self.counts, deviation * deviation) / self.total))

    def rows(self) -> np.ndarray:
        """The sorted rows back (only for small counts: the exact KS p-value)."""
        return np.repeat(self.values, self.counts)

    def series(self) -> pd.Series:
        return pd.Series(self.counts, index=pd.Index(self.values, dtype=self.values.dtype))


def _aligned(reference: Counts, current: Counts) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both over the union of their values (as ``_category_counts``)."""
    ref, cur = reference.series(), current.series()
    keys = ref.index.union(cur.index)
    return (
        ref.reindex(keys, fill_value=0).to_numpy(dtype="float64"),
        cur.reindex(keys, fill_value=0).to_numpy(dtype="float64"),
    )


def _counted_binned_shares(
    reference: Counts, current: Counts, kind: str, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``_binned_shares`` of the rows these counts stand for."""
    if kind == NUMERIC and len(reference.values) > _BINNED_MIN_UNIQUE:
        first = min(reference.values[0], current.values[0])
        last = max(reference.values[-1], current.values[-1])
        if first == last:
            first, last = first - 0.5, last + 0.5
        size = reference.total + current.total
        width = (last - first) / (np.log2(size) + 1.0)
        n_bins = int(np.ceil((last - first) / width)) if width else 1
        edges = np.linspace(first, last, n_bins + 1, endpoint=True)
        shares = []
        for side in (reference, current):
            cumulative = np.concatenate(
                [side.below(edges[:-1], "left"), side.below(edges[-1:], "right")]
            )
            shares.append(np.diff(cumulative) / side.total)
        ref_shares, cur_shares = shares
    else:
        ref_counts, cur_counts = _aligned(reference, current)
        ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    if fill_zeroes:
        ref_shares, cur_shares = _fill_zeroes(ref_shares), _fill_zeroes(cur_shares)
    return ref_shares, cur_shares


def _counted_ks(reference: Counts, current: Counts) -> float:
    if max(reference.total, current.total) <= _KS_EXACT_MAX_N:
        return ks_p_value(reference.rows(), current.rows())
    from scipy.stats import kstwo

    points = np.union1d(reference.values, current.values)
    statistic = float(np.max(np.abs(reference.cdf(points) - current.cdf(points))))
    larger, smaller = sorted((float(reference.total), float(current.total)), reverse=True)
    effective_n = larger * smaller / (larger + smaller)
    return float(np.clip(kstwo.sf(statistic, np.round(effective_n)), 0.0, 1.0))


def _counted_wasserstein(reference: Counts, current: Counts) -> float:
    points = np.union1d(reference.values, current.values)
    gap = np.abs(reference.cdf(points[:-1]) - current.cdf(points[:-1]))
    distance = float(np.dot(gap, np.diff(points)))
    return distance / max(reference.std(), 0.001)


def _counted_psi_quantile(reference: Counts, current: Counts, kind: str) -> float:
    if kind == NUMERIC:
        quantiles = np.linspace(0, 1, PSI_QUANTILE_BINS + 1)[1:-1]
        inner = np.unique(np.quantile(reference.rows(), quantiles))
        edges = np.concatenate([[-np.inf], inner, [np.inf]])
        ref_shares = np.diff(reference.below(edges, "left")) / reference.total
        cur_shares = np.diff(current.below(edges, "left")) / current.total
    else:
        ref_counts, cur_counts = _aligned(reference, current)
        ref_shares, cur_shares = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    ref_shares = np.maximum(ref_shares, _PSI_QUANTILE_FLOOR)
    cur_shares = np.maximum(cur_shares, _PSI_QUANTILE_FLOOR)
    return _psi(ref_shares, cur_shares)


def _counted_chisquare(reference: Counts, current: Counts) -> float:
    from scipy.stats import chisquare

    ref_counts, cur_counts = _aligned(reference, current)
    expected = ref_counts * (cur_counts.sum() / ref_counts.sum())
    if np.any((expected == 0) & (cur_counts > 0)):
        return 0.0
    return float(chisquare(cur_counts, expected).pvalue)


def _counted_jensenshannon(reference: Counts, current: Counts, kind: str) -> float:
    from scipy.spatial import distance

    ref_shares, cur_shares = _counted_binned_shares(reference, current, kind, fill_zeroes=False)
    return float(distance.jensenshannon(ref_shares, cur_shares))


_COUNTED_SCORERS = {
    "ks": lambda ref, cur, kind: _counted_ks(ref, cur),
    "wasserstein": lambda ref, cur, kind: _counted_wasserstein(ref, cur),
    "chisquare": lambda ref, cur, kind: _counted_chisquare(ref, cur),
    "jensenshannon": _counted_jensenshannon,
    "psi": lambda ref, cur, kind: _psi(*_counted_binned_shares(ref, cur, kind, fill_zeroes=True)),
    "psi_quantile": _counted_psi_quantile,
    "mean_shift": lambda ref, cur, kind: abs(cur.mean() - ref.mean()) / max(ref.std(), 0.001),
}


def test_counts(reference: Counts, current: Counts, spec: ColumnSpec) -> dict[str, Any]:
    """:func:`test_column` on counts: the same result for the rows they stand for."""
    if spec.method not in _COUNTED_SCORERS:
        raise ValueError(f"unknown drift method {spec.method!r}")
    result: dict[str, Any] = {
        "type": spec.kind,
        "method": spec.method,
        "score_kind": spec.score_kind,
        "threshold": spec.threshold,
        "reference_rows": reference.total,
        "current_rows": current.total,
    }
    if current.total == 0 or reference.total == 0:
        side = "current" if current.total == 0 else "reference"
        return result | {"score": None, "drifted": True, "note": f"no values in the {side} data"}
    score = _COUNTED_SCORERS[spec.method](reference, current, spec.kind)
    return result | {"score": _finite(score), "drifted": spec.is_drifted(score)}


def test_values(
    reference: pd.Series | Counts, current: pd.Series | Counts, spec: ColumnSpec
) -> dict:
    """One column's drift, either side as rows or as :class:`Counts`."""
    if isinstance(current, Counts) or isinstance(reference, Counts):
        counted = [
            side if isinstance(side, Counts) else Counts.of(side, spec.kind)
            for side in (reference, current)
        ]
        return test_counts(*counted, spec)
    return test_column(reference, current, spec)


def counted_feature_drift(
    reference: pd.DataFrame | Mapping[str, Counts],
    current: Mapping[str, Counts],
    specs: Sequence[ColumnSpec],
) -> dict[str, dict[str, Any]]:
    """:func:`builtin_feature_drift` with the current window as counts per feature, and the
    reference as rows or as counts (a previous window aggregated by Spark)."""
    return {
        spec.name: test_values(reference[spec.name], current[spec.name], spec) for spec in specs
    }
