"""The registered pipelines and the catalog's kedro-viz layers, as `kedro viz` reads them."""

from __future__ import annotations

import ast

import yaml
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT

EXPECTED = {
    "__default__",
    "data_engineering",
    "training",
    "evaluation",
    "inference",
    "monitoring",
    "monitoring_backtest",
    "tuning",
}
PIPELINES_DIR = PROJECT_ROOT / "src/future_skills_kedro/pipelines"
# One namespace per pipeline folder: kedro-viz shows each as a collapsible modular pipeline.
NAMESPACES = EXPECTED - {"__default__"}


def _pipelines():
    bootstrap_project(PROJECT_ROOT)
    from kedro.framework.project import pipelines

    return pipelines


def _layers() -> dict[str, str]:
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    return {
        name: entry["metadata"]["kedro-viz"]["layer"]
        for name, entry in catalog.items()
        if isinstance(entry, dict) and "layer" in (entry.get("metadata") or {}).get("kedro-viz", {})
    }


def _layer_edges(pipeline, layers: dict[str, str]) -> set[tuple[str, str]]:
    """Layer -> layer edges, walking through datasets that have no layer (as kedro-viz does)."""
    downstream: dict[str, set[str]] = {}
    for node in pipeline.nodes:
        for name in node.inputs:
            downstream.setdefault(name, set()).update(node.outputs)
    edges = set()
    for start in (name for name in downstream if name in layers):
        stack, seen = list(downstream[start]), set()
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            if name in layers:
                edges.add((layers[start], layers[name]))
            else:
                stack.extend(downstream.get(name, ()))
    return {(a, b) for a, b in edges if a != b}


def _has_cycle(edges: set[tuple[str, str]]) -> bool:
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    visiting, done = set(), set()

    def visit(layer: str) -> bool:
        if layer in done:
            return False
        if layer in visiting:
            return True
        visiting.add(layer)
        cyclic = any(visit(nxt) for nxt in graph.get(layer, ()))
        visiting.discard(layer)
        done.add(layer)
        return cyclic

    return any(visit(layer) for layer in list(graph))


def test_every_pipeline_is_registered_and_default_is_training():
    pipelines = _pipelines()
    assert set(pipelines) >= EXPECTED
    assert pipelines["__default__"] is pipelines["training"] or len(
        pipelines["__default__"].nodes
    ) == len(pipelines["training"].nodes)
    assert hasattr(pipelines["__default__"], "log_model_kwargs"), "default must register a model"


def test_nodes_are_grouped_by_pipeline_namespace_and_datasets_keep_their_names():
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    for name, pipeline in _pipelines().items():
        namespaces = {node.namespace for node in pipeline.nodes}
        assert namespaces <= NAMESPACES, f"{name}: {namespaces}"
        assert (name if name in NAMESPACES else "training") in namespaces
        datasets = pipeline.all_inputs() | pipeline.all_outputs()
        # prefix_datasets_with_namespace=False: catalog entries are matched as before.
        assert not {ds for ds in datasets if "." in ds and not ds.startswith("params:")}
        assert {ds for ds in datasets if ds in catalog}, f"{name} reads the catalog"


def test_every_catalog_dataset_has_a_kedro_viz_layer():
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    declared = {name for name in catalog if not name.startswith("_")}
    assert declared - set(_layers()) == set()


def test_kedro_viz_layers_form_no_cycle():
    layers = _layers()
    for name, pipeline in _pipelines().items():
        edges = _layer_edges(pipeline, layers)
        assert not _has_cycle(edges), f"{name}: layer cycle in {sorted(edges)}"


def test_the_cycle_check_detects_a_cycle():
    assert _has_cycle({("models", "model_output"), ("model_output", "models")})
    assert not _has_cycle({("raw", "intermediate"), ("intermediate", "model_input")})


def _own_nodes(package_name: str) -> set[str]:
    import importlib

    package = importlib.import_module(f"future_skills_kedro.pipelines.{package_name}")
    return {node.name for node in package.create_pipeline().nodes}


def test_pipeline_packages_hold_their_own_nodes_and_the_registry_composes_them():
    pipelines = _pipelines()
    validation = _own_nodes("data_engineering")
    assert {node.name for node in pipelines["data_engineering"].nodes} == validation
    for name in ("training", "evaluation", "inference", "monitoring_backtest"):
        own = _own_nodes(name)
        assert own and not own & validation, f"{name} package carries data_engineering nodes"
        expected = set(validation)
        if name == "inference":  # reads no label history (see the next test)
            expected -= {
                f"data_engineering.{label_node}"
                for label_node in (
                    "validate_skill_need_labels",
                    "check_label_signals",
                    "build_model_input_table",
                )
            }
        assert {node.name for node in pipelines[name].nodes} == expected | own, name
    assert {node.name for node in pipelines["monitoring"].nodes} == _own_nodes("monitoring")
    # tuning: training's split in front, so the study sees the same training quarters
    assert {node.name for node in pipelines["tuning"].nodes} == validation | _own_nodes(
        "tuning"
    ) | {"training.split_train_holdout"}
    # The registered model name comes from the configuration at run time, not from code.
    assert "registered_model_name" not in pipelines["training"].log_model_kwargs


def _imports(path) -> set[tuple[int, str]]:
    """(relative level, module) of every import in a file; level 0 for absolute imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {(0, alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add((node.level, node.module or ""))
    return found


def test_no_pipeline_package_imports_another():
    packages = sorted(p for p in PIPELINES_DIR.iterdir() if (p / "__init__.py").exists())
    assert {p.name for p in packages} == NAMESPACES
    for package in packages:
        for path in package.glob("*.py"):
            for level, module in _imports(path):
                other = (
                    module.split(".")[2]
                    if level == 0 and module.startswith("future_skills_kedro.pipelines.")
                    else None
                )
                assert level <= 1, f"{path.name} of {package.name} imports {'.' * level}{module}"
                assert other in (None, package.name), f"{package.name}/{path.name} imports {module}"


def test_inference_validates_the_signal_files_but_not_the_label_history():
    pipelines = _pipelines()
    inference = {node.name for node in pipelines["inference"].nodes}
    training = {node.name for node in pipelines["training"].nodes}

    assert "data_engineering.build_model_input_table" in training
    assert "model_input_table" not in pipelines["inference"].all_outputs()
    # The label file is not even an input: inference runs without it.
    assert "skill_need_labels" in pipelines["training"].inputs()
    assert "skill_need_labels" not in pipelines["inference"].inputs()
    for name in ("validate_skill_need_labels", "check_label_signals", "build_model_input_table"):
        assert f"data_engineering.{name}" in training
        assert f"data_engineering.{name}" not in inference
    # The files it scores from are validated and gated exactly as for training.
    for name in (
        "validate_internal_signals",
        "check_referential_integrity",
        "enforce_rejected_share_limit",
        "publish_validated_tables",
    ):
        assert f"data_engineering.{name}" in inference
