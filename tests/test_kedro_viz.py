"""`kedro viz` in a real browser: the built site shows every registered pipeline's nodes.

Builds the static site with the real ``kedro viz build`` in a fresh-clone-like copy (no data
outputs, no MLflow store), serves it on a loopback port and drives Debian's Chromium with
Playwright (never ``playwright install``). Screenshots go to ``$TEST_ARTIFACTS_DIR``
(default ``test-artifacts/``); copy ``kedro-viz-overview.png`` to ``docs/images/kedro-viz.png``
to refresh the docs image.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT, copy_project, run_kedro

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
VIEWPORT = {"width": 1600, "height": 1000}
# kedro-viz reads its UI settings from localStorage: no onboarding pop-up over the graph,
# and labels exactly as Kedro names nodes and datasets (pretty names off).
UI_SETTINGS = (
    "localStorage.setItem('KedroViz',"
    " JSON.stringify({showFeatureHints: false, isPrettyName: false}))"
)


def _unavailable(reason: str) -> None:
    """Skip on a developer machine; CI installs Chromium and Playwright, so fail there."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _artifacts_dir() -> Path:
    path = Path(os.environ.get("TEST_ARTIFACTS_DIR") or PROJECT_ROOT / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _kedro_pipelines() -> dict:
    bootstrap_project(PROJECT_ROOT)
    from kedro.framework.project import pipelines

    return dict(pipelines)


def _catalog_layers() -> dict[str, str]:
    catalog = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog.yml").read_text())
    return {
        name: entry["metadata"]["kedro-viz"]["layer"]
        for name, entry in catalog.items()
        if not name.startswith("_") and (entry.get("metadata") or {}).get("kedro-viz")
    }


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def viz_site(tmp_path_factory) -> Path:
    """The static site ``kedro viz build`` writes in a fresh-clone-like copy."""
    project = copy_project(tmp_path_factory.mktemp("kedro_viz"))
    result = run_kedro(project, "viz", "build")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    site = project / "build"
    assert (site / "index.html").is_file()
    return site


@pytest.fixture(scope="module")
def site_url(viz_site: Path) -> Iterator[str]:
    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(viz_site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # port 0: a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Python package playwright is missing (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        # Playwright starts it with a fresh temporary --user-data-dir of its own.
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def _open(browser, url: str, scale: float = 1):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=scale)
    context.add_init_script(UI_SETTINGS)
    page = context.new_page()
    page.goto(url)
    return context, page


def _flowchart(page, timeout_s: float = 60) -> dict[str, list[str]]:
    """Labels of the rendered flowchart nodes by type, once the layout has settled."""
    script = """() => {
        const labels = {};
        const nodes = document.querySelectorAll('.pipeline-flowchart__nodes g.pipeline-node');
        for (const node of nodes) {
            (labels[node.dataset.nodeType] ||= []).push(node.textContent.trim());
        }
        labels.layer = [...document.querySelectorAll('.pipeline-layer-name')]
            .map(layer => layer.textContent.trim());
        return labels;
    }"""
    deadline = time.monotonic() + timeout_s
    previous = None
    while time.monotonic() < deadline:
        current = page.evaluate(script)
        if current == previous and any(current.get(kind) for kind in ("task", "modularPipeline")):
            return current
        previous = current
        page.wait_for_timeout(500)  # nodes enter and leave with transitions
    raise AssertionError(f"the flowchart never settled: {previous}")


def _selected_pipeline(page) -> str:
    return page.locator(".pipeline-list .dropdown__label").inner_text().strip()


# ---------------------------------------------------------------- tests
# One pipeline per folder (find_pipelines) + __default__; listed without importing the
# pipelines at collection time, and checked against Kedro's registry below.
PIPELINES = sorted(
    ["__default__"]
    + [
        folder.name
        for folder in (PROJECT_ROOT / "src/future_skills_kedro/pipelines").iterdir()
        if (folder / "pipeline.py").is_file()
    ]
)


def test_every_registered_pipeline_is_offered(browser, site_url):
    registered = set(_kedro_pipelines())
    assert set(PIPELINES) == registered
    context, page = _open(browser, site_url)
    try:
        _flowchart(page)
        page.locator(".pipeline-list").click()
        options = page.locator(".pipeline-list .menu-option").all_inner_texts()
        assert {option.strip() for option in options} == registered
    finally:
        context.close()


@pytest.mark.parametrize("name", PIPELINES)
def test_flowchart_shows_every_node_of_the_pipeline(name, browser, site_url):
    pipeline = _kedro_pipelines()[name]
    namespaces = {node.namespace for node in pipeline.nodes}
    # kedro-viz labels a node with its name inside its namespace (the group shows the rest).
    expected_nodes = Counter(
        node.name.removeprefix(f"{node.namespace}.") for node in pipeline.nodes
    )
    datasets = {
        dataset
        for dataset in pipeline.all_inputs() | pipeline.all_outputs()
        if not dataset.startswith("params:") and dataset != "parameters"  # hidden by default
    }
    layers = _catalog_layers()

    context, page = _open(browser, f"{site_url}/?pid={name}")
    try:
        # Collapsed (kedro-viz's default): one box per namespace, no loose node.
        collapsed = _flowchart(page)
        assert _selected_pipeline(page) == name
        assert set(collapsed.get("modularPipeline", [])) == namespaces
        assert not collapsed.get("task")

        page.goto(f"{site_url}/?pid={name}&expandAllPipelines=true")
        shown = _flowchart(page)
        assert _selected_pipeline(page) == name
        assert Counter(shown.get("task", [])) == expected_nodes
        assert set(shown.get("data", [])) == datasets
        # Layer bands are drawn only while the layers are acyclic.
        assert set(shown["layer"]) == {layers[d] for d in datasets if d in layers}
        page.screenshot(path=_artifacts_dir() / f"kedro-viz-{name}.png")
    finally:
        context.close()


def test_overview_screenshot_shows_the_training_nodes(browser, site_url):
    """The docs image: default pipeline, data_engineering collapsed, training expanded."""
    training = _kedro_pipelines()["training"]
    model_nodes = {
        node.name.split(".", 1)[1] for node in training.nodes if node.namespace == "training"
    }

    context, page = _open(browser, f"{site_url}/?pid=__default__", scale=2)
    try:
        _flowchart(page)
        page.get_by_label("Hide menu").click()
        page.get_by_label("Turn minimap off").click()
        page.locator("g.pipeline-node--modularPipeline", has_text="training").click()
        page.get_by_label("Reset zoom").click()
        page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)  # no hover highlight
        shown = _flowchart(page)
        assert set(shown.get("task", [])) == model_nodes
        assert shown.get("modularPipeline") == ["data_engineering"]
        page.wait_for_timeout(1000)  # zoom transition
        path = _artifacts_dir() / "kedro-viz-overview.png"
        page.screenshot(path=path)
        assert path.stat().st_size > 50_000  # a drawn graph, not a blank page
    finally:
        context.close()
