"""Kubernetes rules PSA220-PSA224, TLS201-TLS215, PRT201-PRT205 and PRB201-PRB206 through the real CLI, and the Kubernetes rule vocabulary.

The rule examples run in tests/test_rule_examples.py; these tests cover what examples cannot:
several documents of one file working together, ``kind: List``, JSON manifests, settings
overrides, certificates made at test time, and the exact line and column of every finding.
"""

from __future__ import annotations

import base64
import json
import re
import textwrap
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from linter.kubernetes.vocabulary import parse_go_duration
from linter.cli import main

MARK = re.compile(r"#\s*error\b")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pyproject.toml of the repository may leak its [tool.pitfall] settings in."""
    monkeypatch.chdir(tmp_path)


def check(capsys: pytest.CaptureFixture[str], path: Path, *args: str) -> tuple[int, list[dict]]:
    code = main(["check", str(path), "--format", "json", "--no-cache", *args])
    out, err = capsys.readouterr()
    assert code in (0, 1), (code, out, err)
    return code, json.loads(out)["findings"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def lines_of(findings: list[dict], code: str | None = None) -> list[int]:
    return sorted(f["location"]["row"] for f in findings if code is None or f["code"] == code)


def marked(path: Path) -> list[int]:
    return [i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if MARK.search(line)]


def assert_exact(path: Path, findings: list[dict], keys: dict[int, str] | None = None) -> None:
    """Reported lines equal the `# error` lines, and each finding starts at the reported key
    (``keys``: line -> the key or value text expected at the finding's column)."""
    assert sorted(set(lines_of(findings))) == marked(path), [(f["code"], f["location"], f["message"]) for f in findings]
    text = path.read_text(encoding="utf-8").splitlines()
    for f in findings:
        row, col = f["location"]["row"], f["location"]["column"]
        if keys is not None:
            assert row in keys, f"no expected key given for line {row}"
            assert text[row - 1][col - 1 :].startswith(keys[row]), (f, text[row - 1])


# --------------------------------------------------------------------------- namespaces

NAMESPACE_AND_WORKLOADS = """
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: {version}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: app
          image: nginx:1.27
          livenessProbe:
            httpGet:
              host: 10.0.0.1{mark}
              port: 8080
---
apiVersion: v1
kind: Pod
metadata:
  name: elsewhere
  namespace: other
spec:
  hostNetwork: true
  containers:
    - name: app
      image: nginx:1.27
"""


@pytest.mark.parametrize(("version", "rejected"), [("v1.33", False), ("v1.34", True), ("latest", True)])
def test_namespace_enforcement_uses_the_version_label(tmp_path, capsys, version, rejected):
    # hostProbesAndHostLifecycle exists from policy v1.34 on: the label decides
    path = write(tmp_path, "app.yaml", NAMESPACE_AND_WORKLOADS.format(version=version, mark="  # error" if rejected else ""))
    code, findings = check(capsys, path, "--select", "PSA224")
    assert code == (1 if rejected else 0)
    assert_exact(path, findings, {24: "host"})
    if rejected:
        (f,) = findings
        assert f["message"].startswith(
            f"Deployment `web`: rejected by namespace `prod` (pod-security.kubernetes.io/enforce: baseline, {version}): "
        )
        assert "10.0.0.1" in f["message"]
        assert f["object"] == {"kind": "Deployment", "namespace": "prod", "name": "web"}


def test_namespace_enforcement_ignores_the_pss_level_setting(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: prod
      labels:
        pod-security.kubernetes.io/enforce: restricted
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
      namespace: prod
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: nginx:1.27
          securityContext:  # error
            capabilities:
              drop: [ALL]
    """
    path = write(tmp_path, "pod.yaml", text)
    _, findings = check(capsys, path, "--select", "PSA224", "--config", 'pss-level = "baseline"')
    assert_exact(path, findings, {20: "securityContext"})
    assert "allowPrivilegeEscalation" in findings[0]["message"]
    assert "enforce: restricted, latest" in findings[0]["message"]


def test_namespace_without_enforce_or_privileged_is_not_evaluated(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: a
    ---
    apiVersion: v1
    kind: Namespace
    metadata:
      name: b
      labels:
        pod-security.kubernetes.io/enforce: privileged
    ---
    apiVersion: v1
    kind: Namespace
    metadata:
      name: c
      labels:
        pod-security.kubernetes.io/enforce: Restricted
    """
    pods = "".join(
        f"---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{ns}\n  namespace: {ns}\nspec:\n  hostPID: true\n  containers:\n    - name: app\n      image: x\n"
        for ns in "abc"
    )
    path = write(tmp_path, "ns.yaml", textwrap.dedent(text).lstrip("\n") + pods)
    _, findings = check(capsys, path, "--select", "PSA224")
    assert findings == []


def test_kind_list_namespace_and_workload(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: List
    items:
      - apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
          labels:
            pod-security.kubernetes.io/enforce: baseline
            pod-security.kubernetes.io/warn: privileged  # error
      - apiVersion: apps/v1
        kind: DaemonSet
        metadata:
          name: agent
          namespace: shop
        spec:
          selector: {matchLabels: {app: agent}}
          template:
            metadata: {labels: {app: agent}}
            spec:
              hostNetwork: true  # error
              containers:
                - name: agent
                  image: example/agent:1.0
    """
    path = write(tmp_path, "list.yaml", text)
    _, findings = check(capsys, path, "--select", "PSA223,PSA224")
    assert_exact(path, findings, {10: "pod-security.kubernetes.io/warn", 21: "hostNetwork"})
    assert {f["code"] for f in findings} == {"PSA223", "PSA224"}


def test_exempt_namespaces(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: kube-system
    ---
    apiVersion: v1
    kind: Namespace
    metadata:
      name: tools
      labels:
        pod-security.kubernetes.io/enforce: privileged
    ---
    apiVersion: v1
    kind: Namespace
    metadata:
      name: tools2
      labels:
        pod-security.kubernetes.io/enforce: restricted
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: debug
      namespace: tools2
    spec:
      hostNetwork: true
      containers:
        - name: shell
          image: busybox:1.36
    """
    path = write(tmp_path, "ns.yaml", text)
    select = ("--select", "PSA220,PSA222,PSA224")
    _, default = check(capsys, path, *select)
    # kube-system is exempt by default; tools enforces privileged; tools2 rejects the pod
    assert sorted({(f["code"], f["location"]["row"]) for f in default}) == [
        ("PSA222", 11),  # the enforce label
        ("PSA224", 25),  # pod spec: seccompProfile missing
        ("PSA224", 26),  # hostNetwork
        ("PSA224", 28),  # container: securityContext missing
    ]
    _, custom = check(capsys, path, *select, "--config", 'exempt-namespaces = ["tools", "tools2"]')
    # now kube-system needs labels, and nothing in tools/tools2 is evaluated
    assert [(f["code"], f["location"]["row"]) for f in custom] == [("PSA220", 3)]


def test_invalid_labels_are_reported_for_exempt_namespaces_too(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Namespace
    metadata:
      name: kube-system
      labels:
        pod-security.kubernetes.io/enforce: yes  # error
        pod-security.kubernetes.io/warn-version: v2.0  # error
        pod-security.kubernetes.io/audit-version: latest
    """
    path = write(tmp_path, "ns.yaml", text)
    _, findings = check(capsys, path, "--select", "PSA221")
    assert_exact(path, findings, {6: "pod-security.kubernetes.io/enforce", 7: "pod-security.kubernetes.io/warn-version"})
    assert "`pod-security.kubernetes.io/enforce: True`" in findings[0]["message"]


def test_pss_version_override_changes_a_result(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: app
          image: nginx:1.27
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
          readinessProbe:
            httpGet:
              host: 169.254.169.254
              port: 80
    """
    path = write(tmp_path, "pod.yaml", text)
    _, latest = check(capsys, path, "--select", "PSA205")
    assert lines_of(latest) == [17]
    _, old = check(capsys, path, "--select", "PSA205", "--config", 'pss-version = "v1.24"')
    assert old == []


# --------------------------------------------------------------------------- JSON manifests


def test_json_manifest_positions(tmp_path, capsys):
    doc = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": "http", "nodePort": 30080}]},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "nginx", "ports": [{"containerPort": 8080, "hostPort": 80, "name": "web"}]}]},
            },
        ],
    }
    text = json.dumps(doc, indent=2)
    path = tmp_path / "app.json"
    path.write_text(text, encoding="utf-8")
    _, findings = check(capsys, path, "--select", "PRT201,PRT202,PRT203")
    rows = text.splitlines()
    by_code = {f["code"]: f for f in findings}
    assert set(by_code) == {"PRT201", "PRT202", "PRT203"}
    for code, key in (("PRT201", '"hostPort"'), ("PRT202", '"nodePort"'), ("PRT203", '"targetPort"')):
        loc = by_code[code]["location"]
        assert rows[loc["row"] - 1][loc["column"] - 1 :].startswith(key), (code, loc)


# --------------------------------------------------------------------------- Services and workloads


SERVICE_AND_WORKLOADS = """
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  selector: {app: api}
  ports:
    - name: http
      port: 80
      targetPort: http  # error
    - name: grpc
      port: 9000
      targetPort: grpc
    - name: admin
      port: 9001
      targetPort: 9001  # error
    - name: plain
      port: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api, version: v1}}
    spec:
      initContainers:
        - name: proxy
          image: envoy:1.30
          restartPolicy: Always
          ports:
            - {name: grpc, containerPort: 9000}
      containers:
        - name: app
          image: example/api:1.0
          ports:
            - {name: web, containerPort: 8080}
---
# same labels, other namespace: not selected by the Service
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: other
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: app
          image: example/api:1.0
          ports:
            - {name: http, containerPort: 9001}
"""


def test_service_target_ports_across_documents(tmp_path, capsys):
    path = write(tmp_path, "svc.yaml", SERVICE_AND_WORKLOADS)
    _, findings = check(capsys, path, "--select", "PRT203")
    assert_exact(path, findings, {11: "targetPort", 17: "targetPort"})
    messages = [f["message"] for f in findings]
    assert "no container declares a port named `http` (named ports: grpc, web)" in messages[0]
    assert "no container declares containerPort 9001 (declared: 8080, 9000)" in messages[1]


def test_service_without_matching_workload_is_silent(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Service
    metadata:
      name: api
    spec:
      selector: {app: api, tier: backend}
      ports:
        - port: 80
          targetPort: http
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: api
      labels: {app: api}
    spec:
      containers:
        - name: app
          image: x
    """
    path = write(tmp_path, "svc.yaml", text)
    _, findings = check(capsys, path, "--select", "PRT203")
    assert findings == []


def test_numeric_target_port_needs_every_selected_pod_to_declare_ports(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Service
    metadata:
      name: api
    spec:
      selector: {app: api}
      ports:
        - port: 80
          targetPort: 8081
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: a
      labels: {app: api}
    spec:
      containers:
        - {name: app, image: x, ports: [{containerPort: 8080}]}
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: b
      labels: {app: api}
    spec:
      containers:
        - {name: app, image: x}
    """
    path = write(tmp_path, "svc.yaml", text)
    _, findings = check(capsys, path, "--select", "PRT203")
    assert findings == []


def test_probe_named_ports_and_duplicates(tmp_path, capsys):
    text = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: db
    spec:
      serviceName: db
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers:
            - name: db
              image: postgres:16
              ports:
                - {name: pg, containerPort: 5432}
                - {name: dns, containerPort: 53, protocol: UDP}
                - {name: dns-tcp, containerPort: 53}
                - {name: metrics, containerPort: 5432, protocol: TCP}  # error
              livenessProbe:
                tcpSocket: {port: "5432"}
              readinessProbe:
                tcpSocket: {port: postgres}  # error
    """
    path = write(tmp_path, "db.yaml", text)
    _, findings = check(capsys, path, "--select", "PRT204,PRT205")
    # the duplicate sits inside a flow mapping: the finding is on its containerPort key
    assert_exact(path, findings, {18: "containerPort", 22: "port"})
    assert [f["code"] for f in sorted(findings, key=lambda f: f["location"]["row"])] == ["PRT205", "PRT204"]


# --------------------------------------------------------------------------- certificates


NOW = datetime.now(timezone.utc)
PEM = serialization.Encoding.PEM


@cache
def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(tag: str = "") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(key, *, cn: str = "shop.example.test", days_left: float = 365, san: bool = True) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x2A)
        .not_valid_before(NOW - timedelta(days=30))
        .not_valid_after(NOW + timedelta(days=days_left))
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    return builder.sign(key, hashes.SHA256())


def der_tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        body = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(body)]) + body
    return bytes([tag]) + length + content


def sha1_resign(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> x509.Certificate:
    """Re-sign an RSA/SHA-256 certificate with SHA-1 (cryptography's builder refuses to)."""
    sha256_oid = bytes.fromhex("06092a864886f70d01010b")
    sha1_oid = bytes.fromhex("06092a864886f70d010105")
    tbs = cert.tbs_certificate_bytes.replace(sha256_oid, sha1_oid)
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())
    der = der_tlv(0x30, tbs + der_tlv(0x30, sha1_oid + b"\x05\x00") + der_tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(PEM).decode()


def key_pem(key) -> str:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def tls_secret(crt: str, key: str | None = None, *, data: bool = False, name: str = "shop-tls") -> str:
    """A kubernetes.io/tls Secret; its tls.crt key is on line 7."""
    head = f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/tls\n"
    if data:
        out = head + "data:\n" + f"  tls.crt: {base64.b64encode(crt.encode()).decode()}\n"
        if key is not None:
            out += f"  tls.key: {base64.b64encode(key.encode()).decode()}\n"
        return out
    out = head + "stringData:\n  tls.crt: |\n" + textwrap.indent(crt, "    ")
    if key is not None:
        out += "  tls.key: |\n" + textwrap.indent(key, "    ")
    return out


CERT_RULES = "TLS210,TLS211,TLS212,TLS213,TLS214,TLS215"


def cert_findings(tmp_path, capsys, text: str, *args: str) -> list[tuple[str, int, str]]:
    path = tmp_path / "secret.yaml"
    path.write_text(text, encoding="utf-8")
    _, findings = check(capsys, path, "--select", CERT_RULES, *args)
    for f in findings:  # always on the tls.crt key
        assert (f["location"]["row"], f["location"]["column"]) == (7, 3), f
    return [(f["code"], f["location"]["row"], f["message"]) for f in findings]


@pytest.mark.parametrize("data", [False, True])
def test_certificate_good_pair_is_clean(tmp_path, capsys, data):
    key = ec_key()
    assert cert_findings(tmp_path, capsys, tls_secret(pem(make_cert(key)), key_pem(key), data=data)) == []


@pytest.mark.parametrize("data", [False, True])
def test_certificate_expiring_soon(tmp_path, capsys, data):
    key = ec_key()
    text = tls_secret(pem(make_cert(key, days_left=10)), key_pem(key), data=data)
    (found,) = cert_findings(tmp_path, capsys, text)
    assert found[0] == "TLS211"
    assert "threshold 30 days" in found[2] and "CN=shop.example.test" in found[2]
    assert cert_findings(tmp_path, capsys, text, "--config", "cert-expiry-days = 5") == []


def test_certificate_expired_and_without_san(tmp_path, capsys):
    key = ec_key()
    text = tls_secret(pem(make_cert(key, days_left=-3, san=False)), key_pem(key))
    assert sorted(code for code, _, _ in cert_findings(tmp_path, capsys, text)) == ["TLS210", "TLS213"]


def test_certificate_sha1_and_small_rsa_key(tmp_path, capsys):
    key = rsa_key(2048)
    sha1 = sha1_resign(make_cert(key), key)
    found = cert_findings(tmp_path, capsys, tls_secret(pem(sha1), key_pem(key)))
    assert [code for code, _, _ in found] == ["TLS212"]
    assert "SHA-1" in found[0][2]
    small = rsa_key(1024)
    found = cert_findings(tmp_path, capsys, tls_secret(pem(make_cert(small)), key_pem(small), data=True))
    assert [code for code, _, _ in found] == ["TLS212"]
    assert "1024-bit RSA key" in found[0][2]


def test_certificate_key_mismatch_never_prints_key_material(tmp_path, capsys):
    cert_key, other = ec_key("cert"), ec_key("other")
    key_text = key_pem(other)
    found = cert_findings(tmp_path, capsys, tls_secret(pem(make_cert(cert_key)), key_text))
    assert [code for code, _, _ in found] == ["TLS214"]
    body = "".join(key_text.splitlines()[1:-1])
    for chunk in (body[i : i + 16] for i in range(0, len(body) - 16, 16)):
        assert chunk not in found[0][2]


def test_certificate_chain_reports_each_certificate(tmp_path, capsys):
    leaf_key, old_key = ec_key("leaf"), ec_key("old")
    chain = pem(make_cert(leaf_key)) + pem(make_cert(old_key, cn="old-intermediate.example.test", days_left=-1))
    found = cert_findings(tmp_path, capsys, tls_secret(chain, key_pem(leaf_key)))
    assert [code for code, _, _ in found] == ["TLS210"]
    assert "old-intermediate" in found[0][2]


def test_certificate_unparsable_and_placeholders(tmp_path, capsys):
    twice = base64.b64encode(pem(make_cert(ec_key())).encode()).decode()
    found = cert_findings(tmp_path, capsys, tls_secret(twice + "\n"))
    assert [code for code, _, _ in found] == ["TLS215"]
    assert "base64-encoded twice" in found[0][2]
    empty = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: x\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ''\n  tls.key: ''\n"
    assert cert_findings(tmp_path, capsys, empty) == []
    opaque = tls_secret("garbage\n").replace("kubernetes.io/tls", "Opaque")
    assert cert_findings(tmp_path, capsys, opaque) == []


# --------------------------------------------------------------------------- TLS in objects


def test_skip_verify_everywhere(tmp_path, capsys):
    kubeconfig = "apiVersion: v1\nclusters:\n- cluster:\n    server: https://k8s\n    insecure-skip-tls-verify: true\n  name: c\n"
    text = f"""
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: telegraf
    data:
      telegraf.conf: |  # error
        [[inputs.prometheus]]
          urls = ["https://api:9090/metrics"]
          insecure_skip_verify = true
      datasource.json: '{{"url": "https://x", "jsonData": {{"tlsSkipVerify": true}}}}'  # error
      other.conf: |
        # insecure_skip_verify: true
        insecure_skip_verify: false
    ---
    apiVersion: v1
    kind: Secret
    metadata:
      name: kubeconfig
    data:
      config: {base64.b64encode(kubeconfig.encode()).decode()}  # error
    ---
    apiVersion: monitoring.coreos.com/v1
    kind: PodMonitor
    metadata:
      name: api
    spec:
      selector: {{matchLabels: {{app: api}}}}
      podMetricsEndpoints:
        - port: metrics
          tlsConfig: {{insecureSkipVerify: true}}  # error
    """
    path = write(tmp_path, "cm.yaml", text)
    _, findings = check(capsys, path, "--select", "TLS203")
    assert_exact(path, findings, {6: "telegraf.conf", 10: "datasource.json", 20: "config", 30: "insecureSkipVerify"})


def test_container_flags_and_env(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: tools
    spec:
      initContainers:
        - name: fetch
          image: alpine/git
          env:
            - name: GIT_SSL_NO_VERIFY
              value: "1"  # error
            - name: GIT_SSL_NO_VERIFY_X
              value: "1"
      containers:
        - name: build
          image: gcr.io/kaniko-project/executor:v1.23.0
          args: ["--destination=registry/x", "--skip-tls-verify"]  # error
        - name: copy
          image: quay.io/skopeo/stable
          args:
            - copy
            - --src-tls-verify=false  # error
            - --dest-tls-verify=true
            - --insecure-skip-tls-verify=false
          env:
            - name: PYTHONHTTPSVERIFY
              value: "0"  # error
            - name: CURL_CA_BUNDLE  # error
            - name: REQUESTS_CA_BUNDLE
              value: ""
            - name: NODE_TLS_REJECT_UNAUTHORIZED
              valueFrom:
                configMapKeyRef: {name: env, key: tls}
        - name: vault
          image: hashicorp/vault:1.17
          command: [sh, -c, "vault login -tls-skip-verify -method=kubernetes"]  # error
          env:
            - {name: VAULT_SKIP_VERIFY, value: "true"}  # error
    """
    path = write(tmp_path, "pod.yaml", text)
    _, findings = check(capsys, path, "--select", "TLS204")
    assert_exact(path, findings, {
        11: "value",
        17: '"--skip-tls-verify"',
        22: "--src-tls-verify=false",
        27: "value",
        28: "name",
        36: '"vault login',
        38: "value",
    })


def test_ingress_wildcards_and_annotations(tmp_path, capsys):
    text = """
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: shop
    spec:
      tls:
        - hosts: ["*.example.com"]
          secretName: wildcard
      rules:
        - host: WWW.Example.com
        - host: a.b.example.com  # error
        - host: example.com  # error
        - http: {paths: []}
    ---
    apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: gke
      annotations:
        networking.gke.io/managed-certificates: shop
    spec:
      rules:
        - host: shop.example.com
    """
    path = write(tmp_path, "ing.yaml", text)
    _, findings = check(capsys, path, "--select", "TLS201")
    assert_exact(path, findings, {11: "host", 12: "host"})


def test_istio_only_for_istio_api_groups(tmp_path, capsys):
    text = """
    apiVersion: example.com/v1
    kind: PeerAuthentication
    metadata:
      name: lookalike
    spec:
      mtls: {mode: DISABLE}
    ---
    apiVersion: security.istio.io/v1beta1
    kind: PeerAuthentication
    metadata:
      name: real
    spec:
      mtls: {mode: DISABLE}  # error
    """
    path = write(tmp_path, "pa.yaml", text)
    _, findings = check(capsys, path, "--select", "TLS205,TLS206")
    assert_exact(path, findings, {13: "mode"})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2160h", 2160 * 3600.0),
        ("720h0m0s", 720 * 3600.0),
        ("90m", 5400.0),
        ("1.5h", 5400.0),
        ("1h30m15.5s", 5415.5),
        ("300ms", 0.3),
        ("0", 0.0),
        ("-1h", -3600.0),
        ("", None),
        ("2160", None),
        ("h", None),
        ("1d", None),
        (2160, None),
    ],
)
def test_go_durations(text, seconds):
    assert parse_go_duration(text) == seconds


def test_cert_manager_other_api_groups_are_ignored(tmp_path, capsys):
    text = """
    apiVersion: acm.services.k8s.aws/v1alpha1
    kind: Certificate
    metadata:
      name: aws
    spec:
      renewBefore: 9999h
      privateKey: {size: 1024}
    ---
    apiVersion: cert-manager.io/v1
    kind: Certificate
    metadata:
      name: cm
    spec:
      duration: 24h
      renewBefore: 1440m  # error
      privateKey: {algorithm: ECDSA, size: 1024}
    """
    path = write(tmp_path, "cert.yaml", text)
    _, findings = check(capsys, path, "--select", "TLS208,TLS209")
    assert_exact(path, findings, {15: "renewBefore"})


# --------------------------------------------------------------------------- probes


def test_probes_on_long_running_workloads(tmp_path, capsys):
    text = """
    apiVersion: apps/v1
    kind: DaemonSet
    metadata:
      name: agent
    spec:
      selector: {matchLabels: {app: agent}}
      template:
        metadata: {labels: {app: agent}}
        spec:
          initContainers:
            - name: sidecar
              image: example/sidecar:1.0
              restartPolicy: Always
              ports: [{containerPort: 9000}]
          containers:
            - name: agent  # error
              image: example/agent:1.0
              ports: [{containerPort: 8080}]
    ---
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
            - name: app  # error
              image: nginx:1.27
              ports: [{containerPort: 8080}]
              livenessProbe:
                httpGet: {path: /healthz, port: 8080}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: once
    spec:
      activeDeadlineSeconds: 60
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: once
              image: busybox:1.36
              ports: [{containerPort: 8080}]
    """
    path = write(tmp_path, "probes.yaml", text)
    _, findings = check(capsys, path, "--select", "PRB201,PRB202,PRB205")
    assert_exact(path, findings, {16: "name", 30: "name"})
    assert sorted((f["code"], f["location"]["row"]) for f in findings) == [("PRB201", 30), ("PRB202", 16)]


def test_probe_defaults_and_identical_probes(tmp_path, capsys):
    text = """
    apiVersion: v1
    kind: Pod
    metadata:
      name: web
    spec:
      containers:
        - name: app
          image: nginx:1.27
          readinessProbe:
            exec: {command: [cat, /tmp/ready]}
            timeoutSeconds: 0
            periodSeconds: 0
          livenessProbe:  # error
            exec: {command: [cat, /tmp/ready]}
            timeoutSeconds: 0
            periodSeconds: 0
          startupProbe:
            tcpSocket: {port: 8080}
            timeoutSeconds: 10  # error
    """
    path = write(tmp_path, "pod.yaml", text)
    _, findings = check(capsys, path, "--select", "PRB203,PRB204")
    assert_exact(path, findings, {13: "livenessProbe", 19: "timeoutSeconds"})
    (timeout,) = [f for f in findings if f["code"] == "PRB203"]
    assert timeout["message"].endswith("startupProbe timeoutSeconds 10 is not below periodSeconds 10 (the default)")


def test_a_rule_that_raises_is_an_internal_error_naming_it_and_the_rest_is_reported(tmp_path, monkeypatch, capsys):
    from helpers import run as run_cli

    from linter.kubernetes import pss

    real = pss._run

    def broken(check, entry, pod):
        if check == "privileged":
            raise TypeError("boom")
        return real(check, entry, pod)

    monkeypatch.setattr(pss, "_run", broken)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pod.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector: {matchLabels: {app: web}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n"
        "        - name: app\n          image: app:1\n          securityContext:\n            privileged: true\n"
    )
    code, out, err = run_cli(capsys, "check", "pod.yaml", "--select", "PSA201,PRB202", "--no-cache")
    assert "pod.yaml:1: internal error in rule PSA201 on Deployment `web`: TypeError: boom" in err, (out, err)
    assert "PRB202" in out and "PSA201" not in out


_VOCABULARY_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  initContainers:
    - name: migrate
      image: app:1
    - name: proxy
      image: envoy:1
      restartPolicy: Always
  containers:
    - name: app
      image: app:1
      resources: null
  ephemeralContainers:
    - name: debug
      image: busybox:1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: a}
spec: {host: a}
---
apiVersion: example.com/v1
kind: DestinationRule
metadata: {name: b}
spec: {host: b}
"""


def _vocabulary_rule(rid: str, body: str) -> str:
    return (
        f"id: {rid}\nname: r-{rid.lower()}\ntarget: kubernetes\nseverity: warning\narea: config\nsummary: s\nrationale: r\n"
        f"message: \"{{kind}} {{name}} {{container}}\"\n{body}"
        "examples:\n  valid: ['apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\n']\n  invalid: ['x: 1  # error']\n"
    )


@pytest.mark.parametrize(
    "body, reported",
    [
        ("kinds: [Pod]\nscope: container\nmust: {required: [resources]}\n", ["migrate", "proxy", "app", "debug"]),
        ("kinds: [Pod]\nscope: container\ncontainers: [regular]\nmust: {required: [resources]}\n", ["app"]),
        ("kinds: [Pod]\nscope: container\ncontainers: [sidecar]\nmust: {required: [resources]}\n", ["proxy"]),
        ("kinds: [Pod]\nscope: container\ncontainers: [init, ephemeral]\nmust: {required: [resources]}\n", ["migrate", "debug"]),
        # a default for an absent key is checked like a written one (restartPolicy: Always for Pods)
        ("kinds: [Pod]\nscope: pod\ndefaults: {restartPolicy: Always}\nmust: {properties: {restartPolicy: {const: Never}}}\n", ["web"]),
        ("kinds: [DestinationRule]\napi-groups: [networking.istio.io]\nmust: {properties: {spec: {required: [trafficPolicy]}}}\n", ["a"]),
    ],
    ids=["every-container", "regular", "sidecar", "init-and-ephemeral", "defaults", "api-group"],
)
def test_vocabulary_container_kinds_api_groups_defaults_and_null(tmp_path, capsys, body, reported):
    """The YAML vocabulary says which containers a rule looks at, which API groups it applies to
    and what an absent key defaults to; a key written as null is absent, as the API server reads it."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: voc\nprefix: VOC\nversion: 0.1.0\ndescription: d\n")
    (pack / "VOC201-r-voc201.yaml").write_text(_vocabulary_rule("VOC201", body))
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pod.yaml").write_text(_VOCABULARY_POD)
    code = main(["check", str(proj / "pod.yaml"), "--packs", str(pack), "--select", "VOC", "--format", "json"])
    found = json.loads(capsys.readouterr().out)["findings"]
    # the message ends with the container (container scope) or the object's name
    assert [f["message"].split()[-1] for f in found] == reported, [f["message"] for f in found]
    assert code == 1


def _pack(tmp_path: Path, rules: dict[str, str]) -> Path:
    """A pack that is not built in (so it may not name Python hooks), one rule a body."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: voc\nprefix: VOC\nversion: 0.1.0\ndescription: d\n")
    for rid, body in rules.items():
        (pack / f"{rid}-r-{rid.lower()}.yaml").write_text(
            f"id: {rid}\nname: r-{rid.lower()}\ntarget: kubernetes\nseverity: warning\narea: config\nsummary: s\n"
            f"rationale: r\n{body}"
            "examples:\n  valid: ['apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\n']\n  invalid: ['x: 1  # error']\n"
        )
    return pack


def test_vocabulary_item_placeholder_and_defers_to(tmp_path, capsys):
    """`{item}` names the list item a finding is in (its name, else its index); `defers-to` keeps
    a rule silent while a rule reporting the same key is selected."""
    items = 'message: "route {item}"\nkinds: [Pod]\nscope: pod\nmust: {properties: {containers: {items: {required: [resources]}}}}\n'
    pack = _pack(tmp_path, {"VOC201": items + "defers-to: [VOC202]\n", "VOC202": items})
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: app\n    - image: x\n"
        "    - name: ok\n      resources: {}\n"
    )
    for select, reported in (("VOC201", "VOC201"), ("VOC", "VOC202")):
        main(["check", str(proj / "pod.yaml"), "--packs", str(pack), "--select", select, "--format", "json", "--no-cache"])
        found = json.loads(capsys.readouterr().out)["findings"]
        assert [(f["code"], f["location"]["row"], f["message"]) for f in found] == [
            (reported, 6, "route `app`"),
            (reported, 7, "route #1"),
        ]


def test_namespace_labels_and_tls_secrets_need_no_python(tmp_path, capsys):
    """A pack that is not built in writes Pod Security Namespace rules and certificate rules of
    TLS Secrets in YAML alone: the `pss: {namespace: ...}` and `certificate` blocks."""
    pack = _pack(
        tmp_path,
        {
            "VOC201": 'message: "{name} lacks {label}"\nkinds: [Namespace]\npss: {namespace: missing-enforce}\n',
            "VOC202": 'message: "{kind} {name}: {detail} ({code})"\nkinds: [Secret]\ncertificate: [expired]\n',
        },
    )
    proj = tmp_path / "proj"
    proj.mkdir()
    key = ec_key()
    (proj / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\n" + tls_secret(pem(make_cert(key, days_left=-1)), data=True))
    code = main(["check", str(proj), "--packs", str(pack), "--select", "VOC", "--format", "json", "--no-cache"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["code"], f["location"]["row"]) for f in found] == [("VOC201", 3), ("VOC202", 12)]
    assert found[0]["message"] == "shop lacks pod-security.kubernetes.io/enforce"
    assert found[1]["message"].startswith("Secret shop-tls: certificate ") and found[1]["message"].endswith("(expired)")


def test_a_kubernetes_certificate_block_cannot_name_a_key_file_issue(tmp_path, capsys):
    pack = _pack(tmp_path, {"VOC201": 'message: "m"\nkinds: [Secret]\ncertificate: [unencrypted-private-key]\n'})
    code = main(["check", str(tmp_path), "--packs", str(pack), "--select", "VOC", "--format", "json", "--no-cache"])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "VOC201-r-voc201.yaml" in captured.err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_an_object_past_the_first_64_kib_of_a_file_is_analysed(capsys, tmp_path, jobs):
    """The parent compiles the Kubernetes rules for its workers only when a file's first bytes
    write `apiVersion`; a file whose object comes later, among files with none, still gets its
    findings (in the pool and in one process)."""
    for i in range(9):
        (tmp_path / f"ci{i}.yaml").write_text(f"name: job {i}\non: [push]\n", encoding="utf-8")
    data = "".join(f"key{i}: {'x' * 60}\n" for i in range(1200))  # a first document of 80 KB
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: b\n      securityContext:\n        privileged: true\n"
    (tmp_path / "late.yaml").write_text(data + "---\n" + pod, encoding="utf-8")
    _, found = check(capsys, tmp_path, "--select", "PSA201", "--jobs", jobs)
    privileged = data.count("\n") + 1 + pod.splitlines().index("        privileged: true") + 1
    assert [(Path(f["filename"]).name, f["code"], f["location"]["row"]) for f in found] == [("late.yaml", "PSA201", privileged)]
