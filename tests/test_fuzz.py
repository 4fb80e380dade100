"""Fuzzing: hostile, broken and random input must never crash pitfall (issue 14, item 8).

Targets and properties:

- the Python analyzer, ``lint_unit("python", ...)`` on bytes from hypothesmith (valid Python
  from the grammar) and on mutated rule examples: no exception, every finding at line >= 1 and
  column >= 1, and the same bytes give the same findings twice;
- the Kubernetes analyzer, ``lint_unit("yaml", ...)``, on mutated manifests: the same properties;
- ``yamldocs.load_documents`` on mutated and random text: never raises, positions are 1-based;
- configuration (``.pitfall.toml`` text through ``load_settings``, which ends in ``from_dict``):
  invalid input raises ``PackError`` and nothing else;
- ``packs.load_pack`` on a folder with a mutated rule YAML: a ``Pack`` or ``PackError``, nothing
  else;
- the whole chart pipeline (discovery, Helm rendering, every rule) on a chart with one file
  mutated: exit 0 or 1, findings inside the chart at 1-based positions.

CI runs the ``default`` profile (derandomized, small). ``PITFALL_FUZZ=long`` selects the ``long``
profile for a local run of thousands of examples a target (``PITFALL_FUZZ_EXAMPLES`` sets how
many; ``-s`` prints the counts).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from linter.core.config import load_settings  # noqa: E402
from linter.core.engine import build_ruleset, lint_unit  # noqa: E402
from linter.core.packs import PackError, load_pack  # noqa: E402
from linter.kubernetes.yamldocs import load_documents  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example, HealthCheck.filter_too_much]
settings.register_profile("default", max_examples=40, deadline=None, derandomize=True, suppress_health_check=_SLOW, database=None)
settings.register_profile("long", max_examples=int(os.environ.get("PITFALL_FUZZ_EXAMPLES", "3000")), deadline=None, suppress_health_check=_SLOW, database=None)
settings.load_profile("long" if os.environ.get("PITFALL_FUZZ") == "long" else "default")

#: examples tried per target (printed at the end of the module with ``-s``)
COUNTS: dict[str, int] = {}


def _count(target: str) -> None:
    COUNTS[target] = COUNTS.get(target, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    if COUNTS:
        print("\nfuzz examples tried: " + ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items())))


# --------------------------------------------------------------------------- seeds


def _rule_examples() -> tuple[list[str], list[str]]:
    python, manifests = [], []
    for path in sorted(RULES.glob("*/*.yaml")):
        if path.name == "pack.yaml":
            continue
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        target = data.get("target")
        for group in ("valid", "invalid"):
            for item in (data.get("examples") or {}).get(group) or ():
                code = item if isinstance(item, str) else item.get("code")
                if not isinstance(code, str):
                    continue
                if target == "python":
                    python.append(code)
                elif target == "kubernetes":
                    manifests.append(code)
    return python, manifests


PY_SEEDS, YAML_SEEDS = _rule_examples()
assert PY_SEEDS and YAML_SEEDS

#: fragments that tend to hit edge cases: encodings, BOMs, line endings, nesting, directives
_PY_TOKENS = [
    b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n", b"# coding: bogus\n", b"\r", b"\r\n", b"\n", b"\t", b"\x00",
    b"\xff", b"\\\n", b"(", b")", b"[", b"]", b"{", b"}", b":", b",", b"'", b'"', b'"""', b"f'{", b"}'", b"#",
    b"# pitfall: ignore[TMO101]", b"# noqa", b"lambda: ", b" and a", b"async ", b"await ", b"yield ", b"@",
    b"import requests\n", b"requests.get(u, timeout=None)", b"timeout=", b"verify=False", b"ssl.CERT_NONE",
    b"def f(x):\n    ", b"class C:\n    ", b"with ", b"try:\n    pass\nexcept:\n    pass\n", b"\xe2\x80\xa8",
    b"\x0c", b" " * 8, b"(" * 50, b"[" * 120, b"-" * 200, b"\xc3", b"\xed\xa0\x80",
]
_YAML_TOKENS = [
    b"\xef\xbb\xbf", b"\r", b"\r\n", b"\n", b"\t", b"\x00", b"\xff", b"---\n", b"...\n", b"- ", b": ", b"? ",
    b"&a ", b"*a", b"<<: *a\n", b"!!binary ", b"!!python/object:os.system ", b"!tag ", b"{", b"}", b"[", b"]",
    b"'", b'"', b"|", b">-", b"#", b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n", b"{{ .Values.x }}", b"{{- if .x }}",
    b"kind: List\nitems:\n", b"apiVersion: v1\n", b"kind: Pod\n", b"hostPort: 80", b"privileged: true",
    b"0x1F", b"1e400", b"~", b"null", b"yes", b"\xe2\x80\xa8", b"\x85", b"[" * 200, b"- " * 60, b"  " * 40,
    b"# pitfall: ignore[PRT201]", b"\xc3", b"\xed\xa0\x80",
]


@st.composite
def mutated(draw, seeds: list[str], tokens: list[bytes]) -> bytes:
    """A seed (or two spliced) with a few insertions, deletions, duplications and byte flips."""
    data = bytearray(draw(st.sampled_from(seeds)).encode("utf-8"))
    if draw(st.booleans()) and len(seeds) > 1:
        other = draw(st.sampled_from(seeds)).encode("utf-8")
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + other[draw(st.integers(0, len(other))) :]
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["insert", "delete", "duplicate", "flip", "random"]))
        pos = draw(st.integers(0, len(data)))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(tokens))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 40))]
        elif op == "duplicate":
            end = min(len(data), pos + draw(st.integers(1, 80)))
            data[pos:pos] = data[pos:end] * draw(st.integers(1, 20))
        elif op == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        else:
            data[pos:pos] = draw(st.binary(max_size=12))
    return bytes(data)


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory):
    from linter.core.config import from_dict

    root = tmp_path_factory.mktemp("fuzzroot")
    # every rule, preview and opt-in ones included, outside any test path
    return build_ruleset(from_dict({"select": ["ALL"], "preview": True, "test-paths": []}, root=root, config_path=None), project_root=root)


def _check_unit(kind: str, path: str, data: bytes, ruleset) -> None:
    first = lint_unit(kind, path, data, ruleset)
    for f in first.findings:
        assert f.region.line >= 1 and f.region.column >= 1, (f.rule_id, f.region, f.message)
    second = lint_unit(kind, path, data, ruleset)
    assert first.findings == second.findings, "same bytes, different findings"
    assert first.notifications == second.notifications


# --------------------------------------------------------------------------- the Python analyzer


@given(source=hypothesmith.from_grammar())
def test_python_analyzer_on_generated_source(ruleset, source):
    _count("python-grammar")
    _check_unit("python", "app.py", source.encode("utf-8", "surrogatepass"), ruleset)


@given(source=hypothesmith.from_node())
def test_python_analyzer_on_generated_syntax_trees(ruleset, source):
    _count("python-node")
    _check_unit("python", "app.py", source.encode("utf-8", "surrogatepass"), ruleset)


@given(data=mutated(PY_SEEDS, _PY_TOKENS))
def test_python_analyzer_on_mutated_rule_examples(ruleset, data):
    _count("python-mutated")
    _check_unit("python", "app.py", data, ruleset)


# --------------------------------------------------------------------------- YAML


def _check_load(text: str, json_mode: bool = False) -> None:
    result = load_documents(text, json_mode=json_mode)
    for doc in result.documents:
        assert doc.span.line >= 1 and doc.span.column >= 1, doc.span
    for problem in result.problems:
        assert problem.span.line >= 1 and problem.span.column >= 1, problem
    again = load_documents(text, json_mode=json_mode)
    assert [p.message for p in again.problems] == [p.message for p in result.problems]


@given(data=mutated(YAML_SEEDS, _YAML_TOKENS), json_mode=st.booleans())
def test_yaml_loader_on_mutated_manifests(data, json_mode):
    _count("yaml-mutated")
    _check_load(data.decode("utf-8", "replace"), json_mode)


@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=400), json_mode=st.booleans())
def test_yaml_loader_on_random_text(text, json_mode):
    _count("yaml-random")
    _check_load(text, json_mode)


@given(data=mutated(YAML_SEEDS, _YAML_TOKENS), name=st.sampled_from(["deploy.yaml", "pod.json"]))
def test_kubernetes_analyzer_on_mutated_manifests(ruleset, data, name):
    _count("kubernetes-mutated")
    _check_unit("yaml", name, data, ruleset)


# --------------------------------------------------------------------------- configuration

_CONFIG_SEED = """\
select = ["TMO", "TLS"]
ignore = ["TLS103"]
extend-select = ["PRT"]
preview = false
fail-on = "warning"
exclude = ["build"]
test-paths = ["tests/"]
respect-gitignore = true
max-file-size = 100000
jobs = 2
max-timeout = 60.0
pss-level = "baseline"
exempt-namespaces = ["kube-system"]

[per-file-ignores]
"tests/*" = ["TMO101"]

[pack-versions]
timeouts = ">=0.1"

[rule-options.TMO103]
max = 30

[feedback]

[helm]
values = ["values.yaml"]
release-name = "r"
timeout = 10
"""

_CONFIG_KEYS = [
    "select", "ignore", "extend-select", "extend-ignore", "preview", "fail-on", "exclude", "extend-exclude",
    "feedback", "test-paths", "extend-test-paths", "respect-gitignore", "per-file-ignores", "packs",
    "pack-versions", "max-file-size", "jobs", "cache", "cert-expiry-days", "max-timeout", "pss-version",
    "pss-level", "exempt-namespaces", "rule-options", "helm", "bogus",
]
_HELM_KEYS = ["values", "set", "release-name", "namespace", "chart-dirs", "profiles", "timeout", "backend", "bogus"]

_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["ALL", "TMO", "TMO101", "warning", "error", "latest", "restricted", "v1.30", ">=0.1", "*.py", "../..", "/"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10) | st.sampled_from(_HELM_KEYS), inner, max_size=4),
    max_leaves=12,
)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _load_config_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory(prefix="pitfall-fuzz-") as tmp:
        _load_config_in(Path(tmp), text)


def _load_config_in(tmp: Path, text: str | bytes) -> None:
    path = tmp / ".pitfall.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_settings(cwd=tmp, config_args=[str(path)])
    except PackError:
        pass


@given(table=st.dictionaries(st.sampled_from(_CONFIG_KEYS), _values, max_size=6))
def test_config_of_generated_tables_raises_only_pack_errors(table):
    _count("config-tables")
    _load_config_text("".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in table.items()))


@given(data=mutated([_CONFIG_SEED], [b"[", b"]", b"=", b'"', b"'", b"\n", b"[helm]\n", b"[[x]]\n", b"1e999", b"nan", b"\x00", b"\xff", b"{", b"}", b"true", b"-"]))
def test_config_of_mutated_text_raises_only_pack_errors(data):
    _count("config-mutated")
    _load_config_text(data)


# --------------------------------------------------------------------------- packs

_PACK = RULES / "retries"
_RULE_FILES = sorted(p.name for p in _PACK.glob("RTY*.yaml"))


def _mutate_data(draw, data):
    """Delete a key, or replace a value somewhere in the rule document with a generated one."""
    if not isinstance(data, (dict, list)) or not data:
        return draw(_values)
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = draw(st.sampled_from(keys))
    op = draw(st.sampled_from(["delete", "replace", "descend", "descend"]))
    if op == "delete":
        del data[key]
    elif op == "replace":
        data[key] = draw(_values)
    else:
        data[key] = _mutate_data(draw, data[key])
    return data


@st.composite
def mutated_rule(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(_RULE_FILES))
    text = (_PACK / name).read_text(encoding="utf-8")
    if draw(st.booleans()):
        data = yaml.safe_load(text)
        for _ in range(draw(st.integers(1, 4))):
            data = _mutate_data(draw, data)
        return name, yaml.safe_dump(data, allow_unicode=True).encode("utf-8")
    return name, draw(mutated([text], _YAML_TOKENS + [b"visitor: sys:exit\n", b"must: {type: bogus}\n", b"since: 9.9.9\n"]))


@given(rule=mutated_rule(), trust=st.booleans())
def test_pack_with_a_mutated_rule_raises_only_pack_errors(rule, trust):
    _count("pack-mutated")
    name, data = rule
    with tempfile.TemporaryDirectory(prefix="pitfall-fuzz-") as tmp:
        folder = Path(tmp) / "retries"
        shutil.copytree(_PACK, folder)
        (folder / name).write_bytes(data)
        try:
            load_pack(folder, builtin=False, trust_code=trust)
        except PackError:
            pass


# --------------------------------------------------------------------------- Helm charts

_CHART_SEED = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    "values.yaml": (
        "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"1.27\"\nservice:\n  port: 8080\n"
        "securityContext: {}\nextraEnv: []\ningress:\n  enabled: false\n  hosts: [example.com]\n"
    ),
    "templates/_helpers.tpl": '{{- define "web.name" -}}{{ .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end }}\n',
    "templates/deployment.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.name\" . }}\n"
        "spec:\n  replicas: {{ .Values.replicaCount }}\n  template:\n    spec:\n      containers:\n"
        "        - name: web\n          image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n"
        "          ports:\n            - containerPort: {{ .Values.service.port }}\n              hostPort: 80\n"
        "          securityContext:\n            {{- toYaml .Values.securityContext | nindent 12 }}\n"
        "          env:\n            {{- range .Values.extraEnv }}\n            - name: {{ .name }}\n"
        "              value: {{ .value | quote }}\n            {{- end }}\n"
    ),
    "templates/ingress.yaml": (
        "{{- if .Values.ingress.enabled }}\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n"
        "  name: {{ include \"web.name\" . }}\nspec:\n  rules:\n  {{- range .Values.ingress.hosts }}\n"
        "    - host: {{ . }}\n  {{- end }}\n{{- end }}\n"
    ),
}
_TEMPLATE_TOKENS = _YAML_TOKENS + [
    b"{{", b"}}", b"{{-", b"-}}", b"{{ end }}", b"{{ .Values.image }}", b"{{ fail \"no\" }}", b"{{ required \"x\" .Values.nope }}",
    b"{{ include \"web.name\" . }}", b"{{ include \"missing\" . }}", b"{{ toYaml .Values | nindent 4 }}",
    b"{{ .Files.Get \"../../etc/passwd\" }}", b"{{ range $i, $e := until 5 }}", b"| quote", b"| int", b"{{ tpl .Values.x . }}",
    b"{{ lookup \"v1\" \"Secret\" \"ns\" \"n\" }}", b"{{ $x := 1 }}", b"{{ define \"web.name\" }}", b"{{/* c */}}",
]


@st.composite
def mutated_chart(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(_CHART_SEED)))
    return name, draw(mutated([_CHART_SEED[name]], _TEMPLATE_TOKENS))


@settings(max_examples=12 if os.environ.get("PITFALL_FUZZ") != "long" else settings.default.max_examples)  # a render each
@given(change=mutated_chart())
def test_chart_pipeline_on_mutated_charts(change):
    """A chart with one file mutated goes through discovery, rendering and every rule: the run
    ends with exit 0 or 1 and a report whose findings lie in the chart's files at real
    positions (an unrenderable chart is an LNT002 finding, not a crash)."""
    import contextlib
    import io

    from linter.cli import main

    _count("chart-mutated")
    name, data = change
    with tempfile.TemporaryDirectory(prefix="pitfall-fuzz-") as tmp:
        root = Path(tmp)
        for rel, text in _CHART_SEED.items():
            (root / "web" / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / "web" / rel).write_text(text, encoding="utf-8")
        (root / "web" / name).write_bytes(data)
        out = root / "report.json"
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main(["check", str(root / "web"), "--select", "ALL", "--preview", "--no-cache", "--format", "json", "--output", str(out)])
        assert code in (0, 1), err.getvalue()
        assert "Traceback" not in err.getvalue()
        report = json.loads(out.read_text(encoding="utf-8"))
        for finding in report["findings"]:
            assert finding["location"]["row"] >= 1 and finding["location"]["column"] >= 1, finding
            assert (root / "web") in Path(finding["filename"]).resolve().parents, finding


# --------------------------------------------------------------------------- crashes the fuzzing found


def test_a_config_file_that_is_not_utf8_is_a_pack_error(tmp_path):
    # found by test_config_of_mutated_text_raises_only_pack_errors: tomllib's UnicodeDecodeError
    # escaped load_settings
    (tmp_path / ".pitfall.toml").write_bytes(b'\xffselect = ["TMO"]\n')
    with pytest.raises(PackError, match="cannot read"):
        load_settings(cwd=tmp_path, config_args=[str(tmp_path / ".pitfall.toml")])
    (tmp_path / ".pitfall.toml").unlink()
    (tmp_path / "pyproject.toml").write_bytes(b'[tool.pitfall]\nselect = ["\xff"]\n')
    with pytest.raises(PackError, match="cannot read"):
        load_settings(cwd=tmp_path)
