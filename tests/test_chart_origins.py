"""Chart findings on the template line that wrote the offending key, for the right object and
container, with values hints only where rendering again with the value removed the finding."""

from __future__ import annotations

import json
import os
import re

import helm_python
import pytest
from helpers import run, sarif, write

from linter.helm import render as helm, origin as helmorigin

CHART = "apiVersion: v2\nname: app\nversion: 0.1.0\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(capsys, *args: str) -> list[dict]:
    code, out, err = run(capsys, "check", "--format", "json", "--helm-profiles", "defaults", *args)
    assert code in (0, 1), err
    found = json.loads(out)["findings"]
    # never a path that does not exist
    assert [f["filename"] for f in found if not os.path.exists(f["filename"])] == []
    return found


def line_of(path, text: str, nth: int = 1) -> int:
    lines = [i + 1 for i, line in enumerate(open(path, encoding="utf-8").read().splitlines()) if text in line]
    return lines[nth - 1]


TWO_CONTAINERS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: app:1
          securityContext:
            {{- toYaml .Values.app.securityContext | nindent 12 }}
        - name: metrics
          image: metrics:1
          securityContext:
            {{- toYaml .Values.metrics.securityContext | nindent 12 }}
"""


def test_second_container_finding_is_on_its_own_lines_with_its_own_key(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "app:\n  securityContext:\n    privileged: false\nmetrics:\n  securityContext:\n    privileged: true\n",
            "app/templates/deploy.yaml": TWO_CONTAINERS,
        },
    )
    [f] = check(capsys, "app", "--select", "PSA201")
    assert '"metrics"' in f["message"]
    # the emitting line of the second container, not the first container's `securityContext:`
    assert f["location"]["row"] == line_of("app/templates/deploy.yaml", ".Values.metrics.securityContext")
    assert f["location"]["column"] == 13

    found = check(capsys, "app", "--select", "PSA214")  # both containers lack drop: ALL, each its own key
    hints = sorted(re.search(r"set `([^`]+)`", f["message"]).group(1) for f in found)
    assert hints == ['app.securityContext.capabilities.drop: ["ALL"]', 'metrics.securityContext.capabilities.drop: ["ALL"]']
    rows = sorted(f["location"]["row"] for f in found)
    assert rows == [line_of("app/templates/deploy.yaml", "securityContext:", 1), line_of("app/templates/deploy.yaml", "securityContext:", 2)]


def test_guarded_security_context_hint_names_the_key_under_the_guard(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "containerSecurityContext:\n  enabled: true\n  runAsNonRoot: true\n",
            "app/templates/deploy.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: app:1
      {{- if .Values.containerSecurityContext.enabled }}
      securityContext: {{- omit .Values.containerSecurityContext "enabled" | toYaml | nindent 8 }}
      {{- end }}
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA214")
    assert 'set `containerSecurityContext.capabilities.drop: ["ALL"]` in values.yaml' in f["message"]
    assert "enabled.capabilities" not in f["message"]
    assert f["location"]["row"] == 10
    assert any(r["filename"] == "app/values.yaml" and r["row"] == 1 for r in f["related"])


def test_untaken_else_branch_is_never_chosen(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "customLivenessProbe: {}\n",
            "app/templates/deploy.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: app:1
      {{- if .Values.customLivenessProbe }}
      livenessProbe: {{- toYaml .Values.customLivenessProbe | nindent 8 }}
      {{- else }}
      livenessProbe:
        httpGet: {path: /, port: 80}
        periodSeconds: 5
        timeoutSeconds: 10
      {{- end }}
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PRB203")
    # the taken branch writes the probe (line 12 on), not the custom branch (line 10)
    assert f["location"]["row"] in (12, 14, 15)
    assert "customLivenessProbe" not in f["message"]


def test_documents_of_one_template_each_map_to_their_own_lines(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "workers:\n  - name: a\n    host: false\n  - name: b\n    host: true\n",
            "app/templates/workers.yaml": """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  hostNetwork: "true"
{{- range .Values.workers }}
---
apiVersion: v1
kind: Pod
metadata:
  name: worker-{{ .name }}
spec:
  hostNetwork: {{ .host }}
  containers:
    - name: w
      image: w:1
{{- end }}
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA202")
    assert "worker-b" in f["message"]
    assert f["location"]["row"] == 14  # the `hostNetwork:` line inside the range, not the ConfigMap's


HELPERS = """\
{{- define "app.securityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
privileged: true
{{- end }}
"""


def test_named_template_maps_to_its_own_line_with_the_calling_line_related(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "{}\n",
            "app/templates/_helpers.tpl": HELPERS,
            "app/templates/pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: app:1
      securityContext:
        {{- include "app.securityContext" . | nindent 8 }}
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA201")
    assert (f["filename"], f["location"]["row"]) == ("app/templates/_helpers.tpl", 5)
    assert ("app/templates/pod.yaml", 10) in [(r["filename"], r["row"]) for r in f["related"]]
    _, doc = sarif(capsys, "app", "--select", "PSA201", "--helm-profiles", "defaults")
    [res] = doc["runs"][0]["results"]
    # related locations have regions and exist; the rendered position is a property
    assert all("region" in r["physicalLocation"] for r in res["relatedLocations"])
    assert any("rendered" in r["message"] for r in res["properties"]["pitfall/related"])


SUB_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: sub
spec:
  containers:
    - name: sub
      image: sub:1
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
"""


def test_vendored_subchart_reports_on_its_files_with_a_prefixed_hint(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART + "dependencies:\n  - name: sub\n    version: 0.1.0\n",
            "app/values.yaml": "sub:\n  securityContext: {}\n",
            "app/charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "app/charts/sub/values.yaml": "securityContext: {}\n",
            "app/charts/sub/templates/pod.yaml": SUB_POD,
        },
    )
    [f] = check(capsys, "app", "--select", "PSA213")
    assert (f["filename"], f["location"]["row"]) == ("app/charts/sub/templates/pod.yaml", 9)
    assert "set `sub.securityContext.allowPrivilegeEscalation: false` in values.yaml" in f["message"]


def test_chart_dirs_dependency_reports_on_its_own_folder(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART + "dependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n",
            "app/values.yaml": "{}\n",
            "store/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "store/sub/values.yaml": "securityContext: {}\n",
            "store/sub/templates/pod.yaml": SUB_POD,
            ".pitfall.toml": '[helm]\nchart-dirs = ["store"]\n',
        },
    )
    found = [f for f in check(capsys, "app", "--select", "PSA213") if "Pod `sub`" in f["message"]]
    assert [(f["filename"], f["location"]["row"]) for f in found] == [("store/sub/templates/pod.yaml", 9)]


def test_packaged_subchart_reports_on_its_dependency_entry(proj, capsys):
    write(
        proj,
        {
            "build/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
            "build/sub/values.yaml": "securityContext: {}\n",
            "build/sub/templates/pod.yaml": SUB_POD,
            "app/Chart.yaml": CHART + "dependencies:\n  - name: sub\n    version: 0.1.0\n",
            "app/values.yaml": "{}\n",
        },
    )
    (proj / "app/charts").mkdir()
    helm_python.package(str(proj / "build/sub"), destination=str(proj / "app/charts"))
    [f] = check(capsys, "app", "--select", "PSA213")
    assert (f["filename"], f["location"]["row"]) == ("app/Chart.yaml", 5)
    assert f["message"].startswith("charts/sub/templates/pod.yaml: ")


def test_no_hint_where_no_single_key_fixes_the_finding(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "image: app:1\n",
            "app/templates/pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: {{ .Values.image }}
      securityContext:
        allowPrivilegeEscalation: true
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA213")
    assert "values.yaml" not in f["message"]
    assert f["location"]["row"] == 10


TRICKY = """\
{{- define "t.flag" -}}
{{- if .Values.enabled -}}
true
{{- end -}}
{{- end }}
{{- define "t.name" -}}
{{ printf "%s-%s" .Release.Name "a-rather-long-name-for-truncation-purposes-only" | trunc 40 }}
{{- end }}
{{- define "t.block" -}}
a: 1
b: {{ .Values.b }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "t.name" . | trunc 30 | trimSuffix "-" }}
  labels: {{- include "t.block" . | nindent 4 }}
data:
  {{- if eq (include "t.flag" .) "true" }}
  flag: "on"
  {{- end }}
  joined: {{ .Values.b -}}
    {{- .Values.b }}
  text: |
    line: one
    {{- if .Values.enabled }}
    line: two {{/* a comment
    over lines */}}
    {{- end }}
  q: "{{ "}}" }}"
  raw: {{ `a
b` | quote }}
  len: {{ include "t.block" . | len }}
"""


def test_markers_leave_the_rendered_output_unchanged(proj):
    write(proj, {"app/Chart.yaml": CHART, "app/values.yaml": "enabled: true\nb: x\n", "app/templates/cm.yaml": TRICKY})
    plain = helm.render(proj / "app")
    marked = helm.render(proj / "app", origins=True)
    assert plain.problems == marked.problems == ()
    # every line is the same, except what measures the template's own text (`len`)
    def text(result):
        return [re.sub(r"len: \d+", "len: N", d.text) for d in result.docs]

    assert text(plain) == text(marked)
    assert "flag: \"on\"" in plain.docs[0].text
    # and the lines that write keys know their template line
    doc = marked.docs[0]
    where = {line.split(":")[0].strip(): o[0] for line, o in zip(doc.text.splitlines(), doc.origins) if o}
    assert where["flag"].line == 20 and where["kind"].line == 14 and where["labels"].line == 17


def test_instrument_skips_actions_and_trimmed_lines():
    text = '{{- define "x" -}}\nname\n{{- end }}\na: {{ .x -}}\n  {{- .y }}\nb: 1\n'
    marked = helmorigin.instrument(text, 0, "n")
    clean, origins = helmorigin.strip(marked, "n")
    assert clean == text
    assert [o[0].line if o else None for o in origins] == [None, None, None, 4, 5, 6, None]


def test_block_written_inside_a_named_template_maps_to_the_line_that_writes_it(proj, capsys):
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "init:\n  - name: wait\n    image: busybox\n    securityContext:\n      privileged: true\n",
            "app/templates/_pod.tpl": """\
{{- define "app.pod" -}}
spec:
  initContainers:
    {{- toYaml .Values.init | nindent 4 }}
  containers:
    - name: app
      image: app:1
  volumes: []
{{- end }}
""",
            "app/templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n{{ include \"app.pod\" . }}\n",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA201")
    assert (f["filename"], f["location"]["row"]) == ("app/templates/_pod.tpl", 4)


def test_verified_hints_are_unsafe_fixes_of_values_yaml(proj, capsys):
    values = "# app values\nimage: app:1   # pinned\nsecurityContext:\n  runAsUser: 1000\n"
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": values,
            "app/templates/pod.yaml": """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: {{ .Values.image }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
""",
        },
    )
    args = ("app", "--select", "PSA213,PSA214", "--helm-profiles", "defaults")
    _, doc = sarif(capsys, *args)
    for res in doc["runs"][0]["results"]:
        (change,) = res["fixes"][0]["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "app/values.yaml"
        assert res["properties"]["fixApplicability"] == "unsafe"
    code, out, _ = run(capsys, "check", *args, "--diff")  # unsafe fixes need --unsafe-fixes
    assert out == "" and (proj / "app/values.yaml").read_text() == values
    code, out, _ = run(capsys, "check", *args, "--diff", "--unsafe-fixes")
    assert "+  allowPrivilegeEscalation: false" in out and (proj / "app/values.yaml").read_text() == values
    code, out, _ = run(capsys, "check", *args, "--fix", "--unsafe-fixes")
    assert code == 0
    fixed = (proj / "app/values.yaml").read_text()
    assert fixed.startswith(values)  # comments and the rest kept, keys added below
    assert check(capsys, *args) == []


def test_a_chart_that_cannot_take_the_markers_is_still_analysed(proj, capsys):
    # the named template's output is read back as JSON: a marker there would break it
    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "{}\n",
            "app/templates/_conf.tpl": '{{- define "app.conf" -}}\n{\n  "privileged": true\n}\n{{- end }}\n',
            "app/templates/pod.yaml": """\
{{- $conf := include "app.conf" . | fromJson }}
{{- if not (hasKey $conf "Error") }}
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: app:1
      securityContext:
        privileged: {{ $conf.privileged }}
{{- else }}
{{ fail "conf is not JSON" }}
{{- end }}
""",
        },
    )
    [f] = check(capsys, "app", "--select", "PSA201,LNT002")
    assert f["code"] == "PSA201" and f["filename"].startswith("app/templates/")


def test_the_pure_core_analyses_a_prepared_chart_without_reading_or_rendering(proj, monkeypatch):
    from pathlib import Path

    from linter.core.config import from_dict
    from linter.core.discover import discover
    from linter.core.engine import build_ruleset, lint_unit
    from linter.helm import unit as helmunit

    write(
        proj,
        {
            "app/Chart.yaml": CHART,
            "app/values.yaml": "app:\n  securityContext:\n    privileged: false\nmetrics:\n  securityContext: {}\n",
            "app/templates/deploy.yaml": TWO_CONTAINERS,
        },
    )
    settings = from_dict({"select": ["PSA214"], "helm": {"profiles": ["defaults"]}}, root=proj, config_path=None)
    [unit], _ = discover(["app"], settings, cwd=Path(proj))
    ruleset = build_ruleset(settings).for_path("app/")
    with helmunit.chart_edge(unit, ruleset):
        prepared = helmunit.prepare(unit, ruleset)

    def no_io(*args, **kwargs):
        raise AssertionError("the pure core read a file or rendered the chart")

    monkeypatch.setattr(helmunit, "render", no_io)
    monkeypatch.setattr(helmunit, "_read", no_io)
    result = lint_unit("chart", unit.path, b"", ruleset, chart=prepared)
    hints = sorted(re.search(r"set `([^`]+)`", f.message).group(1) for f in result.findings)
    # the hints were checked by prepare's renders (the chart rendered with each value)
    assert hints == ['app.securityContext.capabilities.drop: ["ALL"]', 'metrics.securityContext.capabilities.drop: ["ALL"]']
