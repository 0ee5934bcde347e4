"""The parameter reference (docs/parameters.md), generated so that it cannot drift.

Type, range and default come from the models; what a parameter is for comes from the comment
above its key in conf/base/parameters*.yml, whose ``Type: ... Default: ...`` line must match
the model (tests/parameters/test_reference.py checks both). From the project root::

    python -m future_skills_kedro.parameters.reference > docs/parameters.md
    python -m future_skills_kedro.parameters.reference --write-type-lines  # in conf/base
"""

from __future__ import annotations

import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from inspect import isclass
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from future_skills_kedro.parameters.errors import describe, unwrap
from future_skills_kedro.parameters.project import ProjectParameters

# The file documenting each top-level key (relative to conf/base).
FILES = {
    "mlflow_experiments": "parameters.yml",
    "data_engineering": "parameters_data_engineering.yml",
    "training": "parameters_training.yml",
    "tuning": "parameters_tuning.yml",
    "evaluation": "parameters_evaluation.yml",
    "inference": "parameters_inference.yml",
    "monitoring": "parameters_monitoring.yml",
    "lifecycle": "parameters_lifecycle.yml",
    "retraining": "parameters_retraining.yml",
}
# Keys given on the command line only, never in a file.
RUNTIME_ONLY = {
    "scoring_alias": "The registered model inference scores, for one run: "
    "`kedro run --pipelines inference --params scoring_alias=challenger`. Unset: the champion "
    "(the catalog's `${runtime_params:scoring_alias,champion}`).",
    "spark": "Spark settings for one `--env spark` run, over conf/spark/spark.yml: "
    "`--params spark.sql.shuffle.partitions=400,spark.executor.memory=8g` (docs/spark.md). "
    "Read by the Spark hook; without conf/<env>/spark.yml they are ignored.",
}
ENTRY = "<name>"  # a path step through a mapping entry (a rule's name, a column)
_KEY_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[A-Za-z_]\w*)\s*:(?P<rest>.*)$")


@dataclass(frozen=True)
class FieldDoc:
    """One parameter: its dotted path, what it allows, its default, where it is written."""

    path: tuple[str, ...]
    allowed: str
    default: str  # as in YAML, or "required"
    in_file: bool  # a fixed key of a yml file (not inside a mapping entry, not run-time only)
    description: str = ""  # from the model, for fields inside mapping entries

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def spec(self) -> str:
        """The line the yml comment above the key carries."""
        return f"Type: {self.allowed}. Default: {self.default}."


def yaml_text(value: Any) -> str:
    """A default as it would be written in the yml."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(yaml_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {yaml_text(item)}" for key, item in value.items()) + "}"
    return str(value)


def _model(annotation: Any) -> type[BaseModel] | None:
    bare = unwrap(annotation, ())[0]
    return bare if isclass(bare) and issubclass(bare, BaseModel) else None


def _has_required_field(model: type[BaseModel]) -> bool:
    # Such a model with a default (a drift test) is one value: its default is the whole mapping.
    return any(field.is_required() for field in model.model_fields.values())


def field_docs(
    model: type[BaseModel] = ProjectParameters, prefix: tuple[str, ...] = (), in_file: bool = True
) -> Iterator[FieldDoc]:
    """Every parameter below ``model``, depth first; sections are walked, not listed."""
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        fixed = in_file and path[0] not in RUNTIME_ONLY
        section = _model(field.annotation)
        if section is not None and (field.is_required() or not _has_required_field(section)):
            yield from field_docs(section, path, fixed)  # a section: its keys are documented
            continue
        if field.is_required():
            default = "required"
        elif field.default_factory is not None:
            default = yaml_text(field.default_factory())
        else:
            default = yaml_text(field.default if field.default is not PydanticUndefined else None)
        yield FieldDoc(
            path,
            describe(field.annotation, tuple(field.metadata)),
            default,
            fixed,
            field.description or RUNTIME_ONLY.get(".".join(path), ""),
        )
        bare = unwrap(field.annotation, ())[0]
        if get_origin(bare) is dict and (entry := _model(get_args(bare)[1])) is not None:
            yield from field_docs(entry, (*path, ENTRY), in_file=False)


def yml_comments(path: Path) -> dict[tuple[str, ...], str]:
    """The comment above (and after) each key of a yml file, by the key's path."""
    comments: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        found = _KEY_LINE.match(line)
        if not found:
            pending = []
            continue
        indent = len(found["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, found["key"]))
        inline = found["rest"].split(" #", 1)[1].strip() if " #" in found["rest"] else ""
        comments[tuple(key for _, key in stack)] = " ".join([*pending, inline]).strip()
        pending = []
    return comments


def documented_comments(conf_dir: Path) -> dict[tuple[str, ...], str]:
    """Comments of every key of the parameter files in ``conf_dir``."""
    comments: dict[tuple[str, ...], str] = {}
    for file in dict.fromkeys(FILES.values()):
        comments |= yml_comments(conf_dir / file)
    return comments


def _cell(text: str) -> str:
    """Table-safe Markdown: no column break, no accidental bold or emphasis."""
    for special in ("|", "*", "__"):
        text = text.replace(special, "".join(f"\\{char}" for char in special))
    return " ".join(text.split())


def render(conf_dir: Path) -> str:
    """docs/parameters.md."""
    comments = documented_comments(conf_dir)
    lines = [
        "# Parameters",
        "",
        "<!-- Generated by `python -m future_skills_kedro.parameters.reference` from the",
        "     parameter models and the comments of conf/base/parameters*.yml. Do not edit. -->",
        "",
        "Every parameter of the project, with its type, allowed values and default. The values",
        "in use are in `conf/base/parameters*.yml` (commented there), overridden per",
        "environment in `conf/<env>/` or for one run with `--params`, e.g.",
        '`kedro run --pipelines training --params "lifecycle.promotion.threshold=0.02"`.',
        "A `conf/<env>/parameters*.yml` file overrides only the keys it names: the rest of",
        "each section keeps its `conf/base` value.",
        "",
        "`kedro run` checks every parameter, those of `--params` included, before any node runs",
        "or any MLflow run starts. A wrong type, an unknown key, a value out of range or an",
        "unknown metric stops the run with exit code 2 and one line that names the parameter,",
        "its value and what is allowed, for example:",
        "",
        "```text",
        "Error: lifecycle.promotion.threshold = 'abc': expected a number >= 0",
        "```",
        "",
        "`kedro models ...` checks the `lifecycle` section the same way. A key left out of a",
        "file takes the default below. `<name>` stands for an entry of a mapping (a rule's name,",
        "a column).",
    ]
    section = None
    for doc in field_docs():
        top = doc.path[0]
        if top != section:
            section = top
            where = f"`conf/base/{FILES[top]}`" if top in FILES else "run-time only"
            lines += [
                "",
                f"## {top}",
                "",
                f"In {where}.",
                "",
                "| Parameter | Type and allowed values | Default | Description |",
                "|---|---|---|---|",
            ]
        description = doc.description or comments.get(doc.path, "").replace(doc.spec, "")
        lines.append(
            f"| `{doc.name}` | {_cell(doc.allowed)} | `{doc.default}` | {_cell(description)} |"
        )
    return "\n".join(lines) + "\n"


def write_type_lines(conf_dir: Path) -> list[str]:
    """Rewrite the ``Type: ... Default: ...`` comment above every key of the parameter files
    from the models (the other comments stay); returns the parameters no file has a key for."""
    docs = {doc.path: doc for doc in field_docs() if doc.in_file}
    for file in dict.fromkeys(FILES.values()):
        path = conf_dir / file
        lines: list[str] = []
        stack: list[tuple[int, str]] = []
        old_type_line: int | None = None  # where the key's old Type line(s) start
        for line in path.read_text(encoding="utf-8").splitlines():
            comment = line.strip().startswith("#")
            if comment and line.strip().startswith("# Type: "):
                old_type_line = len(lines)
            found = None if comment else _KEY_LINE.match(line)
            if found is None:
                lines.append(line)
                old_type_line = old_type_line if comment else None
                continue
            if old_type_line is not None:
                del lines[old_type_line:]
                old_type_line = None
            indent = len(found["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, found["key"]))
            doc = docs.pop(tuple(key for _, key in stack), None)
            if doc is not None:
                prefix = " " * indent + "# "
                lines += textwrap.wrap(
                    doc.spec,
                    100,
                    initial_indent=prefix,
                    subsequent_indent=prefix,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            lines.append(line)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [doc.name for doc in docs.values()]


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["--write-type-lines"]:
        missing = write_type_lines(Path(args[1] if len(args) > 1 else "conf/base"))
        if missing:
            sys.exit(f"no key in the parameter files for: {', '.join(missing)}")
        return
    sys.stdout.write(render(Path(args[0] if args else "conf/base")))


if __name__ == "__main__":
    main()
