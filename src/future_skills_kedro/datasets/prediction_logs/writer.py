"""Append a run's records to the daily log files: checked, encoded by polars, all or nothing.

1. Every batch is checked and typed by :func:`future_skills_kedro.prediction_log.record_table`
   (an invalid record fails the run before anything is written).
2. polars' NDJSON writer encodes it (``write_ndjson`` on the Arrow table: Rust, no Python
   per row). It replaced a hand-written encoder built on Arrow string fragments, which
   ``benchmarks/bench_prediction_logs.py`` still measures side by side: for 1M records
   4.5 CPU-s and 366 MB here against 5.3 CPU-s and 753 MB (the checks included); at 100k
   the two are within 0.2 s (docs/prediction-logs.md). Not slower, so no hand-written code.
   Slices of ``_ENCODE_ROWS`` rows are encoded by one thread per core (polars releases the
   GIL), in order, while the calling thread checks the next batch: 1M records encoded in
   2.9 s instead of 4.8 s on 2 cores.
3. The lines are staged per UTC day, in memory up to ``_SPOOL_BYTES`` for the whole run; a
   day whose lines would go beyond moves all of them, in order, to its own unnamed file in
   the log folder (``O_TMPFILE``, or an ordinary temporary file where refused), so a run
   given as an iterable of chunks is written in bounded memory. Every ``_WRITEBACK_BYTES``
   written to the spill of a day file that does not exist yet, one background thread
   flushes it (``fdatasync``; one flush at a time, a failed one fails the run): the disk
   writes while the encoder works.
   A run whose lines were staged elsewhere (Spark's executors: :func:`stage_prediction_logs`
   writes part files, :class:`StagedPredictionLogs` lists them) is committed the same way.
4. Commit: each day file is locked with ``flock(LOCK_EX)`` in path order (two runs spanning
   the same days cannot deadlock). A day file that does not exist and whose lines are all
   in a linkable spill (the first run of a UTC day) becomes that spill: flushed, locked,
   then linked into the folder (``linkat`` of ``/proc/self/fd/N``), so nobody sees it before
   the commit ends, and nothing is copied. Otherwise (the file exists or was created
   meanwhile, lines in memory, linking refused) the staged bytes are appended at its end
   (spilled bytes copied in the kernel with ``copy_file_range``: 0.4 s instead of 1.1-1.9 s
   for 800 MB here) and fsynced. Any failure truncates every touched file back to its size
   before the run (a linked file to empty), so a run is all or nothing; after a hard crash
   (kill -9, power loss) the next writer starts on a fresh line and the reader counts the
   torn line as corrupt.
   1M records (845 MB) in 10 chunks creating their day file, on 2 shared cores: 3.8-4.7 s
   instead of 7.1-7.8 s, the commit 0.15 s instead of 2.3-2.9 s (copy 0.4 s, fsync 2 s).
"""

from __future__ import annotations

import errno
import fcntl
import io
import os
import tempfile
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from future_skills_kedro.cores import usable_cores
from future_skills_kedro.datasets.prediction_logs.files import DEFAULT_LOG_DIRECTORY, log_path
from future_skills_kedro.prediction_log import PredictionLogError, record_table

_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Arrow prints the microseconds of a us timestamp
# Rows encoded at once: bounds the encoder's temporary memory (~30 MB of JSON).
_ENCODE_ROWS = 1 << 15
# Staged bytes kept in memory per run before spilling to an unnamed file in the log folder.
_SPOOL_BYTES = 64 << 20
_COPY_BYTES = 8 << 20
# Bytes written to a spill between two background flushes (fdatasync) of it.
_WRITEBACK_BYTES = 64 << 20
_O_TMPFILE: int | None = getattr(os, "O_TMPFILE", None)
# O_TMPFILE refused (kernel, file system): the spill is an ordinary unnamed file instead.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.ENOTDIR}
# Linking a spill refused (no /proc, file system, permissions): its lines are appended.
_NO_LINK = {
    errno.EPERM,
    errno.EACCES,
    errno.EXDEV,
    errno.ENOENT,
    errno.EOPNOTSUPP,
    errno.EMLINK,
    errno.EINVAL,
    errno.ELOOP,
}
# copy_file_range refused for these files (file system, kernel): copied through memory instead.
_NO_KERNEL_COPY = {errno.ENOSYS, errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}
# Characters JSON allows raw inside strings but str.splitlines() and some editors treat as
# line breaks: escaped, so every record stays on one line for any line-oriented tool.
_LINE_SEPARATORS = {
    "\u0085".encode(): b"\\u0085",
    "\u2028".encode(): b"\\u2028",
    "\u2029".encode(): b"\\u2029",
}


def _timestamp_texts(stamps: pa.ChunkedArray) -> pa.Array:
    """ISO text of each timestamp; each distinct instant formatted once (a run shares one)."""
    micros = stamps.cast(pa.int64()).to_numpy()
    instants, positions = np.unique(micros, return_inverse=True)
    texts = pc.strftime(pa.array(instants, pa.timestamp("us", tz="UTC")), format=_TIME_FORMAT)
    return texts.take(pa.array(positions))


def encode_lines(table: pa.Table) -> bytes:
    """The NDJSON text of a nested record table: one line per row, each ending in a newline."""
    table = table.set_column(0, "timestamp", _timestamp_texts(table.column("timestamp")))
    buffer = io.BytesIO()
    pl.from_arrow(table).write_ndjson(buffer)
    payload = buffer.getvalue()
    if not payload.isascii():  # the separators below are not ASCII: most runs skip this
        for raw, escaped in _LINE_SEPARATORS.items():
            if raw in payload:
                payload = payload.replace(raw, escaped)
    if payload.count(b"\n") != table.num_rows:  # never write what the reader cannot split
        raise PredictionLogError("prediction log: the encoder did not write one line per record")
    return payload


def _utc_days(table: pa.Table) -> np.ndarray:
    stamps = table.column("timestamp").cast(pa.int64()).to_numpy()  # microseconds, UTC
    return stamps.astype("datetime64[us]").astype("datetime64[D]")


def _day_slices(table: pa.Table) -> Iterator[tuple[date, pa.Table]]:
    """(UTC day, rows) of each ``_ENCODE_ROWS`` slice of ``table``, in row order within each
    day (zero-copy slices; filtered only when the slice spans several days)."""
    days = _utc_days(table)
    unique_days = np.unique(days)
    for start in range(0, table.num_rows, _ENCODE_ROWS):
        chunk = table.slice(start, _ENCODE_ROWS)
        chunk_days = days[start : start + _ENCODE_ROWS]
        for day in unique_days:
            part = chunk if len(unique_days) == 1 else chunk.filter(pa.array(chunk_days == day))
            if part.num_rows:
                yield day.astype(date), part


def encoder_threads() -> int:
    """One encoding thread per core this process may use."""
    return usable_cores()


def _encoded_by_day(
    tables: Iterable[pa.Table], threads: int = 1
) -> Iterator[tuple[date, int, bytes]]:
    """(UTC day, rows, their NDJSON lines) of every day slice of ``tables``, in order.

    With ``threads`` > 1 the slices are encoded concurrently, at most one per thread waiting
    (memory stays bounded), while the caller goes on producing ``tables``.
    """
    if threads <= 1:
        for table in tables:
            for day, part in _day_slices(table):
                yield day, part.num_rows, encode_lines(part)
        return
    pending: deque[tuple[date, int, Future[bytes]]] = deque()
    with ThreadPoolExecutor(threads, thread_name_prefix="prediction-log-encoder") as pool:
        try:
            for table in tables:
                for day, part in _day_slices(table):
                    pending.append((day, part.num_rows, pool.submit(encode_lines, part)))
                    while len(pending) > threads:
                        day_, rows, encoded = pending.popleft()
                        yield day_, rows, encoded.result()
            while pending:
                day_, rows, encoded = pending.popleft()
                yield day_, rows, encoded.result()
        finally:  # a failure (or a caller that stops) cancels what has not started
            for *_, encoded in pending:
                encoded.cancel()


def _linkable_unnamed_file(directory: Path) -> int | None:
    """An ``O_TMPFILE`` file in ``directory`` (None where refused): no name until linked."""
    if _O_TMPFILE is None:
        return None
    try:
        return os.open(directory, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno in _NO_TMPFILE:
            return None
        raise


class _Spill:
    """One day file's staged lines in an unnamed file of the log folder: gone when closed or
    if the process dies, unless linked as the day file (:func:`_link`).

    Opened with ``O_TMPFILE`` (without ``O_EXCL``, so it can be linked); where the file
    system or kernel refuses it, a ``tempfile.TemporaryFile``, never linked.
    """

    def __init__(self, directory: Path, new_file: bool) -> None:
        self.size = 0
        self.unflushed = 0  # bytes written since the last flush was started
        self.new_file = new_file  # its day file did not exist when the day started spilling
        self._handle: IO[bytes] | None = None
        fd = _linkable_unnamed_file(directory)
        self.linkable = fd is not None
        if fd is None:  # no O_TMPFILE here: an ordinary unnamed file, never linked
            self._handle = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - close()
            fd = self._handle.fileno()
        self.fd = fd

    def write(self, payload: bytes) -> None:
        self.size = _write_at(self.fd, payload, self.size)
        self.unflushed += len(payload)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        else:
            os.close(self.fd)


class _Staging:
    """A run's encoded lines per day file: in memory up to ``_SPOOL_BYTES`` in all; a day
    whose lines would go beyond moves all of them (in order) to its own :class:`_Spill`, so
    memory stays bounded whatever the size of the run. With ``writeback``, every
    ``_WRITEBACK_BYTES`` written to a spill that may become its day file are flushed to disk
    in a background thread (one flush at a time) while the encoder works."""

    def __init__(self, directory: Path, writeback: bool = True) -> None:
        self._directory = directory
        self._writeback = writeback
        self.parts: dict[Path, list[bytes]] = {}  # lines in memory, per file
        self.spills: dict[Path, _Spill] = {}  # per file whose lines are all in a spill
        self.rows: dict[Path, int] = {}
        self.bytes_in_memory = 0
        self._flusher: ThreadPoolExecutor | None = None
        self._flush: Future[None] | None = None

    def add(self, day: date, rows: int, payload: bytes) -> None:
        path = log_path(self._directory, day)
        self.rows[path] = self.rows.get(path, 0) + rows
        parts = self.parts.setdefault(path, [])
        spill = self.spills.get(path)
        if spill is None and self.bytes_in_memory + len(payload) <= _SPOOL_BYTES:
            parts.append(payload)
            self.bytes_in_memory += len(payload)
            return
        if spill is None:  # the day starts spilling: its lines so far go first
            self._directory.mkdir(parents=True, exist_ok=True)
            spill = self.spills[path] = _Spill(self._directory, new_file=not path.exists())
            for part in parts:
                spill.write(part)
            self.bytes_in_memory -= sum(map(len, parts))
            parts.clear()
        spill.write(payload)
        if self._writeback and spill.linkable and spill.new_file:
            self._write_back(spill)

    def _write_back(self, spill: _Spill) -> None:
        """Start flushing ``spill`` once ``_WRITEBACK_BYTES`` wait, unless a flush is running."""
        if spill.unflushed < _WRITEBACK_BYTES:
            return
        if self._flush is not None:
            if not self._flush.done():
                return
            self._flush.result()  # a failed flush fails the run
        if self._flusher is None:
            self._flusher = ThreadPoolExecutor(1, thread_name_prefix="prediction-log-flush")
        self._flush = self._flusher.submit(os.fdatasync, spill.fd)
        spill.unflushed = 0

    def wait_for_flush(self) -> None:
        """Wait for the background flush, if any; raises its error."""
        flush, self._flush = self._flush, None
        if flush is not None:
            flush.result()

    def linkable(self, path: Path) -> _Spill | None:
        """The spill holding all the lines of ``path``, if it can become that file."""
        spill = self.spills.get(path)
        return spill if spill is not None and spill.linkable else None

    def copy_to(self, path: Path, fd: int, position: int) -> int:
        """Write the staged bytes of one file at ``position`` of ``fd``; returns the end."""
        spill = self.spills.get(path)
        if spill is not None:
            return _copy_range(spill.fd, 0, spill.size, fd, position)
        for part in self.parts[path]:
            position = _write_at(fd, part, position)
        return position

    def close(self) -> None:
        self.parts.clear()
        if self._flusher is not None:  # no spill is closed under a running flush
            self._flusher.shutdown(wait=True, cancel_futures=True)
        for spill in self.spills.values():
            spill.close()
        self.spills.clear()


def stage_prediction_logs(
    batches: Iterable[tuple[pd.DataFrame, int]], folder: Path, part: str
) -> dict[str, int]:
    """Check and encode records as :func:`append_prediction_logs` does, into part files of
    ``folder`` (``<YYYYMMDD>/<part>.jsonl``) instead of the day files; returns rows per day.

    For writers that are not the committing process (one Spark task per ``part``).
    ``batches``: (flat record frame, number of its first record in the run, for error
    messages). A part is written under a temporary name and renamed when complete, so a
    retried task rewrites it whole and a failed one leaves no part behind. Nothing is
    appended to a day file here: :class:`StagedPredictionLogs` lists the parts to commit.
    """
    handles: dict[str, IO[bytes]] = {}
    rows: dict[str, int] = {}
    temporary = f".{part}.{uuid.uuid4().hex[:12]}.tmp"
    try:
        tables = (record_table(records, first) for records, first in batches if len(records))
        for day, day_rows, payload in _encoded_by_day(tables):
            name = f"{day:%Y%m%d}"
            if name not in handles:
                (folder / name).mkdir(parents=True, exist_ok=True)
                handles[name] = open(folder / name / temporary, "wb")  # noqa: SIM115
            handles[name].write(payload)
            rows[name] = rows.get(name, 0) + day_rows
        for name, handle in handles.items():
            handle.close()
            os.replace(folder / name / temporary, folder / name / f"{part}.jsonl")
        return rows
    except BaseException:
        for name, handle in handles.items():
            handle.close()
            with suppress(OSError):
                os.unlink(folder / name / temporary)
        raise


@dataclass(frozen=True)
class StagedPredictionLogs:
    """A run's lines, checked and encoded into part files by :func:`stage_prediction_logs`
    (``folder/<YYYYMMDD>/<part>.jsonl``); ``parts``: (day, part, rows) of every part the run
    wrote. :func:`append_prediction_logs` appends each day's parts in part order, all or
    nothing, as it does a run it encoded itself; only the listed parts are read."""

    folder: Path
    parts: tuple[tuple[str, str, int], ...]


class _StagedParts:
    """:class:`StagedPredictionLogs` as ``_commit`` reads a staging: bytes per day file."""

    def __init__(self, directory: Path, staged: StagedPredictionLogs) -> None:
        self.parts: dict[Path, list[Path]] = {}
        self.rows: dict[Path, int] = {}
        for day, part, rows in sorted(staged.parts):
            path = log_path(directory, datetime.strptime(day, "%Y%m%d").date())
            self.parts.setdefault(path, []).append(staged.folder / day / f"{part}.jsonl")
            self.rows[path] = self.rows.get(path, 0) + int(rows)

    def copy_to(self, path: Path, fd: int, position: int) -> int:
        for part in self.parts[path]:
            with part.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                position = _copy_range(handle.fileno(), 0, size, fd, position)
        return position

    def close(self) -> None:
        """The part files belong to whoever staged them (they remove their folder)."""


def _write_at(fd: int, data: bytes, position: int) -> int:
    """os.pwrite until every byte is written (a call may write fewer); returns the end."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, position)
        if written <= 0:
            raise OSError(f"prediction log: os.pwrite wrote {written} bytes")
        view, position = view[written:], position + written
    return position


def _copy_range(source: int, offset: int, length: int, fd: int, position: int) -> int:
    """Copy ``length`` bytes from ``offset`` of ``source`` to ``position`` of ``fd`` in the
    kernel where it can (``copy_file_range``), else through memory; returns the end."""
    in_kernel = True
    while length:
        copied = None
        if in_kernel:
            try:
                copied = os.copy_file_range(source, fd, length, offset, position)
            except (AttributeError, OSError) as error:  # no such call, or not for these files
                if isinstance(error, OSError) and error.errno not in _NO_KERNEL_COPY:
                    raise
                in_kernel = False  # refused once: the rest goes through memory too
        if copied is None:
            data = os.pread(source, min(_COPY_BYTES, length), offset)
            copied = _write_at(fd, data, position) - position if data else 0
        if not copied:
            raise OSError("prediction log: the staged run was cut short")
        offset, position, length = offset + copied, position + copied, length - copied
    return position


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _link(spill: _Spill, path: Path, directory_fd: int) -> bool:
    """Make ``spill`` (flushed by the caller) the file ``path`` of the folder ``directory_fd``,
    locked exclusively before it has a name (held until its descriptor is closed or
    unlocked); False when ``path`` exists meanwhile or linking is refused (append instead)."""
    fcntl.flock(spill.fd, fcntl.LOCK_EX)
    try:
        # dst_dir_fd: linkat(AT_SYMLINK_FOLLOW), which links the file /proc/self/fd/N points
        # to (Python 3.11's plain link() would link the symbolic link itself: EXDEV).
        os.link(f"/proc/self/fd/{spill.fd}", path.name, dst_dir_fd=directory_fd)
    except FileExistsError:  # another writer created it: append to it
        return False
    except OSError as error:
        if error.errno not in _NO_LINK:
            raise
        return False
    return True


def _spills_to_link(
    staging: _Staging | _StagedParts, paths: list[Path], fsync: bool
) -> dict[Path, _Spill]:
    """The day files that do not exist and whose lines are all in a linkable spill, with
    that spill flushed (before any lock is taken, so the locks are held shorter)."""
    if not isinstance(staging, _Staging):
        return {}
    staging.wait_for_flush()  # a failed background flush fails the run
    spills = {path: spill for path in paths if (spill := staging.linkable(path))}
    spills = {path: spill for path, spill in spills.items() if not path.exists()}
    if fsync:  # a linked file holds its lines on disk from the start
        for spill in spills.values():
            os.fdatasync(spill.fd)
    return spills


def _open_locked(path: Path, closing: ExitStack) -> tuple[int, int]:
    """``path`` opened (created if need be) and locked exclusively; (fd, size before)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    closing.callback(os.close, fd)  # closing the last descriptor unlocks
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd, os.fstat(fd).st_size


def _commit(staging: _Staging | _StagedParts, fsync: bool) -> None:
    """Append each day's staged bytes under an exclusive lock, or link as the day file a spill
    that holds all its lines when it does not exist; on any failure undo every file."""
    paths = sorted(staging.parts)  # one lock order for every writer: no deadlock
    to_link = _spills_to_link(staging, paths, fsync)
    opened: list[tuple[int, int]] = []  # fd, size before this run
    linked: set[Path] = set()
    created = False
    directory_fd = -1
    with ExitStack() as closing:
        try:
            if to_link:
                directory_fd = os.open(paths[0].parent, os.O_RDONLY | os.O_DIRECTORY)
                closing.callback(os.close, directory_fd)
            for path in paths:
                # Locked before it has a name: nobody sees its lines before the commit ends.
                spill = to_link.get(path)
                if spill is None or not _link(spill, path, directory_fd):
                    created = created or not path.exists()  # appended to, created if need be
                    opened.append(_open_locked(path, closing))
                    continue
                closing.callback(fcntl.flock, spill.fd, fcntl.LOCK_UN)  # the staging closes it
                linked.add(path)
                created = True
                opened.append((spill.fd, 0))  # a created file: cut back to empty on failure
            for (fd, size), path in zip(opened, paths, strict=True):
                if path in linked:
                    continue
                # A writer killed mid-line left a torn last line: start on a fresh line so
                # only that line is lost (the reader counts it as corrupt), not our first one.
                position = size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    position = _write_at(fd, b"\n", size)
                staging.copy_to(path, fd, position)
                if fsync:
                    os.fsync(fd)
            if fsync and created:
                _fsync_directory(paths[0].parent)
        except BaseException:
            # Still holding every lock, so nobody appended after us: cut back to the old size.
            for fd, size in opened:
                with suppress(OSError):
                    os.ftruncate(fd, size)
            raise


def _record_tables(batches: Iterable[pd.DataFrame]) -> Iterator[pa.Table]:
    """Each batch checked and typed; errors number a record within the whole run."""
    first_record = 0
    for records in batches:
        if len(records):
            yield record_table(records, first_record)
        first_record += len(records)


def append_prediction_logs(
    batches: pd.DataFrame | Iterable[pd.DataFrame] | StagedPredictionLogs,
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    *,
    fsync: bool = True,
) -> dict[Path, int]:
    """Append one run's records to the daily log files; returns the rows written per file.

    ``batches``: one flat record frame (see :mod:`future_skills_kedro.prediction_log`) or an
    iterable of them, e.g. the chunks of a run scored chunk by chunk: memory stays bounded
    by one chunk, and the whole run is still written all or nothing (an invalid record or an
    error in any chunk writes nothing at all); or the parts another process staged
    (:class:`StagedPredictionLogs`).
    """
    target = Path(directory)
    if isinstance(batches, pd.DataFrame):
        batches = [batches]
    new_folder = not target.exists()
    staged = isinstance(batches, StagedPredictionLogs)
    staging = _StagedParts(target, batches) if staged else _Staging(target, fsync)
    try:
        for day, rows, payload in (
            [] if staged else _encoded_by_day(_record_tables(batches), encoder_threads())
        ):
            staging.add(day, rows, payload)
        if staging.parts:
            target.mkdir(parents=True, exist_ok=True)
            _commit(staging, fsync)
        return dict(staging.rows)
    except BaseException:
        if new_folder:  # a failed run leaves no empty log folder behind either
            with suppress(OSError):
                target.rmdir()
        raise
    finally:
        staging.close()
