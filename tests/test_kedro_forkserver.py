"""The tests' fork server for `kedro` commands (tests/kedro_forkserver.py) answers as a fresh
`kedro` process does: same exit code, stdout and stderr, the project's own code, the caller's
environment; a command past its deadline is killed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import KEDRO_SCRIPT, copy_project, kedro_env, kedro_fork_server
from tests.kedro_forkserver import kedro_shim

pytestmark = pytest.mark.integration


def _fresh(project: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(KEDRO_SCRIPT), *args],
        cwd=project,
        env=env or kedro_env(project),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _forked(project: Path, *args: str, env: dict[str, str] | None = None):
    return kedro_fork_server().run(list(args), project, env or kedro_env(project), timeout=600)


@pytest.mark.parametrize(
    "args",
    [
        ("registry", "list"),
        ("models", "show", "v9"),  # a usage error: exit 2, one line on stderr
        ("no-such-command",),
    ],
    ids=["listing", "usage-error", "unknown-command"],
)
def test_a_forked_command_answers_as_a_fresh_process(tmp_path, args):
    # Two copies: the first command on a project also creates its MLflow store (and says so).
    forked = _forked(copy_project(tmp_path / "forked"), *args)
    fresh = _fresh(copy_project(tmp_path / "fresh"), *args)
    assert (forked.returncode, forked.stdout, _untimed(forked.stderr)) == (
        fresh.returncode,
        fresh.stdout,
        _untimed(fresh.stderr),
    )
    assert forked.args == fresh.args == [str(KEDRO_SCRIPT), *args]


def _untimed(log: str) -> str:
    """Without MLflow's (2026/12/02 17:57:51) and rich's ([12/02/26 17:57:51]) timestamps."""
    log = re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ", "", log, flags=re.MULTILINE)
    return re.sub(r"^\[\d\d/\d\d/\d\d \d\d:\d\d:\d\d\] ", "", log, flags=re.MULTILINE)


def test_a_forked_run_logs_as_a_fresh_one(tmp_path):
    """conf/logging.yml of the command's folder: the console log on stderr, the full log in
    the project's info.log, nothing on stdout."""
    args = ("run", "--pipelines", "data_engineering")
    forked_project = copy_project(tmp_path / "forked")
    fresh_project = copy_project(tmp_path / "fresh")
    forked = _forked(forked_project, *args)
    fresh = _fresh(fresh_project, *args)
    assert forked.returncode == fresh.returncode == 0, forked.stderr
    assert forked.stdout == fresh.stdout == ""
    # Sorted: Kedro logs its "Replacing dataset 'params:...'" warnings in the order it finds
    # the parameters files, which can differ between two copies of the project (two runs in
    # one copy log them in the same order).
    assert sorted(_messages(forked.stderr)) == sorted(_messages(fresh.stderr))
    assert sorted(_messages((forked_project / "info.log").read_text())) == sorted(
        _messages((fresh_project / "info.log").read_text())
    )


def _messages(log: str) -> list[str]:
    """The log's lines without their time stamps and durations."""
    untimed = re.sub(r"^[\d/-]* ?\d\d:\d\d:\d\d(,\d+)? ", "", log, flags=re.MULTILINE)
    return [re.sub(r"\d+\.\d+ ?(m?s|sec)\b", "<t>", line) for line in untimed.splitlines()]


def test_a_forked_command_runs_the_projects_own_code_and_the_callers_environment(project_copy):
    registry = project_copy / "src/future_skills_kedro/pipeline_registry.py"
    registry.write_text(
        registry.read_text()
        + "\n\n_registered = register_pipelines\n\n\n"
        + "def register_pipelines():\n"
        + "    import os\n"
        + "    return _registered() | {os.environ['PROBE_PIPELINE']: Pipeline([])}\n"
    )
    env = kedro_env(project_copy) | {"PROBE_PIPELINE": "probe_from_the_copy"}
    listed = _forked(project_copy, "registry", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "probe_from_the_copy" in listed.stdout


def test_a_pythonpath_of_other_packages_is_the_forked_commands_own(project_copy, tmp_path):
    (tmp_path / "probe_names.py").write_text("NAME = 'probe_from_pythonpath'\n")
    registry = project_copy / "src/future_skills_kedro/pipeline_registry.py"
    registry.write_text(
        registry.read_text()
        + "\n\n_registered = register_pipelines\n\n\n"
        + "def register_pipelines():\n"
        + "    import probe_names\n"
        + "    return _registered() | {probe_names.NAME: Pipeline([])}\n"
    )
    env = kedro_env(project_copy)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    listed = _forked(project_copy, "registry", "list", env=env)
    assert listed is not None and listed.returncode == 0, listed and listed.stderr
    assert "probe_from_pythonpath" in listed.stdout
    # A PYTHONPATH entry holding a package the zygote has imported needs a fresh process.
    (tmp_path / "mlflow").mkdir()
    assert _forked(project_copy, "registry", "list", env=env) is None


# What `python -c` shows a script: its argv, sys.path[0], __name__, the working directory and
# environment; then what it writes, how it exits, or the traceback it dies with. Like the
# tests' scripts, it imports Kedro first: Kedro logs its logging configuration when imported,
# the forked child when it starts (tests/kedro_forkserver.py).
PROBE_SCRIPT = """
import kedro.framework.project
import atexit, os, sys, threading, time
print(sys.argv, repr(sys.path[0]), __name__, os.getcwd(), os.environ["PROBE"])
# The end of a process: non-daemon threads joined, then atexit handlers, then the buffered
# standard streams flushed (stdout is a pipe: nothing written yet).
atexit.register(lambda: print("atexit handler ran", file=sys.stderr))
threading.Thread(target=lambda: time.sleep(0.2) or print("thread finished")).start()
sys.stdout.write("no newline, not flushed")
print("to stderr", file=sys.stderr)
if sys.argv[1] == "exit":
    sys.exit(int(sys.argv[2]))
if sys.argv[1] == "message":
    sys.exit("stopped: " + sys.argv[2])
if sys.argv[1] == "raise":
    def fail():
        raise ValueError("no " + sys.argv[2])
    fail()
"""


@pytest.mark.parametrize(
    ("args", "returncode", "stderr_tail"),
    [
        (("ok", "x"), 0, "to stderr\natexit handler ran\n"),
        (("exit", "3"), 3, "to stderr\natexit handler ran\n"),
        (("exit", "-1"), 255, "to stderr\natexit handler ran\n"),
        (("message", "why"), 1, "to stderr\nstopped: why\natexit handler ran\n"),
        (("raise", "good"), 1, "ValueError: no good\natexit handler ran\n"),
    ],
)
def test_a_forked_python_script_answers_as_a_fresh_interpreter(
    tmp_path, args, returncode, stderr_tail
):
    env = kedro_env(tmp_path) | {"PROBE": "from the caller"}
    forked = kedro_fork_server().run(list(args), tmp_path, env, timeout=60, script=PROBE_SCRIPT)
    fresh = subprocess.run(
        [sys.executable, "-c", PROBE_SCRIPT, *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert forked is not None
    assert (forked.returncode, _untimed(forked.stdout), forked.stderr) == (
        fresh.returncode,
        _untimed(fresh.stdout),
        fresh.stderr,
    )
    assert forked.returncode == returncode
    assert forked.stderr.endswith(stderr_tail), forked.stderr


def test_a_changed_import_time_setting_needs_a_fresh_process(project_copy):
    env = kedro_env(project_copy) | {"PYTHONHASHSEED": "7"}
    assert _forked(project_copy, "registry", "list", env=env) is None


def test_a_command_past_its_deadline_is_killed(project_copy):
    with pytest.raises(subprocess.TimeoutExpired):
        kedro_fork_server().run(
            ["run", "--pipelines", "training"], project_copy, kedro_env(project_copy), timeout=2
        )
    assert not _processes_in(project_copy)


def _processes_in(directory: Path) -> list[int]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(os.readlink(f"/proc/{pid}/cwd")) == directory:
                found.append(int(pid))
        except OSError:  # gone, or not ours to read
            continue
    return found


def test_the_shim_runs_a_shell_command_with_its_streams_and_exit_code(project_copy, tmp_path):
    shim_dir = tmp_path / "bin"
    shim_dir.mkdir()
    kedro_shim(shim_dir, kedro_fork_server().address)
    env = kedro_env(project_copy)
    env["PATH"] = f"{shim_dir}{os.pathsep}{env['PATH']}"
    script = "kedro registry list >listed.txt 2>/dev/null; echo $?; kedro no-such-command; echo $?"
    shell = subprocess.run(
        ["bash", "-c", script],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    fresh_listing = _fresh(project_copy, "registry", "list")
    fresh_error = _fresh(project_copy, "no-such-command")
    assert (project_copy / "listed.txt").read_text() == fresh_listing.stdout
    assert shell.stdout.splitlines() == ["0", str(fresh_error.returncode)]
    assert shell.stderr == fresh_error.stderr
