"""Tuning per generated world: oracle, default model, tuned model on the time-based holdout.

    OMP_NUM_THREADS=1 KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_tuning.py \
        [--seeds 42 7 2024] [--n-trials 20]

For each seed the generator's world (seed 42 is the committed sample) is split as training
splits it; the project's own study (src/future_skills_kedro/tuning.py, conf/base
parameters_tuning.yml) runs on the training quarters only; then the model of conf/base
("default": parameters_training.yml merged with parameters_tuned.yml, as `kedro run` reads
them) and the study's best are each fitted on all training quarters and scored on the holdout,
next to the oracle's macro-F1 (Bayes-optimal argmax of the true probabilities). Prints JSON
with CPU and wall time of each step and the load average. Without MLflow (the pipeline's
nested runs are tested in tests/pipelines/tuning). ``--tuned-file``: score another tuned file
as "default" too (e.g. the one committed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

from kedro.config import OmegaConfigLoader

from future_skills_kedro.datagen import GeneratorConfig, generate
from future_skills_kedro.parameters.project import validate_parameters
from future_skills_kedro.pipelines.training.nodes import (
    evaluate_on_holdout,
    split_train_holdout,
    train_classifier,
)
from future_skills_kedro.settings import CONFIG_LOADER_ARGS
from future_skills_kedro.tuning import (
    assign_folds,
    best_trial,
    run_study,
    with_hyperparameters,
)

ROOT = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), _cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = round(time.perf_counter() - self.wall, 1)
        self.cpu = round(_cpu_seconds() - self.cpu, 1)


def _holdout_macro_f1(train, holdout, model) -> float:
    classifier, fit_metrics, _ = train_classifier(train, model)
    return evaluate_on_holdout(classifier, holdout, fit_metrics)[1]["macro_f1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 7, 2024])
    parser.add_argument("--n-trials", type=int, default=None)
    parser.add_argument(
        "--no-study", action="store_true", help="score the conf/base model only (no tuning)"
    )
    args = parser.parse_args()

    # conf/base as `kedro run` merges it (parameters_tuned.yml included), without conf/local
    settings = CONFIG_LOADER_ARGS | {"default_run_env": "base"}
    loader = OmegaConfigLoader(str(ROOT / "conf"), **settings)
    params = validate_parameters(loader["parameters"]).model_dump()
    model, tuning = params["training"]["model"], params["tuning"]
    if args.n_trials:
        tuning["n_trials"] = args.n_trials
    results = []
    for seed in args.seeds:
        world = generate(GeneratorConfig(seed=seed))
        train, holdout, _ = split_train_holdout(world.features, params["training"]["split"])
        oracle = world.oracle["holdout"]["oracle_macro_f1"]
        with Timer() as default_time:
            default_f1 = _holdout_macro_f1(train, holdout, model)
        result = {
            "seed": seed,
            "oracle_macro_f1": oracle,
            "default_macro_f1": round(default_f1, 4),
            "default_gap": round(oracle - default_f1, 4),
            "fit_default_wall_s": default_time.wall,
            "fit_default_cpu_s": default_time.cpu,
        }
        if args.no_study:
            results.append(result)
            print(json.dumps(result), flush=True)
            continue
        folds = assign_folds(train, tuning["cv"]["folds"], tuning["cv"]["validation_quarters"])
        with Timer() as study_time:
            trials = run_study(train, folds, model, tuning)
        best = best_trial(trials)
        tuned = with_hyperparameters(model, json.loads(best["params"]))
        with Timer() as tuned_time:
            tuned_f1 = _holdout_macro_f1(train, holdout, tuned)
        results.append(
            result
            | {
                "tuned_macro_f1": round(tuned_f1, 4),
                "tuned_gap": round(oracle - tuned_f1, 4),
                "best_trial": int(best["trial"]),
                "best_cv_macro_f1": round(float(best["cv_macro_f1"]), 4),
                "best_values": json.loads(best["params"]),
                "study_wall_s": study_time.wall,
                "study_cpu_s": study_time.cpu,
                "fit_tuned_wall_s": tuned_time.wall,
                "fit_tuned_cpu_s": tuned_time.cpu,
            }
        )
        print(json.dumps(results[-1]), flush=True)
    print(
        json.dumps(
            {
                "n_trials": tuning["n_trials"],
                "cv": tuning["cv"],
                "default_hyperparameters": model["hyperparameters"][model["algorithm"]],
                "results": results,
                "load_average": os.getloadavg(),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
