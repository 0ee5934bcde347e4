"""deploy/prometheus/alert_rules.yml: promtool-clean, every alert unit-tested both ways,
every runbook link pointing at a heading of docs/operations.md."""

from __future__ import annotations

import re
import subprocess

import yaml

from tests.conftest import PROJECT_ROOT

RULES = PROJECT_ROOT / "deploy/prometheus/alert_rules.yml"
RULES_TEST = PROJECT_ROOT / "deploy/prometheus/alert_rules_test.yml"
OPERATIONS = PROJECT_ROOT / "docs/operations.md"


def _alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def github_anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_promtool_check_rules_is_clean(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(_alerts())} rules found" in result.stdout


def test_promtool_unit_tests_pass(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", RULES_TEST.name],
        cwd=RULES_TEST.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_is_tested_firing_and_not_firing():
    firing, silent = set(), set()
    for case in yaml.safe_load(RULES_TEST.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    names = {rule["alert"] for rule in _alerts()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - silent == set(), "alerts never tested silent"


def test_every_alert_has_a_severity_and_a_runbook_anchor_that_exists():
    headings, in_code = set(), False
    for line in OPERATIONS.read_text().splitlines():
        in_code ^= line.startswith("```")
        if line.startswith("#") and not in_code:
            headings.add(github_anchor(line.lstrip("#")))
    for rule in _alerts():
        assert "severity" in rule["labels"], rule["alert"]
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in headings, f"{rule['alert']}: no heading for #{anchor} in {OPERATIONS}"
