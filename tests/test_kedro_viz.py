"""`kedro viz` in a real browser: the built site shows every registered pipeline's nodes.

Builds the static site with the real ``kedro viz build`` in a fresh-clone-like copy (no data
outputs, no MLflow store), serves it on a loopback port and drives Debian's Chromium with
Playwright (never ``playwright install``). Screenshots go to ``$TEST_ARTIFACTS_DIR``
(default ``test-artifacts/``); copy ``kedro-viz-overview.png`` to ``docs/images/kedro-viz.png``
to refresh the docs image.

kedro-viz animates nodes in and out, so every check waits (up to a timeout) for the exact
state it asserts and, when that never comes, fails showing what was last on the page.
``KEDRO_VIZ_CPU_THROTTLING=N`` runs the page N times slower (Chromium's CPU throttling, as
in DevTools): a way to check that no test depends on the speed of the machine.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
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
TIMEOUT_S = 60
# Labels of the drawn flowchart nodes by node type (task, data, modularPipeline, ...) and
# of the layer bands (layer).
FLOWCHART_LABELS = """() => {
    const labels = {};
    const nodes = document.querySelectorAll('.pipeline-flowchart__nodes g.pipeline-node');
    for (const node of nodes) {
        (labels[node.dataset.nodeType] ||= []).push(node.textContent.trim());
    }
    labels.layer = [...document.querySelectorAll('.pipeline-layer-name')]
        .map(layer => layer.textContent.trim());
    return labels;
}"""
# Labels of the drawn nodes not wholly inside the window.
NODES_OUTSIDE_THE_WINDOW = """() => [
    ...document.querySelectorAll('.pipeline-flowchart__nodes g.pipeline-node')
].filter(node => {
    const box = node.getBoundingClientRect();
    return box.left < 0 || box.top < 0
        || box.right > window.innerWidth || box.bottom > window.innerHeight;
}).map(node => node.textContent.trim()).sort()"""


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
    throttling = float(os.environ.get("KEDRO_VIZ_CPU_THROTTLING") or 1)
    if throttling > 1:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttling})
    page.goto(url)
    return context, page


def _wait_until_equal(page, read: Callable[[], object], expected: object, what: str):
    """Poll ``read()`` until it returns ``expected``; fail naming what was last seen.

    Waits for the state a test asserts, never for "the page stopped changing": a sample
    taken while nodes are still entering or leaving looks stable too.
    """
    deadline = time.monotonic() + TIMEOUT_S
    while (seen := read()) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{what}: not {expected!r} after {TIMEOUT_S} s; last seen {seen!r}"
            )
        page.wait_for_timeout(100)
    return seen


def _wait_for_flowchart(page, **expected: list[str]) -> dict[str, list[str]]:
    """Wait until the flowchart shows exactly the ``expected`` labels of each node type
    named (``task=[...]``, ``data=[...]``, ``modularPipeline=[...]``, ``layer=[...]``)."""
    expected = {kind: sorted(labels) for kind, labels in expected.items()}

    def shown() -> dict[str, list[str]]:
        labels = page.evaluate(FLOWCHART_LABELS)
        return {kind: sorted(labels.get(kind, [])) for kind in expected}

    return _wait_until_equal(page, shown, expected, "the flowchart's nodes")


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
        page.locator(".pipeline-list").click()
        options = page.locator(".pipeline-list .menu-option")
        _wait_until_equal(
            page,
            lambda: {option.strip() for option in options.all_inner_texts()},
            registered,
            "the pipelines offered",
        )
    finally:
        context.close()


@pytest.mark.parametrize("name", PIPELINES)
def test_flowchart_shows_every_node_of_the_pipeline(name, browser, site_url):
    pipeline = _kedro_pipelines()[name]
    namespaces = {node.namespace for node in pipeline.nodes}
    # kedro-viz labels a node with its name inside its namespace (the group shows the rest).
    expected_nodes = [node.name.removeprefix(f"{node.namespace}.") for node in pipeline.nodes]
    datasets = {
        dataset
        for dataset in pipeline.all_inputs() | pipeline.all_outputs()
        if not dataset.startswith("params:") and dataset != "parameters"  # hidden by default
    }
    layers = _catalog_layers()

    context, page = _open(browser, f"{site_url}/?pid={name}")
    try:
        # Collapsed (kedro-viz's default): one box per namespace, no loose node.
        _wait_for_flowchart(page, modularPipeline=list(namespaces), task=[])
        _wait_until_equal(page, lambda: _selected_pipeline(page), name, "the selected pipeline")

        page.goto(f"{site_url}/?pid={name}&expandAllPipelines=true")
        _wait_for_flowchart(
            page,
            task=expected_nodes,
            data=list(datasets),
            # Layer bands are drawn only while the layers are acyclic.
            layer=list({layers[d] for d in datasets if d in layers}),
        )
        _wait_until_equal(page, lambda: _selected_pipeline(page), name, "the selected pipeline")
        page.screenshot(path=_artifacts_dir() / f"kedro-viz-{name}.png")
    finally:
        context.close()


def test_overview_screenshot_shows_the_training_nodes(browser, site_url):
    """The docs image: default pipeline, data_engineering collapsed, training expanded."""
    pipeline = _kedro_pipelines()["__default__"]
    namespaces = {node.namespace for node in pipeline.nodes}
    model_nodes = [
        node.name.removeprefix("training.")
        for node in pipeline.nodes
        if node.namespace == "training"
    ]

    context, page = _open(browser, f"{site_url}/?pid=__default__", scale=2)
    try:
        _wait_for_flowchart(page, modularPipeline=list(namespaces), task=[])
        page.get_by_label("Hide menu").click()
        page.get_by_label("Turn minimap off").click()
        page.locator("g.pipeline-node--modularPipeline", has_text="training").click()
        # The training box leaves as its nodes enter: wait for the end state, not a pause.
        _wait_for_flowchart(page, task=model_nodes, modularPipeline=list(namespaces - {"training"}))
        page.get_by_label("Reset zoom").click()
        page.mouse.move(VIEWPORT["width"] - 1, VIEWPORT["height"] - 1)  # no hover highlight
        # Zoomed to fit: every node in the picture.
        _wait_until_equal(
            page,
            lambda: page.evaluate(NODES_OUTSIDE_THE_WINDOW),
            [],
            "nodes outside the window after Reset zoom",
        )
        path = _artifacts_dir() / "kedro-viz-overview.png"
        page.screenshot(path=path)
        assert path.stat().st_size > 50_000  # a drawn graph, not a blank page
    finally:
        context.close()
