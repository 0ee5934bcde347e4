"""Where prediction logs live: one ``predictions_YYYYMMDD.jsonl`` per UTC day, one folder."""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path

DEFAULT_LOG_DIRECTORY = "data/07_model_output/prediction_logs"
FILE_PREFIX = "predictions_"
FILE_SUFFIX = ".jsonl"
_FILE_NAME = re.compile(rf"{FILE_PREFIX}(\d{{8}}){re.escape(FILE_SUFFIX)}")


def log_path(directory: str | os.PathLike[str], day: date) -> Path:
    """The file of one UTC day."""
    return Path(directory) / f"{FILE_PREFIX}{day:%Y%m%d}{FILE_SUFFIX}"


def log_files(
    directory: str | os.PathLike[str] = DEFAULT_LOG_DIRECTORY,
    first_day: date | None = None,
    last_day: date | None = None,
) -> list[Path]:
    """The daily files of ``directory`` whose day (from the file name) is in the range, by day.

    Other files (notes, temporary files, a misnamed day) are never read.
    """
    folder = Path(directory)
    if not folder.is_dir():
        return []
    selected = []
    for path in folder.iterdir():
        match = _FILE_NAME.fullmatch(path.name)
        if not match or not path.is_file():
            continue
        try:
            day = datetime.strptime(match.group(1), "%Y%m%d").date()
        except ValueError:
            continue
        if (first_day is None or day >= first_day) and (last_day is None or day <= last_day):
            selected.append((day, path))
    return [path for _, path in sorted(selected)]
