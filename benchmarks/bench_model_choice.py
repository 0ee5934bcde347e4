"""Compare the configured algorithms on the committed sample: holdout macro-F1 and fit time.

    python benchmarks/bench_model_choice.py [--repeats 1]

Uses the project's own nodes (split, build, fit, evaluate) with conf/base parameters, after
the data_engineering pipeline has written data/05_model_input/model_input_table.parquet
(`kedro run --pipelines data_engineering`). Prints JSON, one entry per algorithm, with the
generator's oracle macro-F1 for the same time-based holdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
from kedro.config import OmegaConfigLoader

from future_skills_kedro.pipelines.training.nodes import (
    evaluate_on_holdout,
    split_train_holdout,
    train_classifier,
)
from future_skills_kedro.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    params = OmegaConfigLoader(
        str(ROOT / "conf"), **CONFIG_LOADER_ARGS | {"default_run_env": "base"}
    )["parameters"]["training"]
    table = pd.read_parquet(ROOT / "data/05_model_input/model_input_table.parquet")
    oracle = json.loads((ROOT / "data/01_raw/generator_oracle.json").read_text())
    train, holdout, info = split_train_holdout(table, params["split"])
    results = []
    for algorithm in params["model"]["hyperparameters"]:
        model = params["model"] | {"algorithm": algorithm}
        fits, scores = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            classifier, fit_metrics, _ = train_classifier(train, model)
            fits.append(time.perf_counter() - started)
            _, scores, _, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
        results.append(
            {
                "algorithm": algorithm,
                "macro_f1": round(scores["macro_f1"], 4),
                "accuracy": round(scores["accuracy"], 4),
                "log_loss": round(scores["log_loss"], 4),
                "fit_seconds_min": round(min(fits), 2),
                "gap_to_oracle_macro_f1": round(
                    oracle["holdout"]["oracle_macro_f1"] - scores["macro_f1"], 4
                ),
            }
        )
    print(
        json.dumps(
            {
                "train_rows": info["train_rows"],
                "holdout_rows": info["holdout_rows"],
                "oracle_macro_f1": oracle["holdout"]["oracle_macro_f1"],
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
