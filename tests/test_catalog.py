"""Every file the catalog names lives under the project, whatever the working directory."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_project, kedro_env, run_python

# A session opened from notebooks/, as `kedro jupyter` does; prints each dataset's location.
DESCRIBE_CATALOG = """
import json, sys
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
bootstrap_project(sys.argv[1])
with KedroSession.create(project_path=sys.argv[1]) as session:
    catalog = session.load_context().catalog
    found = {}
    for name in catalog.keys():
        described = catalog.get(name)._describe()
        inner = described.get("dataset") or {}  # kedro-mlflow's artifact wrapper
        for key in ("filepath", "path", "directory"):
            for where in (described, inner if isinstance(inner, dict) else {}):
                if where.get(key):
                    found[name] = str(where[key])
print(json.dumps(found))
"""


@pytest.mark.integration
def test_file_datasets_resolve_to_the_project_root_from_a_subdirectory(tmp_path):
    project = copy_project(tmp_path)
    (project / "notebooks").mkdir()
    result = run_python(
        DESCRIBE_CATALOG, str(project), cwd=project / "notebooks", env=kedro_env(project)
    )
    assert result.returncode == 0, result.stderr[-4000:]
    locations = json.loads(result.stdout.strip().splitlines()[-1])
    # The prediction logs (a directory) are among them: inference writes, monitoring reads.
    assert {"prediction_log_batch", "monitoring_prediction_logs", "model_input_table"} <= set(
        locations
    )
    root = project.resolve().as_posix()
    misplaced = {n: p for n, p in locations.items() if not p.startswith(root)}
    assert not misplaced, f"relative to the working directory, not the project: {misplaced}"
