"""Serialise lifecycle decisions with an exclusive ``flock`` on a lock file.

The lock covers processes on one host sharing the project directory (the embedded SQLite
store). ``flock`` is unreliable on some network filesystems: with a shared MLflow server and
several hosts, put the lock file on a filesystem that supports it or run decisions from one
place (see ``service.py``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from future_skills_kedro.lifecycle.registry import utc_now_iso

DEFAULT_TIMEOUT_S = 120.0


class LockTimeout(TimeoutError):
    """Another lifecycle decision held the lock for longer than the timeout."""


class LockUnavailable(OSError):
    """The lock file cannot be created (missing permission, read-only filesystem)."""


@contextmanager
def decision_lock(
    path: str | os.PathLike, timeout_s: float = DEFAULT_TIMEOUT_S, poll_s: float = 0.05
) -> Iterator[Path]:
    """Hold an exclusive lock on ``path`` (created if needed) for the ``with`` block.

    Raises :class:`LockTimeout` naming the path and the last holder after ``timeout_s``.
    The lock is released by the OS if the process dies, so a crash never leaves it stuck.
    """
    import fcntl  # POSIX only; imported here so the package still imports elsewhere

    lock_path = Path(path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    raise LockTimeout(
                        f"could not lock {lock_path} within {timeout_s:g}s: another model "
                        f"lifecycle decision is running ({holder}); retry when it finishes"
                    ) from None
                time.sleep(poll_s)
        # Who holds it, for the error message of the next waiter (diagnostic only).
        os.ftruncate(fd, 0)
        os.pwrite(
            fd, f"pid={os.getpid()} host={socket.gethostname()} since={utc_now_iso()}\n".encode(), 0
        )
        try:
            yield lock_path
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode(errors="replace").strip() or "holder unknown"
    except OSError:
        return "holder unknown"


def ensure_lock_file(path: str | os.PathLike) -> None:
    """Create the lock file (and its folder) now, so that a later decision cannot fail on it."""
    lock_path = Path(path)
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644))
    except OSError as exc:
        raise LockUnavailable(f"cannot create the decision lock {lock_path}: {exc}") from exc


def lock_is_held(path: str | os.PathLike) -> bool:
    """True while a decision holds the lock; read-only (a missing lock file means free)."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)
