"""Rule feedback: suppression kinds, `pitfall stats` and the feedback policy."""

from __future__ import annotations

import json

import pytest
from helpers import run, write

APP = """\
import requests
requests.get(a)  # pitfall: ignore[TMO101] false-positive: the session sets a timeout
requests.get(b)  # pitfall: ignore[TMO101] False-Positive: same client
requests.get(c)  # pitfall: ignore[TMO101] accepted: a batch job that may wait
requests.get(d)
requests.get(e)  # pitfall: ignore[TMO101] legacy
"""
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    ignore-check.pitfall.dev/PSA217: "false-positive: the image sets USER 1000"
spec:
  containers:
  - name: c
    image: i
"""


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app.py": APP, "pod.yaml": POD})
    return tmp_path


def _by_rule(out: str) -> dict:
    return {row["rule"]: row for row in json.loads(out)}


def test_stats_count_suppressions_by_kind_in_a_scan(proj, capsys):
    code, out, _ = run(capsys, "stats", "--format", "json")
    assert code == 0
    rows = _by_rule(out)
    assert rows["TMO101"]["findings"] == 5 and rows["TMO101"]["open"] == 1
    assert rows["TMO101"]["suppressed"] == {"false-positive": 2, "accepted": 1, "other": 1}
    assert rows["TMO101"]["false_positive_rate"] == 0.4
    assert rows["PSA217"]["suppressed"]["false-positive"] == 1  # the annotation form


def test_stats_of_sarif_logs_equal_the_scan(proj, capsys):
    _, scanned, _ = run(capsys, "stats", "--format", "json")
    run(capsys, "check", "--format", "sarif", "--output", "one.sarif")
    run(capsys, "check", "--format", "sarif", "--output", "two.sarif", "--select", "TMO")
    code, out, _ = run(capsys, "stats", "one.sarif", "two.sarif", "--format", "json")
    assert code == 0
    rows, alone = _by_rule(out), _by_rule(scanned)
    assert rows["TMO101"]["findings"] == 2 * alone["TMO101"]["findings"]
    assert rows["TMO101"]["suppressed"]["false-positive"] == 4
    assert rows["PSA217"] == alone["PSA217"]
    code, text, _ = run(capsys, "stats", "one.sarif")
    assert text.splitlines()[0].split()[:3] == ["rule", "findings", "open"] and "40%" in text


def test_the_feedback_policy_reports_a_noisy_rule_one_severity_lower(proj, capsys):
    assert run(capsys, "check", "--select", "TMO")[0] == 1
    write(proj, {"pyproject.toml": "[tool.pitfall.feedback]\nmin-findings = 3\nmax-false-positive-rate = 0.3\n"})
    code, out, err = run(capsys, "check", "--select", "TMO", "--format", "json")
    assert code == 0  # the open TMO101 is a note now, below fail-on = warning
    assert [f["severity"] for f in json.loads(out)["findings"] if f["suppression"] is None] == ["note"]
    assert any("TMO101 is reported one severity lower" in n["message"] for n in json.loads(out)["notifications"])
    _, table, _ = run(capsys, "stats", "--select", "TMO")
    assert "one severity lower" in table
    write(proj, {"pyproject.toml": "[tool.pitfall.feedback]\nmin-findings = 6\nmax-false-positive-rate = 0.3\n"})
    assert run(capsys, "check", "--select", "TMO")[0] == 1  # too few findings to judge


def test_bad_inputs_of_stats_and_the_policy_are_usage_errors(proj, capsys):
    write(proj, {"broken.sarif": "{not json"})
    code, _, err = run(capsys, "stats", "broken.sarif")
    assert code == 2 and "broken.sarif" in err and "Traceback" not in err
    write(proj, {"pyproject.toml": "[tool.pitfall.feedback]\nmax-false-positive-rate = 2\n"})
    code, _, err = run(capsys, "check")
    assert code == 2 and "pyproject.toml" in err and "max-false-positive-rate" in err
