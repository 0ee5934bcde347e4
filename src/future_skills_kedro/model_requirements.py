"""The pip requirements logged with the trained model, and the check of an environment
against them when the model is loaded for scoring.

Declared instead of inferred: without them, MLflow infers a model's requirements at every
``log_model``: a subprocess imports the model's loader and records the modules it touched
(several seconds of CPU per training run). What the logged pyfunc model needs is known: this
project (its own pinned dependencies bring kedro, kedro-mlflow and the rest), MLflow and
cloudpickle, which load it, and the libraries whose objects are pickled in it, at the versions
installed when it was trained. ``tests/pipelines/training/test_training_run.py`` checks the
list against MLflow's inference.

Checked by distribution name: ``mlflow.pyfunc.load_model`` warns when the environment does
not satisfy the model's requirements, but first maps every installed module to its
distribution (``importlib_metadata.packages_distributions``, a ``stat`` of each of the ~25,000
installed files): 1.3 s of every scoring run here, against 0.02 s for the same verdicts from
:func:`unmet_requirements` (``benchmarks/bench_model_environment_check.py``).
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version

from packaging.requirements import InvalidRequirement, Requirement

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


def unmet_requirements(lines: Iterable[str]) -> list[str]:
    """Each requirement this environment does not satisfy, worded as MLflow's load warning
    words it: ``numpy (current: 2.4.6, required: numpy==2.3.0)``; ``current: uninstalled``
    when the distribution is missing.

    As MLflow does, a line that is not a requirement (a path, a URL, an option, a comment) is
    skipped, and so is a requirement whose environment marker excludes this platform.
    """
    unmet = []
    for line in (text.strip() for text in lines):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker and not requirement.marker.evaluate():
            continue
        try:
            installed = version(requirement.name)
        except PackageNotFoundError:
            installed = None
        if installed is None or not requirement.specifier.contains(installed):
            current = installed or "uninstalled"
            unmet.append(f"{requirement.name} (current: {current}, required: {line})")
    return unmet


def environment_warnings(requirement_lines: Iterable[str], model_python: str | None) -> list[str]:
    """MLflow's load-time warnings for a model: unmet requirements, another Python minor."""
    warnings = []
    unmet = unmet_requirements(requirement_lines)
    if unmet:
        warnings.append(
            "Detected one or more mismatches between the model's dependencies and the current "
            "Python environment:\n - " + "\n - ".join(unmet) + "\nTo fix the mismatches, call "
            "`mlflow.pyfunc.get_model_dependencies(model_uri)` to fetch the model's environment "
            "and install dependencies using the resulting environment file."
        )
    running = platform.python_version()
    if model_python is None:
        warnings.append(
            "The specified model does not have a specified Python version. It may be "
            f"incompatible with the version of Python that is currently running: Python {running}"
        )
    elif model_python.split(".")[:2] != running.split(".")[:2]:
        warnings.append(
            f"The version of Python that the model was saved in, `Python {model_python}`, "
            f"differs from the version of Python that is currently running, `Python {running}`, "
            "and may be incompatible"
        )
    return warnings
