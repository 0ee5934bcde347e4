"""A text file replaced atomically: a failed or interrupted save leaves the old file whole."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset

from future_skills_kedro.atomic_files import atomic_write_text


class AtomicTextDataset(AbstractDataset[str, str]):
    """Load: the file's UTF-8 text. Save: a temporary sibling renamed over the file."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = PurePosixPath(filepath)
        self.metadata = metadata

    def load(self) -> str:
        return Path(self._filepath).read_text(encoding="utf-8")

    def save(self, data: str) -> None:
        atomic_write_text(Path(self._filepath), data)

    def _exists(self) -> bool:
        return Path(self._filepath).is_file()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}
