"""Helm charts through `pitfall check`: rendering, template locations, values hints, errors."""

from __future__ import annotations

import json
import shutil
import tarfile

import helm_python
import pytest
from helpers import run, sarif, write

from linter.core.config import from_dict
from linter.core.discover import discover


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def scaffold(proj):
    helm_python.Chart.create("demo", str(proj))
    return proj / "demo"


def findings(capsys, *args):
    code, out, err = run(capsys, "check", "--format", "json", *args)
    return code, json.loads(out)


def test_scaffold_chart_exact_restricted_findings(scaffold, capsys):
    code, doc = findings(capsys, "demo", "--select", "PSA", "--helm-profiles", "defaults")
    got = sorted((f["filename"], f["location"]["row"], f["code"]) for f in doc["findings"])
    # with the default (empty) security contexts, `{{- with .Values.podSecurityContext }}` and
    # `{{- with .Values.securityContext }}` are not taken: the findings sit on the pod's `spec:`
    # (line 25) and on the container's `- name:` line (36), never inside the untaken branches
    assert got == [
        ("demo/templates/deployment.yaml", 25, "PSA219"),
        ("demo/templates/deployment.yaml", 36, "PSA213"),
        ("demo/templates/deployment.yaml", 36, "PSA214"),
        ("demo/templates/deployment.yaml", 36, "PSA217"),
        ("demo/templates/tests/test-connection.yaml", 9, "PSA219"),
        ("demo/templates/tests/test-connection.yaml", 11, "PSA213"),
        ("demo/templates/tests/test-connection.yaml", 11, "PSA214"),
        ("demo/templates/tests/test-connection.yaml", 11, "PSA217"),
    ]
    by = {(f["filename"], f["code"]): f for f in doc["findings"]}
    run_as = by[("demo/templates/deployment.yaml", "PSA217")]
    assert "set `securityContext.runAsNonRoot: true` in values.yaml" in run_as["message"]
    assert ("demo/values.yaml", 44) in [(r["filename"], r["row"]) for r in run_as["related"]]
    seccomp = by[("demo/templates/deployment.yaml", "PSA219")]
    assert "podSecurityContext.seccompProfile.type" in seccomp["message"]
    assert ("demo/values.yaml", 41) in [(r["filename"], r["row"]) for r in seccomp["related"]]
    assert code == 1


def test_scaffold_sarif_has_related_locations_and_stable_fingerprints(scaffold, capsys):
    _, first = sarif(capsys, "demo", "--select", "PSA217")
    _, second = sarif(capsys, "demo", "--select", "PSA217")
    res = first["runs"][0]["results"]
    # a related location on disk with a region, or the rendered position in the properties
    assert res and all(r.get("relatedLocations") or r["properties"]["pitfall/related"] for r in res)
    assert all("region" in loc["physicalLocation"] for r in res for loc in r.get("relatedLocations", ()))
    assert [r["partialFingerprints"] for r in res] == [r["partialFingerprints"] for r in second["runs"][0]["results"]]


def test_value_sets_are_named_and_deduplicated(scaffold, capsys):
    code, doc = findings(capsys, "demo", "--select", "PSA217")
    msgs = [f["message"] for f in doc["findings"] if f["filename"].endswith("deployment.yaml")]
    assert len(msgs) == 1 and "[value sets: defaults, ingress" in msgs[0]


def test_values_file_and_set_are_applied(scaffold, capsys):
    write(scaffold.parent, {"hardened.yaml": "podSecurityContext:\n  runAsNonRoot: true\n  seccompProfile: {type: RuntimeDefault}\nsecurityContext:\n  allowPrivilegeEscalation: false\n  capabilities: {drop: [ALL]}\n"})
    code, doc = findings(capsys, "demo", "--select", "PSA", "--helm-profiles", "defaults", "--values", "hardened.yaml")
    assert {f["filename"] for f in doc["findings"]} == {"demo/templates/tests/test-connection.yaml"}
    code, doc = findings(capsys, "demo", "--select", "PSA201", "--helm-profiles", "defaults", "--set", "securityContext.privileged=true")
    assert [f["code"] for f in doc["findings"]] == ["PSA201"]


def test_template_error_is_lnt002_on_the_template_line(proj, capsys):
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"name is required\" .Values.name }}\n",
        "ok.py": "import requests\nrequests.get(u)\n",
    })
    code, doc = findings(capsys, "--helm-profiles", "defaults")
    lnt = [f for f in doc["findings"] if f["code"] == "LNT002"]
    assert [(f["filename"], f["location"]["row"]) for f in lnt] == [("c/templates/cm.yaml", 4)]
    assert "name is required" in lnt[0]["message"]
    assert any(f["code"] == "TMO101" for f in doc["findings"])  # the rest of the scan goes on


def test_invalid_chart_yaml(proj, capsys):
    write(proj, {"c/Chart.yaml": "apiVersion: v2\nname: c\n", "c/templates/x.yaml": "a: b\n"})
    code, doc = findings(capsys)
    lnt = [f for f in doc["findings"] if f["code"] == "LNT002"]
    assert lnt and lnt[0]["filename"] == "c/Chart.yaml" and "version" in lnt[0]["message"]
    assert code == 1


def test_missing_dependency_renders_the_rest(proj, capsys):
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 18.x.x\n    repository: https://charts.example.com\n",
        "c/templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: b\n      securityContext:\n        privileged: true\n",
    })
    code, doc = findings(capsys, "--helm-profiles", "defaults", "--select", "PSA201,LNT")
    got = {(f["code"], f["filename"], f["location"]["row"]) for f in doc["findings"]}
    assert ("PSA201", "c/templates/pod.yaml", 10) in got
    lnt = [f for f in doc["findings"] if f["code"] == "LNT002"]
    assert lnt[0]["filename"] == "c/Chart.yaml" and lnt[0]["location"]["row"] == 5
    assert "redis" in lnt[0]["message"] and "partial" in lnt[0]["message"]


def test_packaged_and_library_charts(proj, capsys):
    write(proj, {
        "src/c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "src/c/templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: b}]\n",
        "lib/Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        "lib/templates/_x.tpl": "{{- define \"lib.x\" }}x{{- end }}\n",
    })
    with tarfile.open(proj / "c-0.1.0.tgz", "w:gz") as tar:
        tar.add(proj / "src" / "c", arcname="c")
    shutil.rmtree(proj / "src")
    code, doc = findings(capsys, "--helm-profiles", "defaults", "--select", "PSA202,LNT")
    assert [(f["code"], f["filename"]) for f in doc["findings"]] == [("PSA202", "c-0.1.0.tgz")]
    assert "templates/pod.yaml" in doc["findings"][0]["message"]


def test_files_of_a_chart_map_to_one_unit(scaffold, proj):
    settings = from_dict({}, root=proj, config_path=None)
    units, _ = discover(["demo/templates/deployment.yaml", "demo/values.yaml", "demo/templates/service.yaml"], settings, cwd=proj, force_exclude=True)
    assert [(u.kind, u.path) for u in units] == [("chart", "demo")]


def test_suppressions_in_templates(proj, capsys):
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/templates/pod.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    ignore-check.pitfall.dev/PSA201: \"break-glass debug pod\"\n"
            "spec:\n  hostNetwork: true  # pitfall: ignore[PSA202] node exporter\n  containers:\n    - name: a\n      image: b\n      securityContext:\n        privileged: true\n"
        ),
    })
    code, doc = findings(capsys, "--helm-profiles", "defaults", "--select", "PSA201,PSA202")
    sup = {f["code"]: f["suppression"] for f in doc["findings"]}
    assert sup["PSA201"]["justification"] == "break-glass debug pod"
    assert sup["PSA202"]["justification"] == "node exporter"
    assert code == 0


def test_render_timeout_is_reported(proj, capsys):
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/templates/x.yaml": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}\n",
    })
    code, doc = findings(capsys, "--helm-profiles", "defaults", "--config", "helm.timeout = 1")
    lnt = [f for f in doc["findings"] if f["code"] == "LNT002"]
    assert lnt and "time" in lnt[0]["message"].lower()


def test_helm_lint_messages_are_opt_in(scaffold, capsys):
    _, default = findings(capsys, "demo", "--helm-profiles", "defaults")
    assert not [f for f in default["findings"] if f["code"] == "HLM201"]
    _, chosen = findings(capsys, "demo", "--helm-profiles", "defaults", "--extend-select", "HLM201")
    lint = [(f["filename"], f["message"]) for f in chosen["findings"] if f["code"] == "HLM201"]
    assert lint == [("demo/Chart.yaml", "helm lint: icon is recommended")]
    _, by_prefix = findings(capsys, "demo", "--helm-profiles", "defaults", "--select", "HLM")
    assert "HLM201" in {f["code"] for f in by_prefix["findings"]}


def test_chart_defaults_are_read_as_a_yaml_load_reads_them():
    from linter.helm.unit import _values_defaults, _values_line

    assert _values_defaults("a: 1\nb: {c: 2}\na: 3\n") == {"a": 3, "b": {"c": 2}}  # duplicate keys: last wins
    assert _values_defaults("a: 1\n---\nb: 2\n") == {}  # not one document
    assert _values_defaults("a: [1\n") == {}  # not YAML
    assert _values_line("a: 1\nb:\n  c: 2\na: 3\n", "b.c") == 3


def test_helm_lint_sees_dependencies_from_chart_dirs(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\nicon: https://example.com/i.png\n"
            "dependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n",
            "app/values.yaml": "{}\n",
            "app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
            "store/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "store/sub/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n",
        },
    )
    code, doc = findings(capsys, "app", "--select", "HLM201")
    assert [f["message"] for f in doc["findings"]] == ["helm lint: chart directory is missing these dependencies: sub"]
    write(proj, {".pitfall.toml": '[helm]\nchart-dirs = ["store"]\n'})
    code, doc = findings(capsys, "app", "--select", "HLM201")
    assert doc["findings"] == [] and code == 0


def test_chart_problems_follow_select_and_still_tell_the_run(proj, capsys):
    write(proj, {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "c/templates/x.yaml": "x: {{ .Values.a.b.c }}\n"})
    code, out, err = run(capsys, "check", "c", "--select", "PSA")
    assert code == 0 and "LNT002" not in out
    assert "c/templates/x.yaml: " in err and "nil pointer" in err
    code, out, err = run(capsys, "check", "c", "--select", "LNT002")
    assert code == 1 and "LNT002" in out


def test_long_chart_problem_keeps_a_short_message_and_the_full_text_in_properties(proj, capsys):
    write(proj, {"c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "c/templates/x.yaml": '{{ fail (repeat 2000 "x") }}\n'})
    _, doc = sarif(capsys, "c", "--select", "LNT002", "--helm-profiles", "defaults")
    [res] = doc["runs"][0]["results"]
    assert len(res["message"]["text"]) <= 600 and res["message"]["text"].endswith("…")
    assert "x" * 2000 in res["properties"]["pitfall/detail"]


def test_random_names_render_the_same_on_every_run(proj, capsys):
    """A chart that names its objects with Sprig's random functions (`randAlphaNum 5`, as the
    test pods of many charts do) gets the same findings, messages and fingerprints on every run,
    and one object under every value set (not one per random name)."""
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/values.yaml": "ingress:\n  enabled: false\n",
        "c/templates/test.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata:\n"
            "  name: \"{{ .Release.Name }}-{{ randAlphaNum 5 | lower }}-test\"\n"
            "  annotations:\n    run-id: {{ uuidv4 | quote }}\n    n: \"{{ randNumeric 3 }}\"\n"
            "spec:\n  containers:\n    - name: t\n      image: busybox:1.36\n"
        ),
    })
    runs = []
    for _ in range(2):
        code, out, err = run(capsys, "check", "c", "--select", "PSA219", "--format", "sarif")
        runs.append(json.loads(out))
    assert runs[0] == runs[1]
    results = runs[0]["runs"][0]["results"]
    assert results and all("release-name-xxxxx-test" in r["message"]["text"] for r in results)
