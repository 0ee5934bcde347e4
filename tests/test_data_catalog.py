"""Frames between nodes: shared until written (copy-on-write), each node isolated all the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
from kedro.io import MemoryDataset
from kedro.pipeline import node, pipeline
from kedro.runner import SequentialRunner

from future_skills_kedro import settings
from future_skills_kedro.data_catalog import CopyOnWriteMemoryDataset, ProjectDataCatalog


def _frame(rows: int = 1000) -> pd.DataFrame:
    return pd.DataFrame(
        {"score": np.arange(rows, dtype="float64"), "name": [f"r{i}" for i in range(rows)]}
    )


def test_a_loaded_frame_shares_the_saved_data_instead_of_copying_it():
    frame = _frame()
    dataset = CopyOnWriteMemoryDataset()
    dataset.save(frame)
    loaded = dataset.load()

    assert loaded is not frame
    assert np.shares_memory(loaded["score"].to_numpy(), frame["score"].to_numpy())
    # Kedro's own MemoryDataset copies it (what this dataset avoids).
    plain = MemoryDataset(frame)
    assert not np.shares_memory(plain.load()["score"].to_numpy(), frame["score"].to_numpy())


def test_a_node_changing_its_input_does_not_change_what_the_next_node_reads():
    def overwrite(frame: pd.DataFrame) -> int:
        frame["score"] = -1.0
        frame.loc[0, "name"] = "changed"
        frame.iloc[1, 0] = 99.0
        return len(frame)

    def read(frame: pd.DataFrame, _: int) -> pd.DataFrame:
        return frame

    catalog = ProjectDataCatalog({"frame": CopyOnWriteMemoryDataset(_frame(5))})
    outputs = SequentialRunner().run(
        pipeline(
            [
                node(overwrite, "frame", "rows", name="overwrite"),
                node(read, ["frame", "rows"], "seen", name="read"),
            ]
        ),
        catalog,
    )
    pd.testing.assert_frame_equal(outputs["seen"].load(), _frame(5))


def test_datasets_the_catalog_does_not_declare_are_copy_on_write():
    catalog = ProjectDataCatalog({"declared": MemoryDataset(copy_mode="deepcopy")})
    undeclared = catalog.get("scorable_rows", fallback_to_runtime_pattern=True)

    assert type(undeclared) is CopyOnWriteMemoryDataset
    assert type(catalog.get("declared")) is MemoryDataset
    assert settings.DATA_CATALOG_CLASS is ProjectDataCatalog


def test_other_objects_are_copied_as_kedro_does():
    values = {"rows": [1, 2]}
    dataset = CopyOnWriteMemoryDataset(values)
    loaded = dataset.load()
    loaded["rows"].append(3)
    assert dataset.load() == {"rows": [1, 2]}
    assigned = CopyOnWriteMemoryDataset(_frame(3), copy_mode="assign")
    assert assigned.load() is assigned.load()
