"""Output formats: text, json, github, and SARIF per DESIGN.md's contract (schema-validated)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import run, sarif, validate_sarif, write

BAD = 'import requests\n\n\ndef f(u):\n    return requests.get(u)\n'
TLS = 'import requests\nrequests.get("https://x", timeout=3, verify=False)  # pitfall: ignore[TLS101] test fixture\n'
K8S = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    write(tmp_path, {"svc/bad.py": BAD, "svc/tls.py": TLS, "deploy/pod.yaml": K8S, "dir with space/ok.py": "x = 1\n"})
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_text_format_lists_each_finding_like_ruff(project, capsys):
    code, out, _ = run(capsys, "check", "--select", "TMO101")
    assert code == 1
    # the severity follows the rule id since issue 15 (which lines fail with `fail-on = "error"`)
    assert "svc/bad.py:5:12: TMO101 warning: `requests.get` called without `timeout`" in out  # unsafe fix: no [*]
    assert out.rstrip().endswith("Found 1 problem.\n(1 hidden fix can be enabled with the `--unsafe-fixes` option.)")


def test_statistics_counts_per_rule(project, capsys):
    code, out, _ = run(capsys, "check", "--statistics", "--select", "PSA,TMO")
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    counts = {parts[1]: int(parts[0]) for parts in lines}
    assert counts["TMO101"] == 1
    assert counts["PSA201"] == 1
    assert code == 1


def test_json_format(project, capsys):
    code, out, _ = run(capsys, "check", "--format", "json", "--select", "TMO101,TLS101")
    doc = json.loads(out)
    by_code = {f["code"]: f for f in doc["findings"]}
    assert by_code["TMO101"]["location"] == {"row": 5, "column": 12}
    assert by_code["TMO101"]["fix"]["applicability"] == "unsafe"
    assert by_code["TLS101"]["suppression"]["justification"] == "test fixture"
    assert code == 1  # the suppressed TLS101 does not count, TMO101 does


def test_github_annotations(project, capsys):
    code, out, _ = run(capsys, "check", "--format", "github", "--select", "TMO101")
    assert out == "::warning file=svc/bad.py,line=5,col=12,endLine=5,endColumn=27,title=TMO101::TMO101 `requests.get` called without `timeout`%3A it can wait forever\n".replace("%3A", ":")
    assert code == 1


def test_sarif_contract(project, capsys):
    code, doc = sarif(capsys)
    run_ = doc["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "pitfall" and driver["version"] and driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    # every selected rule, not only those that fired
    assert "TLS107" in ids and "PSA212" in ids and ids == sorted(ids)
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["help"]["markdown"].startswith("## What it does")
        assert rule["helpUri"].endswith(f"/rules/{rule['id']}/")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        tags = rule["properties"]["tags"]
        assert any(t.startswith("area:") for t in tags)
        assert rule["properties"]["precision"] in ("very-high", "high", "medium", "low")
    tls = next(r for r in driver["rules"] if r["id"] == "TLS101")
    assert "external/cwe/cwe-295" in tls["properties"]["tags"]
    float(tls["properties"]["security-severity"])
    psa = next(r for r in driver["rules"] if r["id"] == "PSA201")
    assert "pss:baseline" in psa["properties"]["tags"] and "pss-check:privileged" in psa["properties"]["tags"]
    exts = {e["name"]: e["version"] for e in run_["tool"]["extensions"]}
    assert exts["timeouts"] and exts["pod-security"] and exts["tls"]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    assert run_["columnKind"] == "unicodeCodePoints"
    results = run_["results"]
    tmo = next(r for r in results if r["ruleId"] == "TMO101")
    loc = tmo["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "svc/bad.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 5, "startColumn": 12, "endLine": 5, "endColumn": 27}
    assert driver["rules"][tmo["ruleIndex"]]["id"] == "TMO101"
    assert tmo["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == ", timeout=10"
    suppressed = next(r for r in results if r["ruleId"] == "TLS101")
    assert suppressed["suppressions"] == [{"kind": "inSource", "status": "accepted", "justification": "test fixture"}]
    pod = next(r for r in results if r["ruleId"] == "PSA201")
    assert pod["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "shop/Pod/web"
    assert pod["locations"][0]["physicalLocation"]["region"]["startLine"] == 11
    keys = [(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], r["locations"][0]["physicalLocation"]["region"]["startLine"], r["locations"][0]["physicalLocation"]["region"]["startColumn"], r["ruleId"]) for r in results]
    assert keys == sorted(keys)
    assert code == 1


def test_sarif_uri_is_percent_encoded(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"dir with space/bad#1.py": BAD})
    monkeypatch.chdir(tmp_path)
    _, doc = sarif(capsys, "--select", "TMO")
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/bad%231.py"


def test_sarif_notifications_for_run_problems(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"broken.py": "def f(:\n", "bin.py": b"x = 1\x00\n", "ok.py": BAD})
    monkeypatch.chdir(tmp_path)
    code, doc = sarif(capsys)
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    texts = " ".join(n["message"]["text"] for n in notes)
    assert "broken.py" in texts and "bin.py" in texts
    ids = {r["ruleId"] for r in doc["runs"][0]["results"]}
    assert {"LNT001", "TMO101"} <= ids
    assert code == 1


def test_fingerprints_stable_when_lines_are_added_above(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"a.py": BAD})
    monkeypatch.chdir(tmp_path)
    _, before = sarif(capsys, "--select", "TMO")
    write(tmp_path, {"a.py": "# a comment\nimport os\n\n" + BAD})
    _, after = sarif(capsys, "--select", "TMO")
    fp = lambda d: [r["partialFingerprints"] for r in d["runs"][0]["results"]]  # noqa: E731
    line = lambda d: d["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"]  # noqa: E731
    assert line(before) != line(after)
    assert fp(before) == fp(after)


def test_output_is_byte_identical_across_runs_and_jobs(tmp_path, capsys):
    files = {}
    for i in range(30):
        files[f"pkg{i % 3}/m{i}.py"] = BAD if i % 2 else TLS
        files[f"k8s/p{i}.yaml"] = K8S.replace("web", f"web{i}")
    write(tmp_path, files)
    outs = []
    for jobs in ("1", "2", "1", "2"):
        outs.append(subprocess.run([sys.executable, "-m", "linter", "check", str(tmp_path), "--format", "sarif", "--jobs", jobs], capture_output=True, cwd=tmp_path).stdout)
    assert outs[0] and all(o == outs[0] for o in outs)
    validate_sarif(json.loads(outs[0]))


def test_output_file(project, capsys):
    code, out, _ = run(capsys, "check", "--format", "sarif", "--output", "report.sarif", "--select", "TMO")
    assert out == ""
    validate_sarif(json.loads((project / "report.sarif").read_text()))
    assert code == 1
