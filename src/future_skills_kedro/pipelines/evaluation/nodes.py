"""Evaluation nodes: re-score the champion (and challenger) on the newest labelled data."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from future_skills_kedro.contract import FEATURE_COLUMNS, TARGET_COLUMN
from future_skills_kedro.scoring import classification_metrics
from future_skills_kedro.tracking import as_mlflow_metrics

_HEADLINE_METRICS = ("accuracy", "macro_f1", "weighted_f1", "log_loss")


def select_evaluation_rows(
    model_input_table: pd.DataFrame, champion, evaluation: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Labelled rows dated after the champion's training cutoff (or the newest quarters)."""
    cutoff_text = champion.run_params.get("split.train_to")
    dates = model_input_table["as_of_date"]
    if cutoff_text:
        unseen = model_input_table.loc[dates > pd.Timestamp(cutoff_text)]
    else:
        unseen = model_input_table.iloc[0:0]
    if len(unseen) >= int(evaluation["min_rows"]):
        rows, basis = unseen, f"labels dated after the champion's training cutoff {cutoff_text}"
    else:
        newest = np.sort(dates.unique())[-int(evaluation["fallback_quarters"]) :]
        rows = model_input_table.loc[dates.isin(newest)]
        basis = (
            f"the newest {len(newest)} quarter(s): fewer than {evaluation['min_rows']} rows are "
            f"dated after the champion's training cutoff ({cutoff_text or 'unknown'}), so these "
            "rows may overlap its training data"
        )
    if rows.empty:
        raise ValueError("no labelled rows to evaluate on: model_input_table is empty.")
    window = {
        "basis": basis,
        "rows": len(rows),
        "from": pd.Timestamp(rows["as_of_date"].min()).date().isoformat(),
        "to": pd.Timestamp(rows["as_of_date"].max()).date().isoformat(),
    }
    return rows.reset_index(drop=True), window


def evaluate_registered_models(
    evaluation_rows: pd.DataFrame, champion, challenger, window: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], pd.DataFrame]:
    """Metrics overall and per quarter for each registered model, on the same rows."""
    models = {"champion": champion, "challenger": challenger}
    report: dict[str, Any] = {"window": window, "models": {}}
    mlflow_metrics: dict[str, Any] = {}
    by_quarter = []
    features = evaluation_rows.loc[:, list(FEATURE_COLUMNS)]
    for role, registered in models.items():
        if registered is None:
            report["models"][role] = {"status": "absent"}
            continue
        try:
            scored = registered.model.predict(features)
        except Exception as exc:
            report["models"][role] = {
                "status": "incompatible",
                "version": registered.version,
                "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
            }
            continue
        metrics = classification_metrics(evaluation_rows[TARGET_COLUMN], scored)
        quarters = _metrics_by_quarter(evaluation_rows, scored)
        quarters.insert(0, "model", role)
        by_quarter.append(quarters)
        report["models"][role] = {
            "status": "evaluated",
            "version": registered.version,
            "semver": registered.semver,
            "metrics": metrics,
            "training_holdout_macro_f1": registered.run_metrics.get("macro_f1"),
        }
        mlflow_metrics |= as_mlflow_metrics(metrics, prefix=f"{role}_")
    if report["models"]["champion"].get("status") != "evaluated":
        raise ValueError(
            "the champion could not be evaluated: "
            f"{report['models']['champion'].get('reason', 'absent')}"
        )
    quarter_table = pd.concat(by_quarter, ignore_index=True)
    return report, mlflow_metrics, quarter_table


def _metrics_by_quarter(rows: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    records = []
    for quarter, index in rows.groupby("as_of_date").groups.items():
        metrics = classification_metrics(rows.loc[index, TARGET_COLUMN], scored.loc[index])
        records.append(
            {
                "as_of_date": pd.Timestamp(quarter).date().isoformat(),
                "rows": len(index),
                **{name: metrics[name] for name in _HEADLINE_METRICS},
            }
        )
    return pd.DataFrame.from_records(records)


def plot_metrics_by_quarter(quarter_table: pd.DataFrame):
    """Macro-F1 and accuracy per quarter, one line per registered model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharex=True)
    for ax, metric in zip(axes, ("macro_f1", "accuracy"), strict=True):
        for model, rows in quarter_table.groupby("model"):
            ax.plot(rows["as_of_date"], rows[metric], marker="o", label=model)
        ax.set_title(f"{metric} by quarter")
        ax.set_ylim(0, 1)
        ax.tick_params(axis="x", rotation=45)
        ax.legend()
    figure.tight_layout()
    return figure
