"""Frames passed between nodes without copying them, each node still isolated from the others.

Kedro's ``MemoryDataset`` copies a pandas frame on every save and every load (``copy_mode``
"copy": ``DataFrame.copy()``, a deep copy), so that a node changing its input cannot change
what the next node reads. With pandas' copy-on-write (the only mode since pandas 3) a shallow
copy gives that isolation already: it shares the data until one side writes, and then only the
written column is copied. At a million rows the deep copies cost a full snapshot's worth of
memory per load (a node reading three frames held three extra copies at once).

:class:`ProjectDataCatalog` (``settings.DATA_CATALOG_CLASS``) makes every dataset the catalog
does not declare a :class:`CopyOnWriteMemoryDataset`; declared ``MemoryDataset`` entries keep
their own ``copy_mode``.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

from kedro.io import DataCatalog, MemoryDataset


class CopyOnWriteMemoryDataset(MemoryDataset):
    """A ``MemoryDataset`` whose pandas frames and series are shallow copies (copy-on-write).

    Anything else is copied as ``MemoryDataset`` does by default (numpy arrays copied, other
    objects deep-copied, unless ``copy_mode`` says otherwise).
    """

    def load(self) -> Any:
        if self._holds_pandas():
            return self._data.copy(deep=False)
        return super().load()

    def save(self, data: Any) -> None:
        if self._copy_mode is None and _is_pandas(data):
            self._data = data.copy(deep=False)
        else:
            super().save(data)

    def _holds_pandas(self) -> bool:
        return self._copy_mode is None and _is_pandas(self._data)


def _is_pandas(data: Any) -> bool:
    # Not imported here: the project settings import this module, and every kedro command
    # would pay for pandas. A frame exists only once pandas is imported.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(data, pandas.DataFrame | pandas.Series)


class ProjectDataCatalog(DataCatalog):
    """The project's catalog: undeclared datasets are :class:`CopyOnWriteMemoryDataset`."""

    default_runtime_patterns: ClassVar = {
        "{default}": {"type": "future_skills_kedro.data_catalog.CopyOnWriteMemoryDataset"}
    }
