"""Throughput of the logged pyfunc model versus the bare scikit-learn pipeline; prints JSON.

    KEDRO_DISABLE_TELEMETRY=true python benchmarks/bench_inference.py \
        [--rows 1000000] [--repeats 3] [--model-uri models:/NAME@champion] \
        [--tracking-uri sqlite:///path/to/project/mlflow.db] [--components]

Both sides score the same generated model-input rows (future_skills_kedro.datagen, the rows
of ``--rows`` label rows) with the same fitted classifier: "bare" is its ``predict_proba``,
"pyfunc" is ``mlflow.pyfunc.load_model(uri).predict`` (signature enforcement, kedro-mlflow's
KedroPipelineModel running the training project's inference pipeline, predict_need_levels),
i.e. what the inference pipeline and ``mlflow models serve`` run. "python_model" is the
KedroPipelineModel without MLflow's schema enforcement, to split the overhead.
Target: pyfunc throughput >= 0.8 x bare. The tracking URI defaults to MLFLOW_TRACKING_URI,
else the project's mlflow.db; the model to the champion of ``registered_model_name``
(conf/base/globals.yml); train first (`kedro run --pipelines training`).

``--components`` (the default ``additive_logistic`` model) also times, on one thread and the
same rows, side by side per repeat: the scoring as the model does it (weighted sums on the
basis, ``AdditiveLogistic.predict_proba``) against building the sparse basis and scoring it
with the fitted ``LogisticRegression``, and the category lookups as the basis does them
(Arrow's ``index_in``) against pandas' ``Index.get_indexer`` and ``OrdinalEncoder.transform``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from future_skills_kedro.encoding import known_categories
from future_skills_kedro.tracking import default_tracking_uri

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 0.8


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def _timed(function, repeats: int) -> list[float]:
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


def _figures(seconds: list[float], rows: int) -> dict[str, float]:
    best, median = min(seconds), statistics.median(seconds)
    return {
        "seconds": [round(value, 3) for value in seconds],
        "best_s": round(best, 3),
        "median_s": round(median, 3),
        "rows_per_s_best": round(rows / best),
        "rows_per_s_median": round(rows / median),
    }


def registered_model_name() -> str:
    """The project's registered model, as configured (conf/base/globals.yml)."""
    import yaml

    globals_file = PROJECT_ROOT / "conf/base/globals.yml"
    return yaml.safe_load(globals_file.read_text())["registered_model_name"]


def model_input_rows(rows: int, seed: int) -> pd.DataFrame:
    """``rows`` model-input rows from the synthetic generator (570 roles at 1M rows)."""
    from future_skills_kedro.datagen import GeneratorConfig, generate

    data = generate(GeneratorConfig.for_label_rows(rows, seed=seed))
    return data.features.head(rows).reset_index(drop=True)


def _components(classifier, features: pd.DataFrame, repeats: int) -> dict:
    """The additive model's scoring and category lookups, each beside its alternative."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from future_skills_kedro.additive import AdditiveLogistic
    from future_skills_kedro.lookups import positions_in

    model = classifier.steps[-1][1]
    if not isinstance(model, AdditiveLogistic):
        return {"skipped": f"{type(model).__name__} is not AdditiveLogistic"}
    basis, logistic = model.basis_, model.logistic_
    rows = len(features)
    vocabularies = list(zip(basis.categorical_, basis.encoder_.categories_, strict=True))
    timings: dict[str, list[float]] = {}

    def timed(name: str, function):
        started = time.perf_counter()
        result = function()
        timings.setdefault(name, []).append(time.perf_counter() - started)
        return result

    with threadpool_limits(limits=1):
        for _ in range(repeats):
            sparse = timed(
                "sparse_basis_then_logistic",
                lambda: logistic.predict_proba(basis.transform(features)),
            )
            direct = timed("weighted_sums_on_the_basis", lambda: model.predict_proba(features))
            # All categorical columns, as the basis looks them up.
            timed(
                "lookup_arrow_index_in",
                lambda: [positions_in(features[c], v) for c, v in vocabularies],
            )
            timed(
                "lookup_pandas_get_indexer",
                lambda: [pd.Index(v).get_indexer(features[c]) for c, v in vocabularies],
            )
            timed(
                "lookup_ordinal_encoder",
                lambda: basis.encoder_.transform(features.loc[:, basis.categorical_]),
            )
    figures: dict = {
        name: {"best_s": round(min(seconds), 3), "median_s": round(statistics.median(seconds), 3)}
        for name, seconds in timings.items()
    }
    for name in ("sparse_basis_then_logistic", "weighted_sums_on_the_basis"):
        figures[name]["rows_per_s_best"] = round(rows / min(timings[name]))
    figures["categorical_columns"] = len(basis.categorical_)
    figures["max_abs_probability_difference"] = float(np.abs(sparse - direct).max())
    figures["threads"] = 1
    return figures


def main() -> None:
    """Load the model, generate the rows, time both paths, print one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--model-uri", default=None, help="default: the project's champion")
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--components", action="store_true", help="see the module docstring")
    args = parser.parse_args()

    import mlflow

    tracking_uri = (
        args.tracking_uri
        or os.environ.get("MLFLOW_TRACKING_URI")
        or default_tracking_uri(PROJECT_ROOT)
    )
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)

    model_uri = args.model_uri or f"models:/{registered_model_name()}@champion"
    started = time.perf_counter()
    model = mlflow.pyfunc.load_model(model_uri)
    load_s = time.perf_counter() - started
    python_model = model.unwrap_python_model()
    classifier = python_model.loaded_catalog.load("classifier")
    columns = model.metadata.get_input_schema().input_names()

    started = time.perf_counter()
    rows = model_input_rows(args.rows, args.seed)
    generate_s = time.perf_counter() - started
    # The dtypes the feature builder gives (and the signature declares).
    features = rows.loc[:, columns].astype({"training_requests": "float64"})
    known_roles = set(known_categories(classifier)["job_role_name"])

    # Warm-up (first-call imports and caches) on a small slice, untimed.
    model.predict(features.head(1000))
    classifier.predict_proba(features.head(1000))

    bare = _figures(_timed(lambda: classifier.predict_proba(features), args.repeats), len(rows))
    pyfunc = _figures(_timed(lambda: model.predict(features), args.repeats), len(rows))
    unwrapped = _figures(
        _timed(lambda: python_model.predict(None, features), args.repeats), len(rows)
    )
    components = _components(classifier, features, args.repeats) if args.components else None
    ratio_best = bare["best_s"] / pyfunc["best_s"]
    ratio_median = bare["median_s"] / pyfunc["median_s"]
    print(
        json.dumps(
            {
                "rows": len(features),
                "model_uri": model_uri,
                "model_run_id": model.metadata.run_id,
                "classifier": type(classifier.named_steps["classifier"]).__name__,
                "unseen_job_role_name_share": round(
                    float((~features["job_role_name"].isin(known_roles)).mean()), 4
                ),
                "load_model_s": round(load_s, 2),
                "generate_rows_s": round(generate_s, 2),
                "bare_predict_proba": bare,
                "pyfunc_predict": pyfunc,
                "kedro_pipeline_model_predict": unwrapped,
                **({"components": components} if components else {}),
                "throughput_ratio_pyfunc_vs_bare_best": round(ratio_best, 3),
                "throughput_ratio_pyfunc_vs_bare_median": round(ratio_median, 3),
                "target_ratio": TARGET_RATIO,
                "meets_target": ratio_median >= TARGET_RATIO,
                "peak_rss_mb": _peak_rss_mb(),
                "cpu_count": os.cpu_count(),
                "python": platform.python_version(),
                "mlflow": mlflow.__version__,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
