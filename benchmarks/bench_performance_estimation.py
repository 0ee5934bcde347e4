"""How close is the label-free performance estimate to the truth, on quarters it never saw?

    python benchmarks/bench_performance_estimation.py [--seeds 42,7,2024] [--quarters 4]
        [--methods vector,temperature,none]
    python benchmarks/bench_performance_estimation.py --timing-rows 1000000

For each generated world (seed) and each of its newest ``--quarters`` labelled quarters T:
the champion is trained as the training pipeline trains it (its nodes, the committed
parameters) on the quarters before T only, so T was used neither to fit nor to calibrate
it; T is scored, logged as prediction-log records and monitored by the monitoring
pipeline's estimation with T's labels. Reported per case and method: estimated and
realized macro-F1 and accuracy, the error, whether the realized figure falls in the
bootstrap interval, and the error against the *expected* macro-F1 under the generator's
true probabilities (no label noise: what the estimator aims at). Prints JSON.

``--timing-rows N`` instead times the monitoring node alone on a window of N distinct
logged predictions (a calibration fitted on a synthetic holdout): its share of the
monitoring run's budget at a million rows.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _params(name: str) -> dict:
    return yaml.safe_load((ROOT / "conf/base" / f"parameters_{name}.yml").read_text())


def _model_input_table(world) -> pd.DataFrame:
    """The data_engineering pipeline on the world's raw files (as CSV text, like the catalog)."""
    import tempfile

    from kedro.io import DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    from future_skills_kedro.contract import RAW_FILES
    from future_skills_kedro.datagen import write
    from future_skills_kedro.pipelines.data_engineering import create_pipeline

    with tempfile.TemporaryDirectory() as folder:
        write(world, Path(folder))
        data = {
            name: pd.read_csv(
                Path(folder) / f"{name}.csv",
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
            )
            for name in RAW_FILES
        }
    params = _params("data_engineering")["data_engineering"]
    datasets = {name: MemoryDataset(frame) for name, frame in data.items()}
    datasets["params:data_engineering"] = MemoryDataset(params)
    for key, value in params.items():
        datasets[f"params:data_engineering.{key}"] = MemoryDataset(value)
    catalog = DataCatalog(datasets)
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    return outputs["model_input_table"].load(), data["skill_need_labels"]


def _train(table: pd.DataFrame, training: dict) -> dict:
    """The training pipeline's node functions up to the holdout predictions (no MLflow)."""
    from future_skills_kedro.pipelines.training import nodes

    started = time.perf_counter()
    train, holdout, _ = nodes.split_train_holdout(table, training["split"])
    classifier, fit_metrics, _ = nodes.train_classifier(train, training["model"])
    _, _, holdout_predictions, _ = nodes.evaluate_on_holdout(classifier, holdout, fit_metrics)
    features = nodes.select_reference_features(
        train, training["reference_features"]["max_rows"], training["reference_features"]["seed"]
    )
    return {
        "classifier": classifier,
        "holdout_predictions": holdout_predictions,
        "reference_features": features,
        "seconds": time.perf_counter() - started,
    }


def _truth(world, rows: pd.DataFrame) -> np.ndarray:
    """The generator's true class probabilities of ``rows`` (matched on the keys)."""
    from future_skills_kedro.contract import KEY_COLUMNS

    keys = world.features.loc[:, list(KEY_COLUMNS)].copy()
    keys["as_of_date"] = pd.to_datetime(keys["as_of_date"])
    keys[["p0", "p1", "p2"]] = world.probabilities
    wanted = rows.loc[:, list(KEY_COLUMNS)].copy()
    wanted["as_of_date"] = pd.to_datetime(wanted["as_of_date"])
    wanted["horizon_years"] = wanted["horizon_years"].astype(keys["horizon_years"].dtype)
    matched = wanted.merge(keys, on=list(KEY_COLUMNS), how="left", validate="one_to_one")
    return matched[["p0", "p1", "p2"]].to_numpy()


def _timing(rows: int) -> dict:
    """The estimation node alone on a window of ``rows`` distinct logged predictions."""
    from future_skills_kedro.datasets.monitoring_reference import MonitoringReference
    from future_skills_kedro.pipelines.monitoring import estimation
    from future_skills_kedro.pipelines.training.nodes import calibrate_probabilities

    rng = np.random.default_rng(0)
    levels = np.asarray(["LOW", "MEDIUM", "HIGH"], dtype=object)

    def scored(n: int, quarters: list[str]) -> pd.DataFrame:
        logits = rng.normal(size=(n, 3)) * 1.3
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        truth = (rng.random((n, 1)) > np.cumsum(probabilities, axis=1)).sum(axis=1)
        return pd.DataFrame(
            {
                "job_role_id": np.char.add("R", (np.arange(n) // 3).astype(str)),
                "skill_id": "S001",
                "horizon_years": np.tile([1, 3, 5], n // 3 + 1)[:n],
                "as_of_date": rng.choice(quarters, n),
                "prob_LOW": probabilities[:, 0],
                "prob_MEDIUM": probabilities[:, 1],
                "prob_HIGH": probabilities[:, 2],
                "predicted_need_level": levels[probabilities.argmax(axis=1)],
                "future_need_level": levels[truth],
            }
        )

    holdout = scored(5400, ["2025-03-31", "2025-06-30"])
    settings = _params("training")["training"]["calibration"]
    calibration, _ = calibrate_probabilities(holdout, settings)
    window = scored(rows, ["2025-12-31"]).rename(columns={"predicted_need_level": "prediction"})
    window = window.drop(columns="future_need_level")
    window["timestamp"] = pd.Timestamp("2026-01-05T09:00:00Z")
    reference = MonitoringReference(
        model_name="bench-model",  # synthetic: no registry involved
        version="1",
        alias="champion",
        semver="1.0.0",
        stage="Production",
        run_id=None,
        created_at="2026-01-01T00:00:00Z",
        features=holdout,
        holdout_predictions=holdout,
        probability_calibration=calibration,
    )
    no_labels = holdout.iloc[:0].astype("str")
    params = _params("monitoring")["monitoring"]["performance_estimate"]
    started = time.perf_counter()
    result = estimation.estimate(window, no_labels, reference, params)
    return {
        "window_rows": rows,
        "estimated_rows": result["rows"],
        "estimate_node_s": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="42,7,2024")
    parser.add_argument("--quarters", type=int, default=4)
    parser.add_argument("--methods", default="vector,temperature,none")
    parser.add_argument("--timing-rows", type=int, default=None)
    args = parser.parse_args()
    if args.timing_rows:
        print(json.dumps(_timing(args.timing_rows), indent=2))
        return

    from future_skills_kedro import performance_estimation
    from future_skills_kedro.contract import NEED_LEVELS
    from future_skills_kedro.datagen import GeneratorConfig, generate
    from future_skills_kedro.datasets.monitoring_reference import MonitoringReference
    from future_skills_kedro.pipelines.monitoring import estimation
    from future_skills_kedro.pipelines.training.nodes import calibrate_probabilities
    from future_skills_kedro.prediction_log import prediction_log_records
    from future_skills_kedro.scoring import PREDICTION_COLUMN, predict_need_levels

    training = _params("training")["training"]
    monitoring = _params("monitoring")["monitoring"]
    # After the imports: importing the project configures Kedro's logging (INFO).
    logging.getLogger("kedro").setLevel(logging.WARNING)
    cases = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        world = generate(GeneratorConfig(seed=seed))
        table, labels = _model_input_table(world)
        quarters = np.sort(table["as_of_date"].unique())
        for quarter in quarters[-args.quarters :]:
            trained = _train(table.loc[table["as_of_date"] < quarter], training)
            target = table.loc[table["as_of_date"] == quarter].reset_index(drop=True)
            scored = predict_need_levels(trained["classifier"], target)
            logged = prediction_log_records(
                target,
                scored,
                purpose="production",
                model_alias="champion",
                model_name="bench-model",  # synthetic: no registry involved
                model_version="1",
                model_semver="1.0.0",
                latency_ms=1.0,
                scored_at=[pd.Timestamp("2026-01-05T09:00:00Z")] * len(target),
            )
            predicted = pd.Index(NEED_LEVELS).get_indexer(scored[PREDICTION_COLUMN])
            truth = _truth(world, target)
            expected_true = performance_estimation.headline_metrics(
                performance_estimation.expected_confusion_matrix(truth, predicted)
            )
            for method in args.methods.split(","):
                settings = training["calibration"] | {"method": method}
                started = time.perf_counter()
                calibration, _ = calibrate_probabilities(trained["holdout_predictions"], settings)
                calibration_s = time.perf_counter() - started
                reference = MonitoringReference(
                    model_name="bench-model",  # synthetic: no registry involved
                    version="1",
                    alias="champion",
                    semver="1.0.0",
                    stage="Production",
                    run_id=None,
                    created_at="2026-01-01T00:00:00Z",
                    features=trained["reference_features"],
                    holdout_predictions=trained["holdout_predictions"],
                    probability_calibration=calibration,
                )
                started = time.perf_counter()
                result = estimation.estimate(
                    logged, labels, reference, monitoring["performance_estimate"]
                )
                estimate_s = time.perf_counter() - started
                low, high = result["interval"]["macro_f1"]
                cases.append(
                    {
                        "seed": seed,
                        "quarter": pd.Timestamp(quarter).date().isoformat(),
                        "method": method,
                        "rows": result["rows"],
                        "estimated_macro_f1": result["estimated"]["macro_f1"],
                        "realized_macro_f1": result["realized"]["macro_f1"],
                        "error_macro_f1": result["error"]["macro_f1"],
                        "error_accuracy": result["error"]["accuracy"],
                        "interval_macro_f1": [low, high],
                        "realized_in_interval": bool(low <= result["realized"]["macro_f1"] <= high),
                        "error_vs_true_expected_macro_f1": result["estimated"]["macro_f1"]
                        - float(expected_true["macro_f1"]),
                        "train_s": round(trained["seconds"], 2),
                        "calibration_s": round(calibration_s, 2),
                        "estimate_s": round(estimate_s, 3),
                    }
                )
                print(json.dumps(cases[-1]), file=sys.stderr, flush=True)

    frame = pd.DataFrame(cases)
    summary = {}
    for method, rows in frame.groupby("method", sort=False):
        summary[method] = {
            "cases": len(rows),
            "max_abs_error_macro_f1": round(rows["error_macro_f1"].abs().max(), 4),
            "rmse_macro_f1": round(float(np.sqrt((rows["error_macro_f1"] ** 2).mean())), 4),
            "mean_error_macro_f1": round(rows["error_macro_f1"].mean(), 4),
            "rmse_vs_true_expected_macro_f1": round(
                float(np.sqrt((rows["error_vs_true_expected_macro_f1"] ** 2).mean())), 4
            ),
            "interval_coverage": round(rows["realized_in_interval"].mean(), 3),
            "cases_within_0_02": int((rows["error_macro_f1"].abs() <= 0.02).sum()),
            "mean_calibration_s": round(rows["calibration_s"].mean(), 2),
            "mean_train_s": round(rows["train_s"].mean(), 2),
        }
    print(json.dumps({"summary": summary, "cases": cases}, indent=2))


if __name__ == "__main__":
    main()
