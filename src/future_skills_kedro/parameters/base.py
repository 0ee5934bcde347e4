"""The base of every parameter model, and the two ways a model says what is allowed.

Kept free of the pipeline packages so that ``lifecycle`` (plain Python, no Kedro) can build
its settings on it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class ParameterModel(BaseModel):
    """A section of the parameters: unknown keys, wrong types and NaN/inf are errors.

    ``strict``: no silent conversion (``true`` is not the number 1, ``"0.5"`` in quotes is not
    a number); YAML and ``--params`` already give numbers, booleans and null their own types.
    """

    model_config = ConfigDict(
        extra="forbid",  # a misspelt key is an error, not a silent default
        strict=True,
        allow_inf_nan=False,
        frozen=True,
    )


@dataclass(frozen=True)
class Allowed:
    """What a field accepts, in words, where its type alone cannot say it.

    ``Annotated[str | None, Allowed("a semantic version such as 2.0.0, or null")]``; a
    function when the words are only known at run time (evaluated when shown).
    """

    text: str | Callable[[], str]

    def __str__(self) -> str:
        return self.text() if callable(self.text) else self.text


UNSET: Any = object()


class Invalid(ValueError):
    """Raised by a model's own rule: what is allowed, and where when not the field itself.

    ``at`` is the path below the model that raised it (a cross-field rule raised by a section
    names the field it is about); ``value`` the offending value shown in the message.
    """

    def __init__(self, allowed: str, *, at: tuple[str | int, ...] = (), value: Any = UNSET):
        super().__init__(allowed)
        self.allowed = allowed
        self.at = at
        self.value = value


def _iso_date(value: Any) -> Any:
    # Only a date or 'YYYY-MM-DD': pydantic alone would read 20250630 as seconds since 1970.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError("not an ISO date")


# Shared field types.
IsoDate = Annotated[date, BeforeValidator(_iso_date), Allowed("a date YYYY-MM-DD")]
UnitShare = Annotated[float, Field(ge=0, le=1)]
PositiveInt = Annotated[int, Field(ge=1)]
Seed = Annotated[int, Field(ge=0)]
