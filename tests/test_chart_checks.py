"""Chart and manifest checks of the "Charts" work: HLM203's reading of templates, the shell words of
TLS204, one finding per problem (PRT201 beside PSA204, PSA203/PSA216 per pod) and names made from
``generateName``. The rule examples run in tests/test_rule_examples.py; these tests pin the
pieces the examples cannot show one by one."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from linter.helm.hooks import charts
from linter.kubernetes.hooks import kube_tls
from linter.cli import main
from linter.kubernetes.objects import display_name


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def check(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> list[dict]:
    code = main(["check", str(path), "--format", "json", "--no-cache", *args])
    out, err = capsys.readouterr()
    assert code in (0, 1), (code, out, err)
    return json.loads(out)["findings"]


# --------------------------------------------------------------------------- HLM203


def test_value_ports_keys_and_policy_lists() -> None:
    values = {
        "service": {"port": 80, "targetPort": 8080, "transport": 9, "export": 10},
        "config": {"gossip_listen_port": 7282, "health": {"listen_port": 7284}},
        "metrics-port": 9100,
        "extraPorts": [9200],
        "networkPolicy": {"ingress": [{"ports": [{"port": 8201}]}]},
        "enabled": True,
    }
    got = charts._value_ports(values)
    assert sorted(got) == [80, 7282, 7284, 8080, 9100, 9200]
    assert got[7284] == {("config", "health", "listen_port")}


def test_read_values_skips_addresses() -> None:
    text = "port: {{ .Values.web.port }}\nvalue: http://api:{{ .Values.api.service.port }}\n"
    assert charts._read_values(text) == {("web", "port")}


@pytest.mark.parametrize(("paths", "read", "expected"), [
    ({("server", "readinessProbe", "port")}, {("server", "readinessProbe", "path")}, True),
    ({("server", "readinessProbe", "port")}, {("server", "image", "tag")}, False),
    ({("config", "gossip_listen_port")}, {("config", "cluster_id")}, True),
    ({("injector", "port")}, {("csi", "image")}, False),
])
def test_reads_neighbourhood(paths: set, read: set, expected: bool) -> None:
    assert (charts._reads(paths, read) is not None) is expected


TEMPLATE = textwrap.dedent("""\
    apiVersion: v1
    kind: Service
    metadata:
      name: web
    spec:
      ports:
        - port: 8080
          targetPort: http
        - name: gossip
          port: 7282
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: web
    spec:
      egress:
        - ports:
            - port: 443
      ingress:
        - ports:
          {{- if .Values.x }}
            - port: 8080
          {{- end }}
    ---
    apiVersion: apps/v1
    kind: Deployment
    spec:
      template:
        spec:
          containers:
            - name: web
              ports:
                - containerPort: 8080
                  hostPort: 8080
              livenessProbe:
                httpGet:
                  port: 8080
    """)


@pytest.mark.parametrize(("index", "bound"), [
    (6, False),  # the Service's own port beside a targetPort
    (9, True),  # no targetPort: it defaults to the port
    (18, False),  # egress: another server's port
    (22, True),  # ingress NetworkPolicy port of the pod (inside a template action)
    (33, True),  # containerPort
    (34, False),  # hostPort: chosen on the node's side
    (37, True),  # a probe's port
])
def test_bound_to_container(index: int, bound: bool) -> None:
    lines = TEMPLATE.splitlines()
    m = charts._PORT_LINE.match(lines[index])
    assert m, lines[index]
    ancestors, siblings, kind = charts._context(lines, index)
    assert charts._bound_to_container(m.group(3), ancestors, siblings, kind) is bound, (lines[index], ancestors, siblings, kind)


def test_hardcoded_port_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: chart\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("web:\n  port: 8080\n  image: web:1\nother:\n  port: 9090\n")
    (chart / "templates" / "deploy.yaml").write_text(textwrap.dedent("""\
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
                - name: web
                  image: {{ .Values.web.image }}
                  ports:
                    - containerPort: 8080
                    - containerPort: 9090
                    - containerPort: 7000
        """))
    found = [f for f in check(capsys, chart, "--select", "HLM203") if f["code"] == "HLM203"]
    # 8080 is web.port, which this template's part of the values holds; 9090 belongs to `other`,
    # which the template never reads; 7000 is no value at all
    assert [(Path(f["filename"]).name, f["location"]["row"]) for f in found] == [("deploy.yaml", 14)]
    assert found[0]["message"] == ("`containerPort: 8080` is hardcoded in the template, but values set this port "
                                   "(`web.port`); read it from there")


# --------------------------------------------------------------------------- TLS204


@pytest.mark.parametrize(("items", "expected"), [
    (["sh", "-c", "vault status -tls-skip-verify"], [(2, "-tls-skip-verify")]),
    (["curl", "-fsSk", "https://x"], [(1, "curl -fsSk")]),
    (["sh", "-c", "curl -s http://a && wget -q --no-check-certificate https://b"], [(2, "wget --no-check-certificate")]),
    (["sh", "-c", "NODE_TLS_REJECT_UNAUTHORIZED=0 node probe.js"], [(2, "NODE_TLS_REJECT_UNAUTHORIZED=0")]),
    (["sh", "-c", "if curl --insecure https://x; then exit 0; fi"], [(2, "curl --insecure")]),
    (["curl", "-H", "X-Flag: -k", "https://x"], []),  # a header value, not an option
    (["sh", "-c", "curl -d -k https://x"], []),  # `-k` is the data of `-d`
    (["sh", "-c", "wget -k https://x"], []),  # wget's -k converts links
    (["/bin/check", "-k", "5"], []),  # another tool's -k
    (["sh", "-c", "echo curl -k"], []),  # an argument of echo
    (["sh", "-c", "VAULT_SKIP_VERIFY=false vault status"], []),
])
def test_command_insecure(items: list[str], expected: list[tuple[int, str]]) -> None:
    assert list(kube_tls._command_insecure(items)) == expected


def test_unbalanced_quote_is_read_word_by_word() -> None:
    assert list(kube_tls._command_insecure(["sh", "-c", "curl -k 'https://x"])) == [(2, "curl -k")]


# --------------------------------------------------------------------------- one finding a problem

HOST_PORT = textwrap.dedent("""\
    apiVersion: v1
    kind: Pod
    metadata:
      generateName: debug-
    spec:
      containers:
        - name: shell
          image: busybox:1.36
          ports:
            - containerPort: 8080
              hostPort: 8080
    """)


@pytest.mark.parametrize(("args", "codes"), [
    ((), ["PSA204"]),  # everything selected: the Pod Security rule reports it, once
    (("--select", "PRT"), ["PRT201"]),
    (("--select", "PRT201,PSA204"), ["PSA204"]),
    (("--select", "PRT201,PSA204", "--config", 'pss-level = "baseline"'), ["PSA204"]),
    (("--select", "PRT201,PSA", "--ignore", "PSA204"), ["PRT201"]),
    (("--ignore", "PSA"), ["PRT201"]),
    (("--ignore", "PSA204"), ["PRT201"]),
])
def test_host_port_reported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], codes: list[str]) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(HOST_PORT)
    found = check(capsys, path, *args)
    assert [f["code"] for f in found if f["location"]["row"] == 11] == codes


def test_generate_name_is_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text(HOST_PORT)
    [found] = check(capsys, path, "--select", "PRT201")
    assert found["message"].startswith("Pod `debug-*`: ")
    assert display_name({"metadata": {"name": "web", "generateName": "x-"}}) == "web"
    assert display_name({"metadata": {}}) == "?"


def test_host_path_volumes_one_finding_a_pod(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    volumes = "".join(f"    - name: v{i}\n      hostPath: {{path: /v{i}}}\n" for i in range(5))
    path = tmp_path / "pod.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: agent\nspec:\n  containers:\n"
                    "    - name: a\n      image: busybox:1.36\n  volumes:\n" + volumes)
    found = check(capsys, path, "--select", "PSA216,PSA203")
    assert [(f["code"], f["location"]["row"]) for f in found] == [("PSA216", 11)]
    assert found[0]["message"] == ('Pod `agent`: restricted volume types (volumes "v0", "v1", "v2", "v3", "v4" '
                                   'use restricted volume type "hostPath")')
    found = check(capsys, path, "--select", "PSA203", "--config", 'pss-level = "baseline"')
    assert [(f["code"], f["location"]["row"], f["message"]) for f in found] == [
        ("PSA203", 11, 'Pod `agent`: hostPath volumes (volumes "v0", "v1", "v2", "v3", "v4")')]


def test_free_values_are_only_written_where_no_container_listens() -> None:
    templates = {
        "templates/svc.yaml": "kind: Service\nspec:\n  ports:\n    - port: {{ .Values.service.port }}\n"
                              "      targetPort: {{ .Values.service.targetPort }}\n"
                              "      nodePort: {{ .Values.service.nodePort }}\n",
        "templates/deploy.yaml": "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n"
                                 "        - name: web\n          ports:\n"
                                 "            - containerPort: {{ .Values.service.targetPort }}\n",
    }
    assert charts._free_values(templates) == {("service", "port"), ("service", "nodePort")}
