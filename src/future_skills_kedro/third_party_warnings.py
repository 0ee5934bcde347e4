"""Third-party warnings that do not apply to this project, silenced where they start.

Each one is matched by its category and the start of its message, with the reason it does not
apply; every other warning still shows. Warnings that do apply, or that a user may need, are
left alone and listed in README.md ("Quiet by default").
"""

from __future__ import annotations

import re
import sys
import warnings

# MLflow warns when a PythonModel subclass is *defined* without type hints on ``predict``:
# hints would let MLflow validate inputs and infer the signature. The class is kedro-mlflow's
# KedroPipelineModel, defined as soon as kedro-mlflow's CLI or hooks are imported, so the
# warning came with every `kedro` command. It does not apply: the project logs the model with
# an input example, from which MLflow infers the signature it then enforces.
# MLflow checks inside its own ``catch_warnings()`` + ``simplefilter("once")``, which overrides
# any filter set beforehand, so the warning is dropped from a record of the import instead.
KEDRO_MLFLOW_PREDICT_TYPE_HINTS = re.compile(r"(\x1b\[[0-9;]*m)?Add type hints to the `predict`")

# Raised by MLflow when it infers a signature with integer columns, in case they hold missing
# values at inference time. The model's only integer input, ``horizon_years``, is non-nullable
# in the feature-table contract (pipelines/data_engineering/schemas.py), checked before scoring.
INTEGER_COLUMNS_HINT = r"Hint: Inferred schema contains integer column\(s\)"


def _is_inapplicable(warning: warnings.WarningMessage) -> bool:
    return issubclass(warning.category, UserWarning) and bool(
        KEDRO_MLFLOW_PREDICT_TYPE_HINTS.match(str(warning.message))
    )


def import_kedro_mlflow_quietly() -> None:
    """Import kedro-mlflow's model class without MLflow's inapplicable type-hint warning.

    Called by the `kedro` CLI at start (cli_start.py) and by settings.py (sessions opened
    from Python or Jupyter load kedro-mlflow's hooks after the project settings).
    """
    if "kedro_mlflow.mlflow" in sys.modules:
        return
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401
    for warning in caught:
        if not _is_inapplicable(warning):
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )


def ignore_inapplicable_warnings() -> None:
    """Filters for the inapplicable warnings that ordinary filters can stop."""
    warnings.filterwarnings("ignore", message=INTEGER_COLUMNS_HINT, category=UserWarning)
