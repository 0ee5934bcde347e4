"""Pydantic's validation errors as one line a user can act on.

``lifecycle.promotion.threshold = 'abc': expected a number >= 0``: the full dotted name, the
value, and what is allowed, worded from the field's own type and constraints (the model is
the only place they are written).
"""

from __future__ import annotations

import difflib
import json
import types
from collections.abc import Iterator, Sequence
from datetime import date
from inspect import isclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from future_skills_kedro.parameters.base import UNSET, Allowed, Invalid

Loc = tuple[str | int, ...]
_KEY = "[key]"  # pydantic's marker for an error on a mapping's key rather than its value


class InvalidParameters(ValueError):
    """Parameters that do not fit their models; ``str()`` is one line, ``problems`` all."""

    def __init__(self, problems: Sequence[str], names: Sequence[str]) -> None:
        self.problems = list(problems)
        more = ""
        if len(problems) > 1:
            more = f" (and {len(problems) - 1} more: {', '.join(names[1:])})"
        super().__init__(self.problems[0] + more)


def raise_invalid(error: ValidationError, model: type[BaseModel], prefix: Loc = ()) -> None:
    """Re-raise pydantic's error as :class:`InvalidParameters` (names start with ``prefix``)."""
    lines, names = [], []
    for item in error.errors(include_url=False):
        name, line = _problem(item, model, prefix)
        names.append(name)
        lines.append(line)
    raise InvalidParameters(lines, names) from None


def _problem(item: dict[str, Any], model: type[BaseModel], prefix: Loc) -> tuple[str, str]:
    loc: Loc = tuple(item["loc"])
    value = item.get("input", UNSET)
    cause = (item.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid):  # a rule of the model: it says what is allowed
        loc += cause.at
        if cause.value is not UNSET or cause.at:
            value = cause.value
        name = dotted(prefix + loc)
        return name, f"{name}{_equals(value)}: {cause.allowed}"
    if loc and loc[-1] == _KEY:  # a mapping's key
        name = dotted(prefix + loc[:-1])
        key_type = _field_at(model, loc)
        allowed = describe(*key_type) if key_type else item["msg"]
        hint = did_you_mean(loc[-2], _literal_values(key_type[0]) if key_type else ())
        return name, f"{name}: unknown key{hint}; expected {allowed}"
    name = dotted(prefix + loc)
    if item["type"] == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        hint = did_you_mean(loc[-1], known)
        return name, f"{name}{_equals(value)}: unknown key{hint}; known keys: {', '.join(known)}"
    field = _field_at(model, loc)
    allowed = f"expected {describe(*field)}" if field else item["msg"]
    if item["type"] == "missing":
        return name, f"{name}: missing; {allowed}"
    return name, f"{name}{_equals(value)}: {allowed}"


def dotted(loc: Loc) -> str:
    """('inference', 'snapshot', 'horizons', 1) -> 'inference.snapshot.horizons[1]'."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def show(value: Any) -> str:
    """A value as the user wrote it in YAML: 'text', 0.5, true, null, [1, 3]."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def _equals(value: Any) -> str:
    return "" if value is UNSET else f" = {show(value)}"


def did_you_mean(word: Any, candidates: Sequence[Any]) -> str:
    """' (did you mean threshold?)' when ``word`` looks like a misspelt candidate, else ''."""
    close = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# ------------------------------------------------------------------ what a field allows


_PLAIN = {bool: "true or false", date: "a date YYYY-MM-DD", Path: "a file path", Any: "any value"}


def describe(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """'a number >= 0', 'one of maximize, minimize', 'a date YYYY-MM-DD or null', ..."""
    allowed = [str(item) for item in _flat(metadata) if isinstance(item, Allowed)]
    origin = get_origin(annotation)
    if allowed:
        text = allowed[0]
    elif origin is Annotated:
        base, *extra = get_args(annotation)
        text = describe(base, (*metadata, *extra))
    elif origin is Union or origin is types.UnionType:
        members = get_args(annotation)
        others = [member for member in members if member is not type(None)]
        text = " or ".join(describe(member, metadata) for member in others)
        text += " or null" if len(others) < len(members) else ""
    elif origin is Literal:
        text = _one_of(get_args(annotation))
    elif origin is list:
        lead = "a non-empty list" if _min_length(metadata) else "a list"
        text = f"{lead}, each item {describe(get_args(annotation)[0])}"
    elif origin is dict:
        key, item = get_args(annotation)
        text = f"a mapping from {describe(key)} to {describe(item)}"
    else:
        text = _describe_plain(annotation, metadata)
    return text


def _describe_plain(annotation: Any, metadata: Sequence[Any]) -> str:
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    if annotation is int or annotation is float:
        return ("an integer" if annotation is int else "a number") + _range(metadata)
    if annotation is str:
        return "a non-empty text" if _min_length(metadata) else "a text"
    if isclass(annotation) and issubclass(annotation, BaseModel):
        return f"a mapping with keys {', '.join(annotation.model_fields)}"
    return getattr(annotation, "__name__", str(annotation))


def _one_of(values: Sequence[Any]) -> str:
    shown = [str(value) for value in values]
    return f"exactly {shown[0]}" if len(shown) == 1 else f"one of {', '.join(shown)}"


def _flat(metadata: Sequence[Any]) -> Iterator[Any]:
    for item in metadata:
        if isinstance(item, FieldInfo):
            yield from item.metadata
        else:
            yield item


def _min_length(metadata: Sequence[Any]) -> int:
    lengths = [m.min_length for m in _flat(metadata) if isinstance(m, annotated_types.MinLen)]
    return max(lengths, default=0)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _range(metadata: Sequence[Any]) -> str:
    low = high = None  # (bound, inclusive)
    for item in _flat(metadata):
        if isinstance(item, annotated_types.Ge):
            low = (item.ge, True)
        elif isinstance(item, annotated_types.Gt):
            low = (item.gt, False)
        elif isinstance(item, annotated_types.Le):
            high = (item.le, True)
        elif isinstance(item, annotated_types.Lt):
            high = (item.lt, False)
    if low and high:
        left, right = "[" if low[1] else "(", "]" if high[1] else ")"
        return f" in {left}{_number(low[0])}, {_number(high[0])}{right}"
    if low:
        return f" {'>=' if low[1] else '>'} {_number(low[0])}"
    if high:
        return f" {'<=' if high[1] else '<'} {_number(high[0])}"
    return ""


# ------------------------------------------------------------------ walking a model by loc


def unwrap(annotation: Any, metadata: tuple = ()) -> tuple[Any, tuple]:
    """Drop Annotated (keeping its metadata) and the None of an optional."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata = (*metadata, *extra)
        elif origin is Union or origin is types.UnionType:
            members = [m for m in get_args(annotation) if m is not type(None)]
            if len(members) != 1:
                return annotation, metadata
            annotation = members[0]
        else:
            return annotation, metadata


def _field_at(model: type[BaseModel], loc: Loc) -> tuple[Any, tuple] | None:
    """(annotation, metadata) of the field at ``loc``; a trailing '[key]' gives the key type."""
    annotation: Any = model
    metadata: tuple = ()
    for index, part in enumerate(loc):
        if part == _KEY:
            continue
        bare, _ = unwrap(annotation, metadata)
        origin = get_origin(bare)
        if isclass(bare) and issubclass(bare, BaseModel):
            field = bare.model_fields.get(str(part))
            if field is None:
                return None
            annotation, metadata = field.annotation, tuple(field.metadata)
        elif origin is list and isinstance(part, int):
            annotation, metadata = get_args(bare)[0], ()
        elif origin is dict:
            is_key = index + 1 < len(loc) and loc[index + 1] == _KEY
            annotation, metadata = get_args(bare)[0 if is_key else 1], ()
        else:
            return None
    return annotation, metadata


def _known_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    field = _field_at(model, loc)
    bare = unwrap(*field)[0] if field else None
    if isclass(bare) and issubclass(bare, BaseModel):
        return list(bare.model_fields)
    return []


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    bare = unwrap(annotation, ())[0]
    return get_args(bare) if get_origin(bare) is Literal else ()
