"""Overhead of `kedro run --pipelines training` over a plain script doing the same work.

    python benchmarks/bench_training_overhead.py [--repeats 3]

Both sides run in a fresh copy of the project with its own SQLite MLflow store:
- kedro: the real CLI (config, catalog I/O, hooks, kedro-mlflow, PipelineML packaging,
  the lifecycle decision);
- plain: one Python process that calls the same node functions (``Node.run``) in
  topological order with in-memory inputs (no runner, catalog, hooks or plugins), logs the
  same params, metrics and artifacts with the MLflow API, and logs
  and registers the fitted scikit-learn pipeline (`mlflow.sklearn.log_model`).
Prints JSON with the wall times and their ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_PLAIN = r"""
import json, sys, tempfile
from pathlib import Path
import mlflow, pandas as pd, yaml
from kedro.config import OmegaConfigLoader
from future_skills_kedro.parameters.project import validate_parameters
from future_skills_kedro.pipelines import data_engineering, training
from future_skills_kedro.settings import CONFIG_LOADER_ARGS

project = Path(sys.argv[1])
# conf/base as Kedro reads it (every parameters file merged, globals resolved); the project's
# parameter models fill in the defaults, as the Kedro side's hook does.
settings = CONFIG_LOADER_ARGS | {"default_run_env": "base"}
loader = OmegaConfigLoader(str(project / "conf"), **settings)
params = validate_parameters(loader["parameters"]).model_dump()
data = {f"params:{k}": v for k, v in params.items()}

def flatten(prefix, value):  # every level, as Kedro exposes "params:a", "params:a.b", ...
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(f"{prefix}.{key}", item)

for key, value in list(data.items()):
    for name, item in flatten(key[len("params:"):], value):
        data[f"params:{name}"] = item
for name in ("job_roles", "skills", "market_signals", "economic_indicators",
             "internal_signals", "skill_need_labels"):
    data[name] = pd.read_csv(project / "data/01_raw" / f"{name}.csv", dtype=str,
                             keep_default_na=False, skip_blank_lines=False)
data["champion_model"] = None  # first run: no champion, as for the kedro side
globals_file = project / "conf/base/globals.yml"
model_name = yaml.safe_load(globals_file.read_text())["registered_model_name"]
mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
mlflow.set_experiment("model-training")
pipeline = data_engineering.create_pipeline() + training.create_pipeline()
with mlflow.start_run():
    for node in pipeline.nodes:  # topological order; Node.run only calls the function
        data.update(node.run({name: data[name] for name in node.inputs}))
    mlflow.log_params({k: str(v)[:500] for k, v in data["model_hyperparameters"].items()})
    mlflow.log_params({k: str(v)[:500] for k, v in data["training_run_params"].items()})
    mlflow.log_metrics({k: v["value"] for k, v in data["holdout_metrics"].items()})
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data["confusion_matrix_plot"].savefig(tmp / "confusion_matrix.png")
        data["feature_importance_plot"].savefig(tmp / "permutation_importance.png")
        data["feature_importance"].to_csv(tmp / "permutation_importance.csv", index=False)
        data["holdout_predictions"].to_parquet(tmp / "holdout_predictions.parquet")
        data["paired_correctness"].to_parquet(tmp / "paired_correctness.parquet")
        data["reference_features"].to_parquet(tmp / "reference_features.parquet")
        (tmp / "classification_report.json").write_text(json.dumps(data["classification_report"]))
        evidence = json.dumps(data["promotion_evidence"], default=str)
        (tmp / "promotion_evidence.json").write_text(evidence)
        mlflow.log_artifacts(str(tmp), "evaluation")
    rows = data["model_input_rows"]
    mlflow.sklearn.log_model(data["classifier"], name="model", input_example=rows.head(5),
                             serialization_format="cloudpickle",
                             registered_model_name=model_name)
"""


def _fresh_copy(parent: Path) -> Path:
    from tests.conftest import copy_project

    return copy_project(parent)


def _timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    kedro = Path(sys.executable).with_name("kedro")
    walls: dict[str, list[float]] = {"kedro": [], "plain": []}
    for _ in range(args.repeats):
        for side in ("kedro", "plain"):
            with tempfile.TemporaryDirectory() as tmp:
                project = _fresh_copy(Path(tmp))
                env = os.environ | {
                    "KEDRO_DISABLE_TELEMETRY": "true",
                    "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
                }
                command = (
                    [str(kedro), "run", "--pipelines", "training"]
                    if side == "kedro"
                    else [sys.executable, "-c", _PLAIN, str(project)]
                )
                walls[side].append(_timed(command, project, env))
                shutil.rmtree(project, ignore_errors=True)
    kedro_s, plain_s = statistics.median(walls["kedro"]), statistics.median(walls["plain"])
    print(
        json.dumps(
            {
                "kedro_run_s": [round(w, 2) for w in walls["kedro"]],
                "plain_script_s": [round(w, 2) for w in walls["plain"]],
                "median_ratio_kedro_over_plain": round(kedro_s / plain_s, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
