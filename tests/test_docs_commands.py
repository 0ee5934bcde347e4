"""Documentation as tests: the shell blocks of README.md and docs/*.md run as written.

Every shell block is marked `<!-- tested -->` or `<!-- illustrative: <reason> -->`
(docs/architecture.md, "Contributing to the docs"). The tested blocks run, page by page in
SCENARIO's order, in one fresh copy of the project with the real CLI. Each command must exit
0 unless EXPECTED says otherwise; EXPECTED also checks the claims a page makes next to a
command where they are cheap to check (a decision line, a file written, a status). Servers
run on free loopback ports and are stopped at the end.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.conftest import (
    FAST_TRAINING_PARAMS,
    PROJECT_ROOT,
    copy_project,
    free_port,
    fresh_kedro_only,
    kedro_env,
    kedro_fork_server,
    wait_for_http,
)
from tests.docs_blocks import Block, shell_blocks, unlabelled_command_blocks
from tests.kedro_forkserver import kedro_shim

# The pages with tested blocks, in the order a new user would follow them in one checkout:
# the first training (inference.md) before what needs a champion, lifecycle commands after
# the training runs that make versions, README's generator last (it rewrites data/01_raw).
SCENARIO = (
    "docs/inference.md",
    "docs/lifecycle.md",
    "docs/pipelines.md",
    "docs/monitoring.md",
    "docs/prediction-logs.md",
    "docs/operations.md",
    "README.md",
)
# Ports the docs name, replaced by free ones in tested blocks (several test runs share a host).
DOCUMENTED_PORTS = ("5000", "5001")
_PORT = re.compile(r"(?:(?<=127\.0\.0\.1:)|(?<=--port ))(" + "|".join(DOCUMENTED_PORTS) + r")\b")
# The copy trains the smaller model of the other integration tests (written over the copy's
# conf/base file); the commands are the docs' own.
# The tests' fast model settings (FAST_TRAINING_PARAMS), as paths under `training`: the
# documented commands run as written, so the settings go into the copy's parameter files.
FAST_TRAINING = {
    tuple(name.split(".")[1:]): yaml.safe_load(value)
    for name, value in (item.split("=", 1) for item in FAST_TRAINING_PARAMS.split(","))
}


@dataclass(frozen=True)
class Result:
    where: str
    command: str
    returncode: int
    stdout: str
    stderr: str
    summary: dict | None = None  # monitoring_summary.json right after the command

    def __str__(self) -> str:
        return (
            f"{self.where}: `{self.command}` exited {self.returncode}\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


Check = Callable[[Result, Path], None]


def _exits(code: int) -> Check:
    def check(result: Result, project: Path) -> None:
        assert result.returncode == code, str(result)

    return check


def _decision(version: int, semver: str = "", stage: str = "") -> Check:
    """A training run's only stdout line: `future-skills-model vN = X.Y.Z -> stage: ...`."""

    def check(result: Result, project: Path) -> None:
        assert result.returncode == 0, str(result)
        pattern = rf"future-skills-model v{version} = {re.escape(semver)}[\d.]* -> {stage}"
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1 and re.match(pattern, lines[0]), str(result)

    return check


def _refused(message: str) -> Check:
    """Exit 1 and one `Error: ...` line on stderr naming why."""

    def check(result: Result, project: Path) -> None:
        assert result.returncode == 1, str(result)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1 and message in errors[0], str(result)

    return check


def _files(*paths: str) -> Check:
    def check(result: Result, project: Path) -> None:
        assert result.returncode == 0, str(result)
        for path in paths:
            assert list(project.glob(path)), f"{result.where}: no {path}\n{result}"

    return check


def _all(*checks: Check) -> Check:
    def check(result: Result, project: Path) -> None:
        for each in checks:
            each(result, project)

    return check


def _json(test: Callable[[object], bool]) -> Check:
    def check(result: Result, project: Path) -> None:
        assert result.returncode == 0, str(result)
        assert test(json.loads(result.stdout)), str(result)

    return check


def _table(*columns: str) -> Check:
    """Only the table on stdout: its first line is the header."""

    def check(result: Result, project: Path) -> None:
        assert result.returncode == 0, str(result)
        assert result.stdout.splitlines()[0].split()[: len(columns)] == list(columns), str(result)

    return check


def _one_line() -> Check:
    def check(result: Result, project: Path) -> None:
        assert result.returncode == 0 and len(result.stdout.strip().splitlines()) == 1, str(result)

    return check


def _summary(test: Callable[[dict], bool]) -> Check:
    def check(result: Result, project: Path) -> None:
        assert result.summary is not None and test(result.summary), str(result)

    return check


def _served(answer: dict) -> bool:
    columns = {"predicted_need_level", "prob_LOW", "prob_MEDIUM", "prob_HIGH", "confidence"}
    rows = answer["predictions"]
    return len(rows) == 2 and all(set(row) == columns for row in rows)


def _status_exit(failing: set[str]) -> Check:
    """docs/monitoring.md's table: non-zero exactly when the status is one that fails."""

    def check(result: Result, project: Path) -> None:
        assert result.summary is not None, str(result)
        status = result.summary["status"]
        assert (result.returncode != 0) == (status in failing), f"status {status}\n{result}"

    return check


DEFAULT_FAILING = {"unhealthy", "no_data"}
SUMMARY = "data/08_reporting/monitoring/monitoring_summary.json"
MONITORING_OUTPUTS = _files(
    "data/08_reporting/monitoring/monitoring_summary.json",
    "data/08_reporting/monitoring/drift_report.html",
    "data/08_reporting/monitoring/metrics.prom",
)
# (page, command as written, without its trailing comment) -> what the page claims of it.
EXPECTED: dict[tuple[str, str], Check] = {
    ("docs/inference.md", "kedro run --pipelines training"): _decision(1, "1.0.0", "champion"),
    ("docs/inference.md", "kedro run --pipelines inference"): _files(
        "data/07_model_output/predictions.parquet",
        "data/07_model_output/prediction_logs/predictions_*.jsonl",
    ),
    (
        "docs/inference.md",
        "curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' -d '{",
    ): _json(_served),
    (
        "docs/lifecycle.md",
        'kedro run --pipelines training --params "lifecycle.semver_override=2.0.0"',
    ): _decision(2, "2.0.0"),
    (
        "docs/pipelines.md",
        "kedro run --pipelines training --from-nodes training.train_classifier",
    ): _decision(3),
    ("docs/monitoring.md", "kedro run --pipelines monitoring"): _all(
        MONITORING_OUTPUTS, _status_exit(DEFAULT_FAILING)
    ),
    # A fresh copy logged predictions today only: that window is `no_data`, exit non-zero.
    (
        "docs/monitoring.md",
        'kedro run --pipelines monitoring --params "monitoring.window.end_date=2025-06-30"',
    ): _all(
        _summary(lambda s: s["window"]["end"] == "2025-06-30" and s["status"] == "no_data"),
        _status_exit(DEFAULT_FAILING),
    ),
    (
        "docs/monitoring.md",
        'kedro run --pipelines monitoring --params "monitoring.exit_policy.fail_on=degraded"',
    ): _status_exit({"degraded", *DEFAULT_FAILING}),
    ("docs/monitoring.md", "promtool check rules future-skills.yml"): _all(
        _exits(0), _files("future-skills.yml")
    ),
    (
        "docs/prediction-logs.md",
        "kedro run --pipelines monitoring --params "
        '"monitoring.window.purposes=shadow,monitoring.exit_policy.fail_on=never"',
    ): _summary(lambda s: s["window"]["purposes"] == ["shadow"]),
    # "It does not retrain, and says why on one line (exit 0)".
    ("docs/operations.md", "kedro models retrain-if-needed --dry-run"): _one_line(),
    ("docs/operations.md", "kedro models retrain-if-needed"): _one_line(),
    ("docs/operations.md", "kedro models retrain-if-needed --format json"): _json(
        lambda answer: answer["retrain"] is False and answer["reason"]
    ),
    ("docs/operations.md", "kedro run --pipelines evaluation"): _files(
        "data/08_reporting/evaluation/*"
    ),
    (
        "docs/operations.md",
        'kedro models promote challenger --reason "better on Q3 labels, approved by HR analytics"',
    ): _refused("the policy refuses"),
    ("README.md", "python -m future_skills_kedro.datagen --seed 7 --output-dir data/01_raw"): (
        _files("data/01_raw/generator_oracle.json")
    ),
    # "each command writes only its table ... to stdout; logs, warnings and errors go to stderr"
    ("README.md", "kedro models list"): _table("version", "semver", "stage", "aliases"),
    # The operations page's forced promotion of v3 was rolled back; no retraining was due.
    ("README.md", "kedro models list --format json"): _json(
        lambda answer: answer["champion"] == 1 and len(answer["versions"]) == 3
    ),
}


def _key(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command.splitlines()[0]).strip()


# ---------------------------------------------------------------- the guard
def test_every_shell_block_is_tested_or_illustrative():
    unmarked = [block.where for block in shell_blocks() if block.marker is None]
    assert not unmarked, (
        "shell blocks neither `<!-- tested -->` nor `<!-- illustrative: <reason> -->` "
        f"(see docs/architecture.md, 'Contributing to the docs'): {unmarked}"
    )


def test_every_illustrative_block_says_why():
    silent = [b.where for b in shell_blocks() if b.marker == "illustrative" and not b.reason]
    assert not silent, f"illustrative blocks without a reason: {silent}"


def test_every_tested_block_is_on_a_page_the_scenario_runs():
    orphans = [b.where for b in shell_blocks() if b.marker == "tested" and b.page not in SCENARIO]
    assert not orphans, f"tested blocks on pages missing from SCENARIO: {orphans}"


def test_tested_blocks_are_commands_not_crontabs():
    crontabs = [b.where for b in shell_blocks() if b.marker == "tested" and b.language == "cron"]
    assert not crontabs, f"a crontab is not run by tests, mark it illustrative: {crontabs}"


def test_a_command_block_says_it_is_shell():
    unlabelled = [block.where for block in unlabelled_command_blocks()]
    assert not unlabelled, f"blocks starting with a command need ```bash (or ```text): {unlabelled}"


def test_every_expectation_names_a_tested_command():
    tested = {
        (block.page, _key(command))
        for block in shell_blocks()
        if block.marker == "tested"
        for command in block.commands()
    }
    assert not set(EXPECTED) - tested, sorted(set(EXPECTED) - tested)


# ---------------------------------------------------------------- the run
@pytest.mark.integration
def test_documented_commands_run_as_written(tmp_path):
    project = copy_project(tmp_path)
    _train_the_smaller_model(project)
    ports = {port: str(free_port()) for port in DOCUMENTED_PORTS}
    state = tmp_path / "state"
    state.mkdir()
    env = _shell_env(project, tmp_path / "bin")
    servers: list[subprocess.Popen] = []
    failures: list[str] = []
    documented = shell_blocks()  # read once: the pages as they were when the test started
    try:
        for page in SCENARIO:
            for block in documented:
                if block.page == page and block.marker == "tested":
                    _run_block(block, project, env, state, ports, servers, failures)
    finally:
        for server in servers:
            _stop(server)
    assert not failures, "\n\n".join(failures)


def _train_the_smaller_model(project: Path) -> None:
    # Each key is set in the one file that holds it: the tuned hyperparameters are in
    # parameters_tuned.yml (Kedro refuses a key written in two files).
    files = [
        project / "conf/base" / name for name in ("parameters_training.yml", "parameters_tuned.yml")
    ]
    contents = {file: yaml.safe_load(file.read_text()) for file in files}
    for path, value in FAST_TRAINING.items():
        for parameters in contents.values():
            section = parameters["training"]
            for name in path[:-1]:
                section = section.get(name) or {}
            if path[-1] in section:
                section[path[-1]] = value
                break
        else:
            raise AssertionError(f"training.{'.'.join(path)} is in no conf/base parameters file")
    for file, parameters in contents.items():
        file.write_text(yaml.safe_dump(parameters))


def _shell_env(project: Path, shim_dir: Path) -> dict[str, str]:
    env = kedro_env(project)
    # `kedro`, `mlflow` and `python` are this environment's, as after `. .venv/bin/activate`.
    path = [str(Path(sys.executable).parent), env.get("PATH", "")]
    if not fresh_kedro_only():
        # `kedro` runs the real CLI on the test process's fork server (start-up imports paid
        # once, tests/kedro_forkserver.py); TESTS_FRESH_KEDRO=1 runs the venv's script itself.
        shim_dir.mkdir()
        kedro_shim(shim_dir, kedro_fork_server().address)
        path.insert(0, str(shim_dir))
    env["PATH"] = os.pathsep.join(path)
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parents[1])
    return env


def _run_block(
    block: Block,
    project: Path,
    env: dict[str, str],
    state: Path,
    ports: dict[str, str],
    servers: list[subprocess.Popen],
    failures: list[str],
) -> None:
    commands = [_PORT.sub(lambda m: ports[m[1]], command) for command in block.commands()]
    restore = f'[ -f "{state}/env" ] && . "{state}/env"\n'
    if block.ready_url:
        log = state / f"server-{block.line}.log"
        with log.open("w") as out:
            server = subprocess.Popen(
                ["bash", "-c", restore + "\n".join(commands)],
                cwd=project,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # servers fork workers: stop the whole group
            )
        servers.append(server)
        url = _PORT.sub(lambda m: ports[m[1]], block.ready_url)
        wait_for_http(url, server, block.where, log, timeout_s=180)
        return
    # One shell per block (variables carry from line to line), each command's output and
    # status kept apart; exported variables carry to the next blocks.
    script = [restore]
    for number, command in enumerate(commands):
        out = state / f"{Path(block.page).stem}-{block.line}-{number}"
        script.append(
            f'{{\n{command}\n}} >"{out}.out" 2>"{out}.err" </dev/null; echo $? >"{out}.rc"\n'
            # a later command of the block may rewrite it before the checks run
            f'cp "{project / SUMMARY}" "{out}.summary" 2>/dev/null\n'
        )
    script.append(f'export -p >"{state}/env"\n')
    subprocess.run(["bash", "-c", "".join(script)], cwd=project, env=env, check=True, timeout=1800)
    for number, (written, command) in enumerate(zip(block.commands(), commands, strict=True)):
        out = state / f"{Path(block.page).stem}-{block.line}-{number}"
        snapshot = out.with_suffix(".summary")
        result = Result(
            where=block.where,
            command=command,
            returncode=int(out.with_suffix(".rc").read_text()),
            stdout=out.with_suffix(".out").read_text(),
            stderr=out.with_suffix(".err").read_text(),
            summary=json.loads(snapshot.read_text()) if snapshot.exists() else None,
        )
        try:
            EXPECTED.get((block.page, _key(written)), _exits(0))(result, project)
        except AssertionError as error:
            failures.append(str(error))


def _stop(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- the runner itself
def _block(text: str, line: int = 10) -> Block:
    return Block(PROJECT_ROOT / "guide" / "page.txt", line, "bash", text, "tested", "")


def test_a_block_splits_into_whole_commands():
    text = (
        "# a comment line\n"
        "kedro run --pipelines training      # trailing comment\n"
        "mlflow models serve -m x \\\n    --port 5001\n"
        "curl -d '{\n  \"a\": 1\n}'\n"
        "kedro run --pipelines evaluation    # champion's rows\n"
        "                                    # and the challenger's\n"
    )
    assert _block(text).commands() == [
        "kedro run --pipelines training      # trailing comment",
        "mlflow models serve -m x \\\n    --port 5001",
        "curl -d '{\n  \"a\": 1\n}'",
        "kedro run --pipelines evaluation    # champion's rows",
    ]


def test_the_runner_carries_exports_and_names_a_failing_command(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    failures: list[str] = []
    env = {"PATH": os.environ["PATH"]}
    first = _block('export GREETING=hello\nWORD=there\ntest "$WORD" = there', line=1)
    second = _block('test "$GREETING" = hello\ntest -z "$WORD"\nfalse', line=20)
    for block in (first, second):
        _run_block(block, tmp_path, env, state, {}, [], failures)
    assert len(failures) == 1 and failures[0].startswith("guide/page.txt:20: `false` exited 1")
