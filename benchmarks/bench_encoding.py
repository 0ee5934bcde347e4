"""Encodings side by side: holdout quality, fit time, bare predict_proba at 1M rows; prints JSON.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_encoding.py \
        [--rows 1000000] [--repeats 2] [--seed 42] \
        [--models hist_gradient_boosting:one_hot hist_gradient_boosting:target ...]

Each model (``training.model.algorithm:encoding``, src/future_skills_kedro/encoding.py) is
fitted with the project's own ``build_classifier`` and conf/base training parameters on the
training quarters of the generated world of ``--seed`` (the committed sample's size), scored
on its time-based holdout (macro-F1 next to the generator's oracle), then its bare
``predict_proba`` is timed on ``--rows`` model-input rows of a world with that many label
rows (roles the sample never saw are scored as unseen, as in production; ``--rows 0``: quality
only). The peak of numpy/Python allocations during one scoring pass is measured with
tracemalloc.
Target: target-encoding throughput >= 10 x one_hot's.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
from kedro.config import OmegaConfigLoader

from future_skills_kedro.contract import FEATURE_COLUMNS
from future_skills_kedro.datagen import GeneratorConfig, generate
from future_skills_kedro.encoding import ENCODINGS
from future_skills_kedro.pipelines.training.nodes import (
    evaluate_on_holdout,
    split_train_holdout,
    train_classifier,
)
from future_skills_kedro.settings import CONFIG_LOADER_ARGS

ROOT = Path(__file__).resolve().parents[1]
TARGET_SPEEDUP = 10.0
DEFAULT_MODELS = [
    *(f"hist_gradient_boosting:{encoding}" for encoding in ENCODINGS),
    "boosted_spline_blend:target",
    "additive_logistic:target",
]


def _training_params() -> dict:
    return OmegaConfigLoader(
        str(ROOT / "conf"), **CONFIG_LOADER_ARGS | {"default_run_env": "base"}
    )["parameters"]["training"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    args = parser.parse_args()

    params = _training_params()
    world = generate(GeneratorConfig(seed=args.seed))
    train, holdout, _ = split_train_holdout(world.features, params["split"])
    rows = None
    if args.rows:
        big = generate(GeneratorConfig.for_label_rows(args.rows, seed=args.seed)).features
        rows = big.head(args.rows).loc[:, list(FEATURE_COLUMNS)]
        rows = rows.astype({"training_requests": float})
        del big

    results = {}
    for name in args.models:
        algorithm, encoding = name.split(":")
        model = params["model"] | {"algorithm": algorithm, "encoding": encoding}
        classifier, fit_metrics, _ = train_classifier(train, model)
        _, scores, _, _ = evaluate_on_holdout(classifier, holdout, fit_metrics)
        results[name] = {
            "holdout_macro_f1": round(scores["macro_f1"], 4),
            "gap_to_oracle_macro_f1": round(
                world.oracle["holdout"]["oracle_macro_f1"] - scores["macro_f1"], 4
            ),
            "fit_seconds": round(fit_metrics["fit_duration_s"], 2),
        }
        if rows is None:
            continue
        classifier.predict_proba(rows.head(1000))  # warm-up
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            classifier.predict_proba(rows)
            seconds.append(time.perf_counter() - started)
        tracemalloc.start()
        classifier.predict_proba(rows)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        results[name] |= {
            "predict_proba_seconds": [round(s, 2) for s in seconds],
            "rows_per_s_best": round(len(rows) / min(seconds)),
            "predict_proba_peak_alloc_mb": round(peak / 2**20),
        }
    baseline = results.get("hist_gradient_boosting:one_hot", {})
    if rows is not None and baseline:
        for figures in results.values():
            figures["throughput_vs_one_hot"] = round(
                figures["rows_per_s_best"] / baseline["rows_per_s_best"], 1
            )
    print(
        json.dumps(
            {
                "seed": args.seed,
                "train_rows": len(train),
                "holdout_rows": len(holdout),
                "scored_rows": 0 if rows is None else len(rows),
                "oracle_macro_f1": world.oracle["holdout"]["oracle_macro_f1"],
                "results": results,
                "target_speedup": TARGET_SPEEDUP,
                "cpu_count": os.cpu_count(),
                "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
                "numpy": np.__version__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
