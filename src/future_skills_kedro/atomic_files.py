"""Replace a file atomically: write a temporary sibling, fsync, rename over the target.

A crash leaves either the old file or the new one, never half of one, and no temporary file
behind. Shared by the audit log, the Prometheus textfile and the data generator; no Kedro
import (the lifecycle package uses it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

DEFAULT_MODE = 0o644


def atomic_write(
    path: str | os.PathLike, write_to: Callable[[Path], object], *, mode: int | None = None
) -> None:
    """Replace ``path`` with what ``write_to(temporary_path)`` writes.

    ``mode``: permission bits of the new file; None keeps those of the file it replaces
    (0o644 for a new file). mkstemp alone would leave it 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name starts with "." and ends in ".tmp": collectors that watch the folder
    # (node_exporter reads *.prom) ignore it.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, _mode_of(path) if mode is None else mode)
        write_to(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def atomic_write_text(path: str | os.PathLike, text: str, *, mode: int | None = None) -> None:
    """``atomic_write`` of UTF-8 text."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), mode=mode)


def _mode_of(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return DEFAULT_MODE


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) on Windows.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
