"""A fork server for the real `kedro` CLI in tests: the interpreter start-up and the imports
of kedro, MLflow, scikit-learn, pandas... are paid once per test process, not per command.

A fresh `kedro` process spends seconds of CPU importing its stack before it reads a single
option; the CLI tests start hundreds of them. Here one process, the zygote, imports that stack
once (PRELOAD) and then forks a child per command. The child takes the caller's working
directory, environment, arguments and standard streams (passed over a Unix socket), and runs
kedro's own CLI ``main`` exactly as the `kedro` console script does; it ends as an interpreter
does (exit status, threads joined, atexit handlers, streams flushed), then leaves with
``os._exit`` as multiprocessing's forked children do (:func:`_exit`). Every command
still loads the project's settings, hooks, pipelines and configuration from its own project
directory: nothing of the project (``future_skills_kedro``) is imported by the zygote.

What the zygote keeps from its own start, and so must not differ between calls, is what Python
and the libraries read once at import time: ``PYTHON*`` variables, the thread-pool sizes, the
locale and the logging/terminal settings (IMPORT_TIME_VARIABLES). A call whose environment
differs in one of them is answered "fresh", and runs in a new `kedro` process instead.

Fork safety: the zygote starts no Python thread and no native thread other than the
allocators' (FORK_SAFE_NATIVE_THREADS; checked after PRELOAD: it refuses to serve otherwise),
opens no database engine or connection, and does not import the module whose
import emits the MLflow warning the project silences (``kedro_mlflow.mlflow``), so every
warning a command prints, it prints itself. ``TESTS_FRESH_KEDRO=1`` turns the fork server off
(tests/conftest.py): every command is then a fresh process, as a user runs it.

Two clients: ``ForkServer.run`` (``run_kedro`` in tests/conftest.py) and ``kedro_shim``, a
`kedro` executable put first on PATH for shell scripts (tests/test_docs_commands.py).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import inspect
import json
import locale
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

# Imported once by the zygote: what every `kedro` command of this project imports before it
# does anything (kedro's CLI and plugins' commands) and the heavy libraries of its runs.
PRELOAD = (
    "kedro.framework.cli",
    "kedro.framework.cli.starters",
    "kedro.framework.session",
    "kedro.runner",
    "kedro.io",
    "kedro.config",
    "kedro.pipeline",
    "kedro_datasets.pandas",
    "kedro_datasets.json",
    "kedro_datasets.pickle",
    "kedro_datasets.text",
    "kedro_viz.launchers.cli.main",
    "mlflow",
    "mlflow.pyfunc",
    "mlflow.models",
    "mlflow.tracking",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "sqlalchemy",
    "alembic",
    "numpy",
    "scipy.stats",
    "pandas",
    "pyarrow",
    "pyarrow.parquet",
    "pyarrow.json",
    "polars",
    "orjson",
    "sklearn.ensemble",
    "sklearn.linear_model",
    "sklearn.model_selection",
    "sklearn.inspection",
    "sklearn.metrics",
    "sklearn.preprocessing",
    "sklearn.pipeline",
    "sklearn.compose",
    "sklearn.calibration",
    "pandera",
    "pydantic",
    "semver",
    "prometheus_client",
    "evidently",
    # What a command imports lazily after that, measured with `python -X importtime` on a
    # forked `kedro run` (~0.7 s of its ~1 s of imports): MLflow's start_run looks for
    # Databricks (IPython) and the git commit (GitPython); the plot datasets; pandera's checks.
    "IPython",
    "git",
    "matplotlib.pyplot",
    "kedro_datasets.matplotlib",
    "pandera.backends.pandas.builtin_checks",
)
# Imported by a command itself, never by the zygote (see the module docstring).
NEVER_PRELOADED = ("future_skills_kedro", "kedro_mlflow.mlflow")

# Native threads that importing MLflow starts in every `kedro` process (MLflow imports pandas,
# pyarrow and polars): jemalloc's background purgers (pyarrow's and polars' allocators; jemalloc
# takes its locks around fork() and restarts them in the child when needed) and polars'
# out-of-core spill cleaner (idle: the zygote runs no polars query). The child starts without
# them, as after any fork; any other thread is refused.
FORK_SAFE_NATIVE_THREADS = frozenset({"jemalloc_bg_thd", "polars-ooc-clea"})

IMPORT_TIME_VARIABLES = (
    "PYTHON",
    "OMP_",
    "OPENBLAS_",
    "MKL_",
    "LANG",
    "LC_",
    "KEDRO_LOGGING_CONFIG",
    "MLFLOW_LOGGING_LEVEL",
    "MLFLOW_CONFIGURE_LOGGING",
    "MPL",  # matplotlib reads MPLBACKEND and MPLCONFIGDIR when imported
    "COLUMNS",
    "LINES",
    "TERM",
    "NO_COLOR",
    "FORCE_COLOR",
)

KEDRO_SCRIPT = Path(sys.executable).with_name("kedro")


def import_time_settings(env: dict[str, str]) -> dict[str, str]:
    """The variables of ``env`` that a process reads while it imports its modules."""
    return {name: value for name, value in env.items() if name.startswith(IMPORT_TIME_VARIABLES)}


# ------------------------------------------------------------------------------ client side
def _send(connection: socket.socket, message: dict, fds: list[int] | None = None) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:
        socket.send_fds(connection, [data], fds)
    else:
        connection.sendall(data)


class _Lines:
    """JSON messages, one a line, read from a socket."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""

    def next(self) -> dict:
        while b"\n" not in self._buffer:
            chunk = self._connection.recv(4096)
            if not chunk:
                raise ConnectionError("the kedro fork server closed the connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


def _decode(data: bytes) -> str:
    # What subprocess.run(text=True) does with a child's output.
    text = data.decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


class ForkServer:
    """A zygote process for `kedro` commands (one per test process)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="kedro-forkserver-"))
        self.address = str(self._directory / "socket")
        self._log = self._directory / "zygote.log"
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, __file__, self.address],
                env=env,
                cwd=self._directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        while not self._answers():
            if self._process.poll() is not None:
                raise RuntimeError(f"the kedro fork server did not start:\n{self._log.read_text()}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(self.address)
            except (FileNotFoundError, ConnectionRefusedError):
                return False
            _send(probe, {"ping": True})
            return "pong" in _Lines(probe).next()

    def run(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str],
        timeout: float,
        script: str | None = None,
    ) -> subprocess.CompletedProcess | None:
        """Run `kedro args...` (or, given ``script``, `python -c script args...`) in ``cwd``
        with ``env``, its output captured as by ``subprocess.run(capture_output=True,
        text=True)``; None when the command needs a fresh process (see IMPORT_TIME_VARIABLES)."""
        if script is None:
            command = [str(KEDRO_SCRIPT), *args]
        else:
            command = [sys.executable, "-c", script, *args]
        with (
            tempfile.TemporaryFile() as stdout,
            tempfile.TemporaryFile() as stderr,
            open(os.devnull, "rb") as stdin,
            socket.socket(socket.AF_UNIX) as connection,
        ):
            connection.connect(self.address)
            request = {"args": list(args), "cwd": str(cwd), "env": env, "script": script}
            _send(connection, request, [stdin.fileno(), stdout.fileno(), stderr.fileno()])
            messages = _Lines(connection)
            started = messages.next()
            if "fresh" in started:
                return None
            connection.settimeout(timeout)
            try:
                returncode = messages.next()["returncode"]
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(started["pid"], signal.SIGKILL)
                connection.settimeout(30)
                messages.next()  # reaped
                raise subprocess.TimeoutExpired(
                    command, timeout, output=_read(stdout), stderr=_read(stderr)
                ) from None
            return subprocess.CompletedProcess(command, returncode, _read(stdout), _read(stderr))

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        with contextlib.suppress(OSError):
            os.unlink(self.address)
        with contextlib.suppress(OSError):
            self._log.unlink()
            self._directory.rmdir()


def _read(file) -> str:
    file.seek(0)
    return _decode(file.read())


def kedro_shim(directory: Path, address: str) -> Path:
    """A `kedro` executable in ``directory`` that runs each command on the fork server at
    ``address`` with the caller's working directory, environment and standard streams, or
    execs the real `kedro` when the server answers "fresh". Put ``directory`` first on PATH."""
    shim = directory / "kedro"
    shim.write_text(
        f"#!{sys.executable} -IS\n"
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from tests.kedro_forkserver import shim_main\n"
        f"shim_main({address!r})\n"
    )
    shim.chmod(0o755)
    return shim


def shim_main(address: str) -> None:
    """The shim's body: exits with the command's status (128 + N when killed by signal N)."""
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(address)
        request = {"args": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}
        _send(connection, request, [0, 1, 2])
        messages = _Lines(connection)
        if "fresh" in messages.next():
            os.execv(KEDRO_SCRIPT, [str(KEDRO_SCRIPT), *sys.argv[1:]])
        returncode = messages.next()["returncode"]
    sys.exit(128 - returncode if returncode < 0 else returncode)


# ------------------------------------------------------------------------------ zygote side
def _preload() -> None:
    with warnings.catch_warnings(record=True) as caught:
        for module in PRELOAD:
            __import__(module)
    # Kedro loads settings.py through dynaconf, which calls inspect.stack(): inspect then maps
    # every loaded module to its real path, once per process. Mapped here, a command maps only
    # the modules it imports itself (about 0.3 s of a forked `kedro models list`).
    inspect.stack()
    # MLflow maps every installed distribution to its modules (importlib.metadata over the
    # venv's ~270) the first time a process loads a model and checks the model's requirements
    # against the environment: 0.6 s of CPU in every command that loads the champion, the same
    # map each time (the venv does not change during a test run). Mapped once, here.
    from mlflow.utils.requirements_utils import _init_modules_to_packages_map

    _init_modules_to_packages_map()
    problems = [f"import warned: {w.category.__name__}: {w.message}" for w in caught]
    problems += [
        f"{name} was imported"
        for name in NEVER_PRELOADED
        if any(m == name or m.startswith(name + ".") for m in sys.modules)
    ]
    if threading.active_count() != 1:
        problems.append(f"Python threads after the imports: {threading.enumerate()}")
    native = [_thread_name(task) for task in os.listdir("/proc/self/task")]
    unknown = [name for name in native[1:] if name not in FORK_SAFE_NATIVE_THREADS]
    if unknown:
        problems.append(f"native threads after the imports: {unknown}")
    if problems:
        raise RuntimeError("the kedro fork server cannot serve: " + "; ".join(problems))


def _reap(*_) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


def _pythonpath(env: dict[str, str]) -> list[str]:
    return [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]


def _can_serve(env: dict[str, str], zygote_settings: dict[str, str]) -> bool:
    """Same import-time settings, but for PYTHONPATH entries that hold none of the packages
    the zygote has imported (Kedro exports the project's src/ there; the command's sys.path
    gets them)."""
    settings = import_time_settings(env)
    if {**settings, "PYTHONPATH": ""} != {**zygote_settings, "PYTHONPATH": ""}:
        return False
    imported = {name.split(".")[0] for name in sys.modules}
    return not any(
        (Path(entry) / name).exists() or (Path(entry) / f"{name}.py").exists()
        for entry in set(_pythonpath(env)) - set(_pythonpath(dict(os.environ)))
        for name in imported
    )


def _thread_name(task: str) -> str:
    return Path(f"/proc/self/task/{task}/comm").read_text().strip()


_ZYGOTE_PYTHONPATH = os.environ.get("PYTHONPATH", "")


def _serve(address: str) -> dict:
    """Accept requests until stopped; returns only in a command's process, with its request."""
    _preload()
    # The preloaded stack (~500k objects) lives as long as every command: out of the garbage
    # collector's sight, each command's collections skip it (and touch none of its pages).
    gc.freeze()
    zygote_settings = import_time_settings(dict(os.environ))
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(address)
    listener.listen(16)
    # Children report to their caller themselves; the zygote only reaps them (waited for,
    # their CPU time counts in the zygote's, and so in the test process's, RUSAGE_CHILDREN).
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        connection, _ = listener.accept()
        data, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        while not data.endswith(b"\n"):
            data += connection.recv(1 << 20)
        request = json.loads(data)
        if "ping" in request:
            _send(connection, {"pong": True})
            connection.close()
            continue
        if not _can_serve(request["env"], zygote_settings):
            _send(connection, {"fresh": "import-time settings differ"})
            for fd in fds:
                os.close(fd)
            connection.close()
            continue
        sys.stderr.flush()
        if os.fork() == 0:  # the reporter: starts the command, tells the caller how it ended
            listener.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _become_the_command(request, fds)
                connection.close()
                return request
            for fd in fds:
                os.close(fd)
            _send(connection, {"pid": pid})
            _, status = os.waitpid(pid, 0)
            _send(connection, {"returncode": os.waitstatus_to_exitcode(status)})
            os._exit(0)
        for fd in fds:
            os.close(fd)
        connection.close()


def _become_the_command(request: dict, fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # As the console script starts: its own folder first on sys.path, its path as argv[0];
    # as `python -c` starts: the working directory ("") first, "-c" as argv[0].
    script = request.get("script") is not None
    sys.path[0] = "" if script else str(KEDRO_SCRIPT.parent)
    zygote_entries = _pythonpath({"PYTHONPATH": _ZYGOTE_PYTHONPATH})
    rest = [entry for entry in sys.path[1:] if entry not in zygote_entries]
    sys.path[1:] = [*_pythonpath(request["env"]), *rest]
    sys.argv = ["-c" if script else str(KEDRO_SCRIPT), *request["args"]]
    # Kedro configures logging when kedro.framework.project is imported, from the working
    # directory's conf/logging.yml (else its own default): again, as in the command's folder
    # (the zygote imported it elsewhere; the file handlers' relative paths resolve here).
    if "kedro.framework.project" in sys.modules:
        sys.modules["kedro.framework.project"].LOGGING.__init__()
    # A fresh process draws its own seeds (`random` reseeds itself after a fork).
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()


def _run_script(script: str) -> None:
    """``python -c script``: the code runs as the ``__main__`` module."""
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    exec(compile(script, "<string>", "exec"), main.__dict__)


def _exit(command: Callable[[], object]) -> NoReturn:
    """Run ``command`` and end as the interpreter ends a process, but for its last step.

    As Python does: a SystemExit's code is the status (a non-integer one printed, status 1);
    any other uncaught exception goes to ``sys.excepthook`` (without this module's frames;
    Kedro's logging installs rich's), status 1; then non-daemon threads are joined, atexit handlers
    run (MLflow ends its run, logging flushes its handlers, weakref finalizers such as
    temporary directories' run) and the standard streams are flushed. Python would then tear
    down every module: deallocating the zygote's ~500k preloaded objects writes to each of its
    pages, copied for this child first (0.3 s of a forked command). The child leaves with
    ``os._exit`` instead, as multiprocessing's forked children do: an object still referenced
    at exit is not deallocated (an unclosed file's buffer is not flushed, unlike in a fresh
    process; TESTS_FRESH_KEDRO=1 runs every command fresh).
    """
    status = 0
    try:
        command()
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            status = exit_.code or 0
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    except BaseException as error:  # reported as the interpreter reports it
        trace = error.__traceback__
        while trace is not None and trace.tb_frame.f_code.co_filename == __file__:
            trace = trace.tb_next  # from the command's first frame, as a fresh process shows
        sys.excepthook(type(error), error, trace)
        status = 1
    threading._shutdown()  # private: what the interpreter itself calls at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status & 0xFF)


if __name__ == "__main__":
    request = _serve(sys.argv[1])
    if request.get("script") is not None:
        _exit(lambda: _run_script(request["script"]))
    from kedro.framework.cli import main

    _exit(main)
