"""The parameter reference cannot drift: the yml Type lines and docs/parameters.md are the
models' own words."""

from __future__ import annotations

import shutil
from pathlib import Path

from future_skills_kedro.parameters.reference import FILES, render, write_type_lines

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONF = PROJECT_ROOT / "conf/base"
FIX = "python -m future_skills_kedro.parameters.reference"


def test_every_parameter_is_documented_in_its_yml_with_the_models_type_line(tmp_path):
    for file in dict.fromkeys(FILES.values()):
        shutil.copy(CONF / file, tmp_path / file)
    missing = write_type_lines(tmp_path)
    assert missing == [], f"add these keys, commented, to conf/base: {missing}"
    for file in dict.fromkeys(FILES.values()):
        assert (tmp_path / file).read_text() == (CONF / file).read_text(), (
            f"conf/base/{file}: a Type line differs from its model; run `{FIX} --write-type-lines`"
        )


def test_docs_parameters_md_is_generated_from_the_models_and_the_yml():
    expected = render(CONF)
    assert (PROJECT_ROOT / "docs/parameters.md").read_text() == expected, (
        f"docs/parameters.md is out of date; run `{FIX} > docs/parameters.md`"
    )
