"""Fixes for Kubernetes manifests: Pod Security fields, the Namespace enforce label, probe
timeouts and unused suppression annotations, through the CLI, SARIF, the language server and the
``pitfall-fix`` pre-commit hook. Each fix changes its target's lines and nothing else."""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys

import pytest
import test_precommit as pc
import yaml
from helpers import run, sarif, write
from test_lsp import Client
from test_precommit import hook_repo, pre_commit_home  # noqa: F401 (the session fixtures)

from linter.core.edits import apply_fixes
from linter.kubernetes.yamlfix import values_fix

# comments, quotes, flow mappings, a 4-space indentation with `-   ` items, three documents
APP = """\
# Shop front end: applied with `kubectl apply -f`
apiVersion: v1
kind: ConfigMap
metadata:
  name: 'front-config'   # quoted on purpose
data:
  greeting: "hello, world"
---
apiVersion: apps/v1
kind: Deployment
metadata:
    name: front
    labels: {app: front, tier: "web"}
spec:
    replicas: 2
    selector:
        matchLabels:
            app: front
    template:
        metadata:
            labels:
                app: front
        spec:
            # the web container
            containers:
            -   name: "web"
                image: 'registry.example.com/front:1.4'   # pinned
                ports:
                -   containerPort: 8080
                readinessProbe:
                    httpGet: {path: /ready, port: 8080}
                    timeoutSeconds: 10
                livenessProbe:
                    httpGet: {path: /healthz, port: 8080}
            -   name: sidecar
                image: "envoy:1.30"
                securityContext:
                    runAsUser: 1000   # not root
---
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: "payments"   # owner
"""

FIXED_RULES = ("PSA213", "PSA214", "PSA217", "PSA219", "PSA220", "PRB203")


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(capsys, *args: str) -> list[dict]:
    _, out, _ = run(capsys, "check", "--format", "json", *args)
    return json.loads(out)["findings"]


def changes(before: str, after: str) -> list[str]:
    """The removed (-) and added (+) lines between two texts."""
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


# --------------------------------------------------------------------------- the CLI


def test_unsafe_fixes_fix_every_target_and_change_nothing_else(proj, capsys):
    write(proj, {"app.yaml": APP})
    rules = {f["code"] for f in findings(capsys, "app.yaml")}
    assert set(FIXED_RULES) <= rules

    code, out, _ = run(capsys, "check", "--fix", "--unsafe-fixes", "app.yaml")
    after = (proj / "app.yaml").read_text(encoding="utf-8")
    # one run applies them all, fixes of one container after another
    assert changes(APP, after) == [
        "-                     timeoutSeconds: 10",
        "+                     timeoutSeconds: 9",
        "+                 securityContext:",
        "+                     allowPrivilegeEscalation: false",
        "+                     capabilities:",
        "+                         drop:",
        "+                         -   ALL",
        "+                     runAsNonRoot: true",
        "+                     allowPrivilegeEscalation: false",
        "+                     capabilities:",
        "+                         drop:",
        "+                         -   ALL",
        "+                     runAsNonRoot: true",
        "+             securityContext:",
        "+                 seccompProfile:",
        "+                     type: RuntimeDefault",
        "+     pod-security.kubernetes.io/enforce: restricted",
    ]
    # the first document and everything around the inserted lines is byte for byte the same
    assert after.startswith(APP[: APP.index("---\n") + 4])
    assert '    labels: {app: front, tier: "web"}\n' in after and "    team: \"payments\"   # owner\n" in after
    docs = list(yaml.safe_load_all(after))
    web, sidecar = docs[1]["spec"]["template"]["spec"]["containers"]
    assert web["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
    assert sidecar["securityContext"]["runAsUser"] == 1000 and sidecar["securityContext"]["runAsNonRoot"] is True
    assert docs[2]["metadata"]["labels"] == {"team": "payments", "pod-security.kubernetes.io/enforce": "restricted"}
    assert not set(FIXED_RULES) & {f["code"] for f in findings(capsys, "app.yaml")}
    assert "fixed" in out


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("PSA213", ["+                 securityContext:", "+                     allowPrivilegeEscalation: false", "+                     allowPrivilegeEscalation: false"]),
        ("PRB203", ["-                     timeoutSeconds: 10", "+                     timeoutSeconds: 9"]),
        ("PSA220", ["+     pod-security.kubernetes.io/enforce: restricted"]),
        ("PSA219", ["+             securityContext:", "+                 seccompProfile:", "+                     type: RuntimeDefault"]),
    ],
)
def test_diff_shows_one_rules_fix_and_writes_nothing(proj, capsys, rule, expected):
    write(proj, {"app.yaml": APP})
    code, out, _ = run(capsys, "check", "--diff", "--unsafe-fixes", "--select", rule, "app.yaml")
    assert code == 1
    assert (proj / "app.yaml").read_text(encoding="utf-8") == APP
    assert out.startswith("--- a/app.yaml\n+++ b/app.yaml\n")
    assert [line[0] + " " + line[1:] for line in out.splitlines()[2:] if line[:1] in "+-"] == expected


def test_pod_security_fixes_are_unsafe_and_the_annotation_removal_safe(proj, capsys):
    annotated = APP.replace(
        "        metadata:\n            labels:\n",
        "        metadata:\n            annotations:\n                ignore-check.pitfall.dev/PSA211: 'no sysctls here'\n            labels:\n",
    )
    write(proj, {"app.yaml": annotated})
    run(capsys, "check", "--fix", "app.yaml")
    after = (proj / "app.yaml").read_text(encoding="utf-8")
    assert changes(annotated, after) == [
        "-             annotations:",
        "-                 ignore-check.pitfall.dev/PSA211: 'no sysctls here'",
    ]
    assert after == APP
    left = {f["code"] for f in findings(capsys, "app.yaml")}
    assert set(FIXED_RULES) <= left and "LNT003" not in left


def test_sarif_carries_the_annotation_removal(proj, capsys):
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
        '    ignore-check.pitfall.dev/PRT202: "node port agreed with ops"\n'
        "    team: shop   # kept\nspec:\n  ports:\n  - port: 80\n"
    )
    write(proj, {"svc.yaml": text})
    _, doc = sarif(capsys, "svc.yaml")
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "LNT003"]
    (fix,) = result["fixes"]
    assert fix["description"]["text"] == "Remove the unused suppression annotation"
    (change,) = fix["artifactChanges"]
    edits = [_replacement(r) for r in change["replacements"]]
    assert _apply(text, edits) == text.replace('    ignore-check.pitfall.dev/PRT202: "node port agreed with ops"\n', "")


def test_sarif_carries_the_manifest_fixes_and_applying_them_clears_the_findings(proj, capsys):
    write(proj, {"app.yaml": APP})
    _, doc = sarif(capsys, "app.yaml", "--select", ",".join(FIXED_RULES))
    results = doc["runs"][0]["results"]
    fixed = [r for r in results if r.get("fixes")]
    assert {r["ruleId"] for r in fixed} >= {"PSA213", "PSA214", "PSA217"}
    assert all(r["properties"]["fixApplicability"] == "unsafe" for r in fixed)
    # each carried fix, applied alone, is valid YAML and removes its own finding
    for r in fixed:
        (change,) = r["fixes"][0]["artifactChanges"]
        after = _apply(APP, [_replacement(x) for x in change["replacements"]])
        list(yaml.safe_load_all(after))
        write(proj, {"one.yaml": after})
        left = [(f["code"], f["message"]) for f in findings(capsys, "one.yaml") if f["code"] == r["ruleId"]]
        assert (r["ruleId"], r["message"]["text"]) not in left


def _replacement(replacement: dict) -> tuple[int, int, int, int, str]:
    r = replacement["deletedRegion"]
    return r["startLine"], r["startColumn"], r["endLine"], r["endColumn"], replacement["insertedContent"]["text"]


def _apply(text: str, edits: list[tuple[int, int, int, int, str]]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for sl, sc, el, ec, new in sorted(edits, reverse=True):
        a, b = starts[sl - 1] + sc - 1, starts[el - 1] + ec - 1
        text = text[:a] + new + text[b:]
    return text


CRONJOB = """\
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
          initContainers:
          - name: init
            image: busybox
            securityContext:
          containers:
          - name: job   # main
            image: "alpine"
            # about the job
          # about the volumes
          volumes: []
...
---
apiVersion: v1
kind: Namespace
metadata:
  name: ops"""


def test_new_keys_go_above_a_comment_about_what_follows(proj, capsys):
    write(proj, {"cj.yaml": CRONJOB})
    run(capsys, "check", "--fix", "--unsafe-fixes", "--select", "PSA213", "cj.yaml")
    after = (proj / "cj.yaml").read_text(encoding="utf-8")
    # the empty securityContext of the init container is filled in; the job's new securityContext
    # follows the job's own comment and stays above the comment about the volumes
    assert after == CRONJOB.replace(
        "            securityContext:\n",
        "            securityContext:\n              allowPrivilegeEscalation: false\n",
    ).replace(
        "            # about the job\n",
        "            # about the job\n            securityContext:\n              allowPrivilegeEscalation: false\n",
    )


def test_namespace_label_takes_the_configured_level(proj, capsys):
    write(proj, {".pitfall.toml": 'pss-level = "baseline"\n', "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"})
    run(capsys, "check", "--fix", "--unsafe-fixes", "ns.yaml")
    assert (proj / "ns.yaml").read_text(encoding="utf-8") == (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n"
    )


def test_a_weaker_warn_label_gets_no_enforce_fix(proj, capsys):
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    pod-security.kubernetes.io/warn: baseline\n"
    write(proj, {"ns.yaml": text})
    run(capsys, "check", "--fix", "--unsafe-fixes", "ns.yaml")
    assert (proj / "ns.yaml").read_text(encoding="utf-8") == text  # restricted would make warn weaker (PSA223)


def test_probe_period_of_one_second_gets_no_fix(proj, capsys):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n"
        "  containers:\n  - name: c\n    image: nginx\n"
        "    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
        "    livenessProbe:\n      exec: {command: [true]}\n      periodSeconds: 1\n"
        "    startupProbe:\n      exec: {command: [true]}\n      periodSeconds: 5\n      timeoutSeconds: 30\n"
    )
    write(proj, {"pod.yaml": text})
    run(capsys, "check", "--fix", "--unsafe-fixes", "pod.yaml")
    after = (proj / "pod.yaml").read_text(encoding="utf-8")
    assert changes(text, after) == ["-       timeoutSeconds: 30", "+       timeoutSeconds: 4"]
    assert [f["location"]["row"] for f in findings(capsys, "--select", "PRB203", "pod.yaml")] == [13]


def test_flow_style_security_context_is_extended_in_place(proj, capsys):
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        '    securityContext: {runAsUser: 1000, capabilities: {drop: ["NET_RAW"]}}\n'
    )
    write(proj, {"pod.yaml": text})
    run(capsys, "check", "--fix", "--unsafe-fixes", "--select", "PSA214", "pod.yaml")
    after = (proj / "pod.yaml").read_text(encoding="utf-8")
    assert changes(text, after) == [
        '-     securityContext: {runAsUser: 1000, capabilities: {drop: ["NET_RAW"]}}',
        '+     securityContext: {runAsUser: 1000, capabilities: {drop: ["NET_RAW", ALL]}}',
    ]


def test_templates_and_documents_that_do_not_round_trip_are_left_alone(proj, capsys):
    template = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: \"{{ .Values.image }}\"\n"
    # two sequence styles in one document: no indentation reproduces it, so no fix touches it,
    # while the next document is fixed
    mixed = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: mixed\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        "    ports:\n      - containerPort: 80\n"
        "---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
    )
    write(proj, {"tpl.yaml": template, "mixed.yaml": mixed})
    code, out, err = run(capsys, "check", "--fix", "--unsafe-fixes", "tpl.yaml", "mixed.yaml")
    assert "Traceback" not in out + err
    assert (proj / "tpl.yaml").read_text(encoding="utf-8") == template
    after = (proj / "mixed.yaml").read_text(encoding="utf-8")
    assert changes(mixed, after) == ["+   labels:", "+     pod-security.kubernetes.io/enforce: restricted"]
    assert after.startswith(mixed[: mixed.index("---\n") + 4])


def test_bom_and_crlf_line_breaks_are_kept(proj, capsys):
    text = "apiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: shop  # the shop\r\n"
    write(proj, {"ns.yaml": b"\xef\xbb\xbf" + text.encode()})
    run(capsys, "check", "--fix", "--unsafe-fixes", "ns.yaml")
    assert (proj / "ns.yaml").read_bytes() == b"\xef\xbb\xbf" + (
        text + "  labels:\r\n    pod-security.kubernetes.io/enforce: restricted\r\n"
    ).encode()


# --------------------------------------------------------------------------- Helm values


VALUES = """\
# Default values for front.
image:
  repository: registry.example.com/front   # mirrored
  tag: "1.4"

podSecurityContext: {}
securityContext:
  runAsUser: 1000

service:
  port: 80
"""


def test_values_fix_sets_a_nested_key_keeping_the_rest():
    fix = values_fix("values.yaml", VALUES, "securityContext.runAsNonRoot", True, "Set runAsNonRoot", "unsafe")
    assert fix is not None and fix.applicability == "unsafe" and fix.title == "Set runAsNonRoot"
    after = apply_fixes(VALUES, [fix])
    assert changes(VALUES, after) == ["+   runAsNonRoot: true"]
    made = values_fix("values.yaml", VALUES, "podSecurityContext.seccompProfile.type", "RuntimeDefault", "Set seccomp", "unsafe")
    assert made is not None
    assert yaml.safe_load(apply_fixes(VALUES, [made]))["podSecurityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    new = values_fix("values.yaml", VALUES, "networkPolicy.enabled", True, "Enable", "unsafe")
    assert new is not None
    assert changes(VALUES, apply_fixes(VALUES, [new])) == ["+ networkPolicy:", "+   enabled: true"]


def test_values_fix_refuses_what_it_cannot_set_cleanly():
    assert values_fix("values.yaml", VALUES, "image.tag.major", 1, "t", "safe") is None  # a string, not a mapping
    assert values_fix("values.yaml", VALUES, "image.tag", "1.4", "t", "safe") is None  # already so: nothing to do
    assert values_fix("values.yaml", "image: {{ .Values.x }}\n", "a.b", 1, "t", "safe") is None


# --------------------------------------------------------------------------- the editor


POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p   # the pod\nspec:\n  containers:\n  - name: c\n    image: 'nginx'\n"


def test_language_server_offers_the_fix_as_a_code_action(tmp_path):
    client = Client(tmp_path)
    try:
        client.initialize()
        uri = client.open("pod.yaml", POD, "yaml")
        diags = client.diagnostics(uri, lambda d: any(x["code"] == "PSA213" for x in d))
        psa213 = next(d for d in diags if d["code"] == "PSA213")
        actions = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": psa213["range"], "context": {"diagnostics": [psa213]}})
        titles = [a["title"] for a in actions]
        assert "Fix: Set `securityContext.allowPrivilegeEscalation: false` on container `c` (unsafe)" in titles
        action = next(a for a in actions if a["title"].startswith("Fix:"))
        (edit,) = action["edit"]["changes"][uri]
        r = edit["range"]
        fixed = _apply(POD, [(r["start"]["line"] + 1, r["start"]["character"] + 1, r["end"]["line"] + 1, r["end"]["character"] + 1, edit["newText"])])
        assert changes(POD, fixed) == ["+     securityContext:", "+       allowPrivilegeEscalation: false"]
        client.change(uri, fixed)
        client.diagnostics(uri, lambda d: d and not any(x["code"] == "PSA213" for x in d))
    finally:
        client.close()


# --------------------------------------------------------------------------- pre-commit


def test_pitfall_fix_hook_removes_an_unused_annotation(hook_repo, pre_commit_home, tmp_path):
    text = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n"
        "    ignore-check.pitfall.dev/PRT202: agreed\n"
        "spec:\n  ports:\n  - port: 80\n"
    )
    work = pc._work_repo(tmp_path / "work", {"svc.yaml": text})
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "pitfall-fix", "--verbose", "--color", "never", "--all-files"]
    proc = subprocess.run(cmd, cwd=work, env=pc._env(pre_commit_home), capture_output=True, text=True, timeout=pc.HOOK_TIMEOUT, check=False)
    assert proc.returncode != 0, pc._show(proc)  # the hook changed a file: pre-commit fails the commit
    assert re.search(r"files were modified by this hook", proc.stdout), pc._show(proc)
    assert "Traceback" not in proc.stdout + proc.stderr, pc._show(proc)
    assert (work / "svc.yaml").read_text(encoding="utf-8") == "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"

