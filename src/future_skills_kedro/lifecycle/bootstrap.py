"""Paired bootstrap over the rows two models were scored on: the one resampling both the
promotion policy's significance guard and ``kedro models compare`` use.

Each resample draws row indices with replacement (seeded); both models are measured on the
same drawn rows, so the interval is that of the *difference* with the pairing kept.
Statistics that are a mean over rows (accuracy, log loss) and those that are not (F1 from
confusion counts) are computed from the same draws, as functions of per-row columns summed
over each resample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

_CHUNK = 250  # resamples per vectorised batch: bounds memory to chunk * n rows

Statistic = Callable[[np.ndarray], np.ndarray]  # column sums (k, m) -> one value per resample


def resample_rows(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Batches of resampled row indices, shape (batch, n), drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, _CHUNK):
        stop = min(start + _CHUNK, resamples)
        yield rng.integers(0, n, size=(stop - start, n))


def _interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    alpha = (1 - confidence) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def paired_bootstrap_ci(
    challenger_scores: np.ndarray,
    champion_scores: np.ndarray,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 42,
) -> tuple[float, float]:
    """CI of mean(challenger) - mean(champion) over the same rows, by paired bootstrap.

    Scores are per-row, higher is better: 0/1 correctness gives the accuracy difference;
    any other per-row score (e.g. negative log loss) can be passed instead.
    """
    a = np.asarray(challenger_scores, dtype=float)
    b = np.asarray(champion_scores, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            "paired scores must be two non-empty 1-D arrays over the same holdout rows, "
            f"got shapes {a.shape} and {b.shape}"
        )
    differences = a - b
    means = np.concatenate(
        [differences[rows].mean(axis=1) for rows in resample_rows(a.size, resamples, seed)]
    )
    return _interval(means, confidence)


def bootstrap_intervals(
    columns: np.ndarray,
    statistics: dict[str, Statistic],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 42,
) -> dict[str, tuple[float, float]]:
    """CI of each named statistic, all computed on the same seeded resamples of the rows.

    ``columns`` holds per-row values (n rows x m columns: 1, correct, loss, true positive,
    ...); a statistic maps their sums over a resample (k resamples x m) to k values, e.g.
    accuracy = sum(correct) / sum(1), or an F1 from resampled confusion counts. A paired
    difference is one statistic over both models' columns side by side, so both models are
    measured on the same drawn rows.
    """
    values = np.asarray(columns, dtype=float)
    n = len(values)
    if n == 0:
        raise ValueError("a bootstrap needs at least one row")
    collected: dict[str, list[np.ndarray]] = {name: [] for name in statistics}
    for rows in resample_rows(n, resamples, seed):
        # Count of each row in each resample: one bincount over (resample, row) offsets.
        offsets = rows + np.arange(len(rows))[:, None] * n
        counts = np.bincount(offsets.ravel(), minlength=len(rows) * n).reshape(len(rows), n)
        totals = counts.astype(float) @ values  # one matrix product for every statistic
        for name, statistic in statistics.items():
            collected[name].append(statistic(totals))
    return {name: _interval(np.concatenate(parts), confidence) for name, parts in collected.items()}
