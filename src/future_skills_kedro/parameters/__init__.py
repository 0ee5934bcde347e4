"""Typed parameters: one pydantic model per section of conf/base/parameters*.yml.

The models are the only place where a parameter's type, allowed values, range and default
are written; ``kedro run`` checks every parameter against them before any work
(``hooks.ParameterValidationHook``) and nodes receive the checked values as plain dicts.

Where things are::

    base.py              ParameterModel (unknown keys, wrong types, NaN are errors), field types
    errors.py            a validation error as one line: name, value, what is allowed
    data_engineering.py  training.py  evaluation.py  inference.py  monitoring.py
                         one module per parameters_<pipeline>.yml
    ../lifecycle/        LifecycleSettings and PromotionPolicy (``lifecycle``), used by the
                         lifecycle hook and ``kedro models`` without Kedro
    project.py           ProjectParameters (every top-level key) and validate_parameters()
    reference.py         docs/parameters.md, generated from the models and the yml comments

To add a parameter: add a field (type, ``Field(ge=..., le=...)`` range, default) to the model
of its section; document it in conf/base/parameters_<pipeline>.yml above the key, with the
``Type: ... Default: ...`` line tests/parameters/test_reference.py asks for; regenerate
docs/parameters.md (``python -m future_skills_kedro.parameters.reference``).

This module stays light (no pipeline imports): ``lifecycle`` builds on ``base``.
"""

from future_skills_kedro.parameters.base import Allowed, Invalid, ParameterModel
from future_skills_kedro.parameters.errors import InvalidParameters

__all__ = ["Allowed", "Invalid", "InvalidParameters", "ParameterModel"]
