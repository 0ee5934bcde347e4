"""The pip requirements logged with the trained model, declared instead of inferred.

Without them, MLflow infers a model's requirements at every ``log_model``: a subprocess
imports the model's loader and records the modules it touched (several seconds of CPU per
training run). What the logged pyfunc model needs is known: this project (its own pinned
dependencies bring kedro, kedro-mlflow and the rest), MLflow and cloudpickle, which load it,
and the libraries whose objects are pickled in it, at the versions installed when it was
trained. ``tests/test_model_requirements.py`` checks the list against MLflow's inference.
"""

from __future__ import annotations

from importlib.metadata import version

# Distributions pinned in the model's requirements.txt, in this order.
MODEL_DISTRIBUTIONS = (
    "mlflow",
    "cloudpickle",
    "future-skills-kedro",
    "numpy",
    "pandas",
    "pyarrow",
    "scikit-learn",
    "scipy",
)


def model_pip_requirements() -> list[str]:
    """``name==version`` of each of MODEL_DISTRIBUTIONS, as installed now."""
    return [f"{name}=={version(name)}" for name in MODEL_DISTRIBUTIONS]
