"""Real servers for the team-setup tests: Debian's PostgreSQL and an `mlflow server` on loopback.

They do what README "Team setup" tells a team to do, on free ports in a temporary directory,
and always stop what they started (context managers, also when a test fails).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import free_port, wait_for_http

DB_USER = "mlflow"


def postgres_bin_dir() -> Path | None:
    """Debian's newest PostgreSQL server binaries, or None when the package is missing."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    candidates = [path for path in candidates if (path / "pg_ctl").exists()]
    return candidates[-1] if candidates else None


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb refuses to run as root; CI runs as root, a developer usually not.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        )
    return result


@dataclass(frozen=True)
class Postgres:
    port: int
    password: str
    data_dir: Path

    def uri(self, database: str) -> str:
        return f"postgresql://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def postgres_server(password: str, databases: tuple[str, ...]) -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster: password auth over TCP on 127.0.0.1 only."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    # Not under pytest's tmp dir: its parents are private to the user running the tests,
    # and the server runs as `postgres`.
    root = Path(tempfile.mkdtemp(prefix="fsk-postgres-"))
    data_dir = root / "data"
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
    os.chmod(root, 0o700)
    port = free_port()
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        _run(
            _as_postgres_user(
                [
                    str(bin_dir / "initdb"),
                    "--pgdata",
                    str(data_dir),
                    "--username",
                    DB_USER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-host",
                    "scram-sha-256",
                    "--auth-local",
                    "scram-sha-256",
                    "--encoding",
                    "UTF8",
                ]
            )
        )
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        log = str(root / "log")
        _run(
            _as_postgres_user(
                [pg_ctl, "-D", str(data_dir), "-o", options, "-l", log, "-w", "start"]
            )
        )
        started = True
        env = {**os.environ, "PGPASSWORD": password}
        for database in databases:
            createdb = [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port)]
            _run([*createdb, "-U", DB_USER, database], env=env)
        yield Postgres(port=port, password=password, data_dir=data_dir)
    finally:
        if started:
            subprocess.run(
                _as_postgres_user([pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


@dataclass(frozen=True)
class MlflowServer:
    url: str
    admin_user: str
    admin_password: str
    log_path: Path
    process_group: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def commands(self) -> list[str]:
        """The command lines of the server's processes (its workers, any job runner)."""
        lines = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                group = int(stat.read_text().rsplit(")", 1)[1].split()[2])
                if group == self.process_group:
                    lines.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" "))
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
        return [line.decode(errors="replace") for line in lines]


@contextlib.contextmanager
def mlflow_server(
    postgres: Postgres,
    workdir: Path,
    admin_password: str,
    backend_db: str = "mlflow",
    auth_db: str = "mlflow_auth",
    timeout_s: float = 120,
) -> Iterator[MlflowServer]:
    """`mlflow server` with basic auth, runs and registry in PostgreSQL, proxied artifacts."""
    workdir.mkdir(parents=True, exist_ok=True)
    auth_ini = workdir / "basic_auth.ini"
    auth_ini.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = {postgres.uri(auth_db)}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # Without it every request pays a PBKDF2 password check: the server, not training,
        # became the bottleneck of a run's hundreds of logging calls.
        "auth_cache_ttl_seconds = 60\n"
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / "mlflow-server.log"
    mlflow = Path(sys.executable).with_name("mlflow")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env |= {
        "MLFLOW_AUTH_CONFIG_PATH": str(auth_ini),
        "MLFLOW_AUTH_ADMIN_PASSWORD": admin_password,
        # As README "Team setup": the database password stays out of the process list.
        "MLFLOW_BACKEND_STORE_URI": postgres.uri(backend_db),
        # CSRF protection of the auth app's forms; a team keeps one key for all its servers.
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        # As docs/team-setup.md: no GenAI job runner (seven Huey consumers importing MLflow).
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    command = [
        str(mlflow),
        "server",
        "--app-name",
        "basic-auth",
        "--artifacts-destination",
        str(workdir / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log_path.open("w") as log:
        # Own process group: the server forks workers, stop them all.
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        wait_for_http(f"{url}/health", process, "mlflow server", log_path, timeout_s)
        yield MlflowServer(url, "admin", admin_password, log_path, process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
