"""Tests for linter.helm: offline Helm rendering with helm_python."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
import yaml

helm_python = pytest.importorskip("helm_python")

from linter.helm import backends  # noqa: E402
from linter.helm import render as helm  # noqa: E402
from linter.helm.chart import chart_info, find_chart_root  # noqa: E402
from linter.helm.model import HelmChartError, HelmProblem, RenderedDoc  # noqa: E402
from linter.helm.output import split_rendered  # noqa: E402
from linter.helm.semver import satisfies  # noqa: E402
from linter.helm.values import PROFILES, profile_values  # noqa: E402

SCAFFOLD_TEMPLATES = {
    "templates/deployment.yaml",
    "templates/service.yaml",
    "templates/serviceaccount.yaml",
    "templates/tests/test-connection.yaml",
}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def scaffold(parent: Path, name: str = "demo") -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    helm_python.Chart.create(name, parent).close()
    return parent / name


def minimal_chart(parent: Path, name: str, version: str, marker: str) -> Path:
    """A tiny chart rendering one ConfigMap whose data names ``marker``."""
    root = parent / name
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: {version}\n")
    (root / "values.yaml").write_text("enabled: true\n")
    (root / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-" + name + "\n"
        "data:\n  marker: " + marker + "\n"
    )
    return root


def edit_yaml(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text()) or {}
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def templates(result) -> set[str]:
    return {d.template for d in result.docs}


def doc_for(result, template: str) -> dict:
    docs = [d for d in result.docs if d.template == template]
    assert docs, f"{template} not rendered: {sorted(templates(result))}"
    return yaml.safe_load(docs[0].text)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture()
def demo(tmp_path: Path) -> Path:
    return scaffold(tmp_path / "src")


# --------------------------------------------------------------------------
# chart discovery
# --------------------------------------------------------------------------


def test_find_chart_root(demo: Path, tmp_path: Path) -> None:
    assert find_chart_root(demo / "templates" / "deployment.yaml") == demo.absolute()
    assert find_chart_root(demo / "templates") == demo.absolute()
    assert find_chart_root(demo) == demo.absolute()
    sub = scaffold(demo / "charts", "sub")
    assert find_chart_root(sub / "templates" / "service.yaml") == sub.absolute()
    (tmp_path / "plain").mkdir()
    assert find_chart_root(tmp_path / "plain") is None


def test_chart_info(demo: Path) -> None:
    edit_yaml(
        demo / "Chart.yaml",
        dependencies=[{"name": "redis", "version": "^17.0.0", "repository": "https://charts.example.com"}],
    )
    info = chart_info(demo)
    assert (info.name, info.version, info.type) == ("demo", "0.1.0", "application")
    assert info.root == demo
    assert len(info.dependencies) == 1
    dep = info.dependencies[0]
    assert dep["name"] == "redis" and dep["version"] == "^17.0.0"
    lines = (demo / "Chart.yaml").read_text().splitlines()
    assert lines[dep["_line"] - 1].lstrip().startswith("- ")


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("apiVersion: v2\nname: demo\nversion: [1\n", 3, "yaml: line 3"),
        ("apiVersion: v2\nname: demo\n", 1, "chart.metadata.version is required"),
        ("apiVersion: v2\nname: demo\ndescription: x\nversion: banana\n", 4, '"banana" is invalid'),
        ("apiVersion: v2\nname: demo\nversion: 1.0.0\ntype: plugin\n", 4, "must be application or library"),
    ],
)
def test_chart_info_invalid(demo: Path, text: str, line: int, fragment: str) -> None:
    (demo / "Chart.yaml").write_text(text)
    with pytest.raises(HelmChartError) as err:
        chart_info(demo)
    assert err.value.path == "Chart.yaml"
    assert err.value.line == line
    assert fragment in err.value.message

    result = helm.render(demo)
    assert result.docs == ()
    [problem] = result.problems
    assert problem.kind == "invalid-chart" and problem.severity == "error"
    assert (problem.path, problem.line) == ("Chart.yaml", line)
    assert fragment in problem.message


# --------------------------------------------------------------------------
# rendering the scaffold
# --------------------------------------------------------------------------


def test_render_scaffold(demo: Path) -> None:
    result = helm.render(demo, release="web", namespace="shop")
    assert result.problems == ()
    assert templates(result) == SCAFFOLD_TEMPLATES  # NOTES.txt, partials, blank files excluded
    deployment = doc_for(result, "templates/deployment.yaml")
    assert deployment["kind"] == "Deployment"
    assert deployment["metadata"]["name"] == "web-demo"
    assert deployment["spec"]["replicas"] == 1
    assert all(isinstance(d, RenderedDoc) and d.index == 0 and d.start_line >= 1 for d in result.docs)
    assert result.values["replicaCount"] == 1
    assert result.values["service"] == {"port": 80, "type": "ClusterIP"}


def test_in_process_and_child_agree(demo: Path) -> None:
    child = helm.render(demo, timeout=30)
    in_process = helm.render(demo, timeout=0)
    assert child == in_process


def test_multi_document_template(demo: Path) -> None:
    (demo / "templates" / "multi.yaml").write_text(
        "# leading comment\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n"
        "---\n"
        "{{- if false }}\nkind: Never\n{{- end }}\n"
    )
    result = helm.render(demo)
    docs = [d for d in result.docs if d.template == "templates/multi.yaml"]
    assert [d.index for d in docs] == [0, 1]
    assert [yaml.safe_load(d.text)["metadata"]["name"] for d in docs] == ["a", "b"]
    assert [d.start_line for d in docs] == [1, 7]


def test_values_precedence(demo: Path, tmp_path: Path) -> None:
    f1 = tmp_path / "one.yaml"
    f1.write_text("replicaCount: 2\nimage:\n  tag: from-file-one\nservice:\n  port: 81\n")
    f2 = tmp_path / "two.yaml"
    f2.write_text("replicaCount: 3\n")

    def deployment(**kwargs):
        result = helm.render(demo, **kwargs)
        assert result.problems == ()
        return doc_for(result, "templates/deployment.yaml"), result.values

    dep, values = deployment(values_files=[f1, f2])
    assert dep["spec"]["replicas"] == 3
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:from-file-one"
    assert values["service"]["port"] == 81 and values["service"]["type"] == "ClusterIP"

    dep, values = deployment(values_files=[f1, f2], extra_values={"replicaCount": 4})
    assert dep["spec"]["replicas"] == 4

    dep, values = deployment(
        values_files=[f1, f2], extra_values={"replicaCount": 4}, set_values=["replicaCount=5,image.tag=cli"]
    )
    assert dep["spec"]["replicas"] == 5
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:cli"
    assert values["replicaCount"] == 5 and values["image"]["tag"] == "cli"
    assert values["image"]["repository"] == "nginx"  # chart default kept


def test_values_file_and_set_errors(demo: Path, tmp_path: Path) -> None:
    bad = demo / "ci-values.yaml"
    bad.write_text("replicaCount: 1\nimage: [oops\n")
    [problem] = helm.render(demo, values_files=[bad]).problems
    assert (problem.path, problem.kind) == ("ci-values.yaml", "render-error")
    assert problem.line == 2

    outside = tmp_path / "outside.yaml"
    outside.write_text("- a list\n")
    [problem] = helm.render(demo, values_files=[outside]).problems
    assert problem.path == str(outside.absolute())

    [problem] = helm.render(demo, set_values=["novalue"]).problems
    assert problem.kind == "render-error" and "novalue" in problem.message


def test_lookup_returns_empty(demo: Path) -> None:
    (demo / "templates" / "lookup.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: l\n"
        'data:\n  found: {{ lookup "v1" "Secret" "kube-system" "" | toJson | quote }}\n'
    )
    result = helm.render(demo)
    assert result.problems == ()
    assert doc_for(result, "templates/lookup.yaml")["data"]["found"] == "{}"


# --------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------


def test_profile_ingress_renders_ingress(demo: Path) -> None:
    base = helm.render(demo)
    assert "templates/ingress.yaml" not in templates(base)
    overlay = profile_values(base.values, "ingress")
    assert overlay == {"ingress": {"enabled": True}}
    result = helm.render(demo, extra_values=overlay)
    assert result.problems == ()
    assert doc_for(result, "templates/ingress.yaml")["kind"] == "Ingress"
    assert profile_values(result.values, "ingress") is None  # nothing left to change


def test_profile_nested_and_lists() -> None:
    values = {
        "ingress": {"enabled": True},
        "api": {"ingress": {"enabled": False, "host": "x"}},
        "extra": [{"ingress": {"enabled": False}}, "plain"],
        "noflag": {"ingress": {"host": "y"}},
    }
    assert profile_values(values, "ingress") == {
        "api": {"ingress": {"enabled": True}},
        "extra": [{"ingress": {"enabled": True}}, "plain"],
    }
    assert values["api"]["ingress"]["enabled"] is False  # input untouched
    with pytest.raises(ValueError):
        profile_values(values, "nope")
    assert profile_values(values, "defaults") == {}
    assert PROFILES == ("ingress", "tls", "monitoring")


def test_profile_tls(demo: Path) -> None:
    values = {
        "tls": False,
        "server": {"tls": {"enabled": False, "secretName": "s"}},
        "ingress": {"tls": []},
        "other": {"tls": True},
    }
    assert profile_values(values, "tls") == {"tls": True, "server": {"tls": {"enabled": True}}}
    assert profile_values(helm.render(demo).values, "tls") is None  # scaffold: tls is a list

    with (demo / "values.yaml").open("a") as fh:
        fh.write("\ntls:\n  enabled: false\n")
    (demo / "templates" / "tls.yaml").write_text(
        "{{- if .Values.tls.enabled }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\n{{- end }}\n"
    )
    base = helm.render(demo)
    assert "templates/tls.yaml" not in templates(base)
    overlay = profile_values(base.values, "tls")
    assert overlay == {"tls": {"enabled": True}}
    assert doc_for(helm.render(demo, extra_values=overlay), "templates/tls.yaml")["kind"] == "Secret"


def test_profile_monitoring() -> None:
    values = {
        "metrics": {"enabled": False, "serviceMonitor": {"enabled": False, "interval": "30s"}},
        "db": {"serviceMonitor": {"enabled": False}, "metrics": {"enabled": True}},
        "serviceMonitor": {"labels": {}},
    }
    assert profile_values(values, "monitoring") == {
        "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
        "db": {"serviceMonitor": {"enabled": True}},
    }
    assert profile_values({"replicaCount": 1}, "monitoring") is None


# --------------------------------------------------------------------------
# packaged and library charts
# --------------------------------------------------------------------------


def test_packaged_chart(demo: Path, tmp_path: Path) -> None:
    archive = Path(helm_python.package(demo, destination=tmp_path))
    assert archive.name == "demo-0.1.0.tgz"
    info = chart_info(archive)
    assert (info.name, info.version) == ("demo", "0.1.0")
    result = helm.render(archive, set_values=["replicaCount=2"])
    assert result.problems == ()
    assert templates(result) == SCAFFOLD_TEMPLATES
    assert doc_for(result, "templates/deployment.yaml")["spec"]["replicas"] == 2


def test_library_chart_not_rendered(demo: Path) -> None:
    edit_yaml(demo / "Chart.yaml", type="library")
    assert chart_info(demo).type == "library"
    result = helm.render(demo)
    assert result.docs == () and result.problems == ()


# --------------------------------------------------------------------------
# dependencies
# --------------------------------------------------------------------------


def test_vendored_subchart_condition(demo: Path) -> None:
    scaffold(demo / "charts", "sub")
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": "0.1.0", "condition": "sub.enabled"}])
    with (demo / "values.yaml").open("a") as fh:
        fh.write("\nsub:\n  enabled: false\n")

    off = helm.render(demo)
    assert off.problems == ()
    assert templates(off) == SCAFFOLD_TEMPLATES

    on = helm.render(demo, set_values=["sub.enabled=true"])
    assert on.problems == ()
    assert "charts/sub/templates/deployment.yaml" in templates(on)
    assert doc_for(on, "charts/sub/templates/deployment.yaml")["metadata"]["name"] == "release-name-sub"

    # the ingress profile reaches the subchart's values through the merged values
    overlay = profile_values(on.values, "ingress")
    assert overlay == {"ingress": {"enabled": True}, "sub": {"ingress": {"enabled": True}}}


def test_vendored_tgz_subchart(demo: Path, tmp_path: Path) -> None:
    sub = minimal_chart(tmp_path / "build", "sub", "1.2.3", "tgz")
    helm_python.package(sub, destination=demo / "charts")
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": "~1.2", "repository": "https://x.example"}])
    result = helm.render(demo)
    assert result.problems == ()
    assert doc_for(result, "charts/sub/templates/cm.yaml")["data"]["marker"] == "tgz"


def test_file_dependency(demo: Path, tmp_path: Path) -> None:
    minimal_chart(tmp_path / "src", "common", "2.0.0", "from-file")
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "common", "version": ">=2.0.0 <3", "repository": "file://../common"}])
    before = snapshot(demo)
    result = helm.render(demo)
    assert result.problems == ()
    assert doc_for(result, "charts/common/templates/cm.yaml")["data"]["marker"] == "from-file"
    assert snapshot(demo) == before  # the user's chart was not written to
    assert not (demo / "charts" / "common").exists()


def test_chart_dirs_pick_by_version(demo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    minimal_chart(store, "sub-one", "1.4.0", "one").joinpath("Chart.yaml").write_text(
        "apiVersion: v2\nname: sub\nversion: 1.4.0\n"
    )
    two = minimal_chart(tmp_path / "build", "sub", "2.1.0", "two")
    helm_python.package(two, destination=store)
    minimal_chart(store, "unrelated", "9.9.9", "no")

    def marker(constraint: str) -> str:
        edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": constraint, "repository": "https://charts.example.com"}])
        result = helm.render(demo, chart_dirs=[store])
        assert result.problems == ()
        return doc_for(result, "charts/sub/templates/cm.yaml")["data"]["marker"]

    assert marker("^2.0.0") == "two"
    assert marker("~1.4") == "one"
    assert marker(">=1 <2") == "one"
    assert marker("*") == "two"  # highest satisfying candidate
    assert marker("1.4.x") == "one"


def test_chart_dirs_repository_must_match_index(demo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    helm_python.package(minimal_chart(tmp_path / "build", "sub", "2.0.0", "mirror"), destination=store)
    (store / "index.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "entries": {"sub": [{"name": "sub", "version": "2.0.0", "urls": ["https://other.example.org/charts/sub-2.0.0.tgz"]}]},
            }
        )
    )
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": "2.0.0", "repository": "https://other.example.org/charts/"}])
    ok = helm.render(demo, chart_dirs=[store])
    assert ok.problems == () and "charts/sub/templates/cm.yaml" in templates(ok)

    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": "2.0.0", "repository": "https://charts.example.com"}])
    [problem] = helm.render(demo, chart_dirs=[store]).problems
    assert problem.kind == "missing-dependency"
    assert "comes from https://other.example.org/charts" in problem.message


def test_missing_dependency(demo: Path, tmp_path: Path) -> None:
    scaffold(demo / "charts", "sub")
    (demo / "Chart.yaml").write_text(
        "apiVersion: v2\n"
        "name: demo\n"
        "version: 0.1.0\n"
        "dependencies:\n"
        "  - name: sub\n"
        "    version: 0.1.0\n"
        "  # the database\n"
        "  - name: postgresql\n"
        "    version: ~12.1.0\n"
        "    repository: https://charts.example.com/bitnami\n"
        "appVersion: '1.0'  # kept\n"
    )
    store = tmp_path / "store"
    minimal_chart(store, "postgresql", "13.0.0", "wrong-version")
    before = snapshot(demo)
    result = helm.render(demo, chart_dirs=[store])
    [problem] = result.problems
    assert problem == HelmProblem(problem.path, problem.line, problem.message, "missing-dependency", "warning")
    assert (problem.path, problem.line) == ("Chart.yaml", 8)
    for fragment in ("postgresql", "helm dependency build", "charts/", "chart-dirs", "partial", "13.0.0", "~12.1.0"):
        assert fragment in problem.message
    # still rendered, with the vendored subchart
    assert SCAFFOLD_TEMPLATES <= templates(result)
    assert "charts/sub/templates/deployment.yaml" in templates(result)
    assert result.values["replicaCount"] == 1
    assert snapshot(demo) == before


def test_missing_dependency_disabled_is_a_note(demo: Path) -> None:
    edit_yaml(
        demo / "Chart.yaml",
        dependencies=[{"name": "redis", "version": "17.x", "repository": "https://x.example", "condition": "redis.enabled"}],
    )
    with (demo / "values.yaml").open("a") as fh:
        fh.write("\nredis:\n  enabled: false\n")
    [problem] = helm.render(demo).problems
    assert (problem.kind, problem.severity) == ("missing-dependency", "note")
    [problem] = helm.render(demo, set_values=["redis.enabled=true"]).problems
    assert problem.severity == "warning"


def test_packaged_chart_with_dependency_from_chart_dirs(demo: Path, tmp_path: Path) -> None:
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "lib", "version": "^1", "repository": "https://x.example"}])
    archive = Path(helm_python.Chart.load(demo).save(tmp_path / "dist"))
    store = tmp_path / "store"
    minimal_chart(store, "lib", "1.1.0", "packaged-parent")
    missing = helm.render(archive)
    assert [p.kind for p in missing.problems] == ["missing-dependency"]
    assert templates(missing) == SCAFFOLD_TEMPLATES
    result = helm.render(archive, chart_dirs=[store])
    assert result.problems == ()
    assert doc_for(result, "charts/lib/templates/cm.yaml")["data"]["marker"] == "packaged-parent"


# --------------------------------------------------------------------------
# template errors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "path", "line", "fragments"),
    [
        (
            {"templates/bad.yaml": "a: 1\n\nb: {{ required \"db.password is required\" .Values.password }}\n"},
            "templates/bad.yaml",
            3,
            ["db.password is required", "execution error at (templates/bad.yaml:3:6)"],
        ),
        (
            {"templates/bad.yaml": "a: 1\n{{ fail \"unsupported mode\" }}\n"},
            "templates/bad.yaml",
            2,
            ["unsupported mode"],
        ),
        (
            {"templates/bad.yaml": "a: 1\nb: 2\nc: {{ .Values.absent.deeper.x }}\n"},
            "templates/bad.yaml",
            3,
            ["nil pointer evaluating", "<.Values.absent.deeper.x>"],
        ),
        (
            {"templates/bad.yaml": "a: 1\nb: {{ .Values.x }\n"},
            "templates/bad.yaml",
            2,
            ['unexpected "}" in operand'],
        ),
        (
            {"templates/bad.yaml": "a: 1\nb: {{ .Values.x \n\n"},
            "templates/bad.yaml",
            2,  # Helm names the end of file first, then where the action started
            ["unclosed action started at templates/bad.yaml:2"],
        ),
        (
            {"templates/bad.yaml": "a: 1\nb: {{ nosuchfunc 1 }}\n"},
            "templates/bad.yaml",
            2,
            ['function "nosuchfunc" not defined'],
        ),
        (
            {
                "templates/_boom.tpl": "{{/* helper */}}\n{{- define \"demo.boom\" -}}\n{{ .Values.missing.key }}\n{{- end -}}\n",
                "templates/bad.yaml": "a: 1\nb: {{ include \"demo.boom\" . }}\n",
            },
            "templates/_boom.tpl",
            3,
            ["error calling include", "templates/bad.yaml:2"],
        ),
    ],
    ids=["required", "fail", "nil-pointer", "syntax", "unclosed-action", "undefined-function", "include-chain"],
)
def test_template_errors(demo: Path, files: dict, path: str, line: int, fragments: list[str]) -> None:
    for rel, text in files.items():
        (demo / rel).write_text(text)
    result = helm.render(demo)
    assert result.docs == ()
    [problem] = result.problems
    assert (problem.kind, problem.severity) == ("render-error", "error")
    assert (problem.path, problem.line) == (path, line)
    for fragment in fragments:
        assert fragment in problem.message
    assert "interface {}" not in problem.message and "\n" not in problem.message
    assert "demo/templates" not in problem.message


def test_subchart_template_error_path(demo: Path) -> None:
    sub = scaffold(demo / "charts", "sub")
    (sub / "templates" / "x.yaml").write_text("a: 1\nb: {{ fail \"sub broke\" }}\n")
    [problem] = helm.render(demo).problems
    assert (problem.path, problem.line) == ("charts/sub/templates/x.yaml", 2)


def test_broken_values_yaml_is_invalid_chart(demo: Path) -> None:
    (demo / "values.yaml").write_text("replicaCount: 1\nimage: [oops\n")
    [problem] = helm.render(demo).problems
    assert (problem.path, problem.line, problem.kind) == ("values.yaml", 2, "invalid-chart")


def test_schema_violation_points_at_values(demo: Path) -> None:
    (demo / "values.schema.json").write_text(
        json.dumps({"type": "object", "properties": {"replicaCount": {"type": "integer"}}})
    )
    [problem] = helm.render(demo, set_values=["replicaCount=lots"]).problems
    assert problem.path == "values.yaml"
    lines = (demo / "values.yaml").read_text().splitlines()
    assert lines[problem.line - 1].startswith("replicaCount:")
    assert "/replicaCount" in problem.message


# --------------------------------------------------------------------------
# timeout
# --------------------------------------------------------------------------


def test_timeout_stops_a_looping_template(demo: Path) -> None:
    (demo / "templates" / "loop.yaml").write_text(
        "{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n"
    )
    start = time.monotonic()
    result = helm.render(demo, timeout=1.0)
    elapsed = time.monotonic() - start
    assert elapsed < 10
    [problem] = result.problems
    assert (problem.kind, problem.severity, problem.path) == ("timeout", "error", "Chart.yaml")
    assert "1s" in problem.message
    # the killed worker is replaced transparently
    (demo / "templates" / "loop.yaml").unlink()
    assert templates(helm.render(demo, timeout=1.0)) == SCAFFOLD_TEMPLATES


_PRESTART_SCRIPT = r"""
import json, multiprocessing as mp, os, sys, time
from pathlib import Path
from linter.helm import pool, render as helm

chart, loop = Path(sys.argv[1]), Path(sys.argv[2])
pool.prestart(2)

def job(path):
    ready = os.getpid() in pool._POOLS  # started as this process was forked, before any render
    result = helm.render(Path(path), timeout=float(sys.argv[3]))
    renderers = [p.pid for p in mp.active_children()]
    return ready, renderers, sorted(d.template for d in result.docs), [p.kind for p in result.problems]

workers = mp.get_context("fork").Pool(2)
out = workers.map(job, [str(chart)] * 6 + [str(loop)], chunksize=1)
workers.close()
workers.join()
renderers = {pid for _, pids, _, _ in out for pid in pids}
deadline = time.monotonic() + 10
while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in renderers):
    time.sleep(0.1)
print(json.dumps({"out": out, "left": [pid for pid in renderers if os.path.exists(f"/proc/{pid}")]}))
"""


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_prestarted_renderers_serve_forked_workers_and_end_with_the_run(demo: Path, tmp_path: Path) -> None:
    import shutil
    import subprocess

    loop = tmp_path / "loop"
    shutil.copytree(demo, loop)
    (loop / "templates" / "loop.yaml").write_text("{{- range until 100000 }}{{- range until 100000 }}{{- end }}{{- end }}\n")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", _PRESTART_SCRIPT, str(demo), str(loop), "2"],
        capture_output=True, text=True, timeout=120, cwd=root, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    renders = report["out"]
    assert all(set(docs) == SCAFFOLD_TEMPLATES and problems == [] for _, _, docs, problems in renders[:6])
    assert all(ready for ready, _, _, _ in renders)  # each forked worker's renderer started at once
    assert all(len(pids) == 1 for _, pids, _, _ in renders[:6])  # one renderer a worker
    assert renders[6][3] == ["timeout"]  # a render over its budget is stopped
    assert report["left"] == []  # no renderer outlives the workers that started it


def _die_in_renderer(request: dict) -> dict:
    os.write(2, b"fatal error: " + request["why"].encode() + b"\n")
    os.kill(os.getpid(), 9)
    return {}


def test_a_renderer_that_dies_is_a_problem_and_is_replaced(demo: Path) -> None:
    from linter.helm import pool

    answer = pool.run(_die_in_renderer, {"why": "stack overflow"}, 30)
    assert answer["stage"] == "crash"
    assert "exit code -9" in answer["message"] and "fatal error: stack overflow" in answer["message"]
    assert templates(helm.render(demo, timeout=30)) == SCAFFOLD_TEMPLATES
    import multiprocessing

    for child in multiprocessing.active_children():  # the idle renderer is killed from outside
        os.kill(child.pid, 9)
    assert templates(helm.render(demo, timeout=30)) == SCAFFOLD_TEMPLATES


# --------------------------------------------------------------------------
# split_rendered
# --------------------------------------------------------------------------


def test_split_rendered_helm_stream() -> None:
    stream = (
        "---\n"
        "# Source: demo/templates/cm.yaml\n"
        "kind: ConfigMap\n"
        "---\n"
        "# Source: demo/templates/cm.yaml\n"
        "kind: Secret\n"
        "---\n"
        "# Source: demo/charts/sub/templates/svc.yaml\n"
        "kind: Service\n"
    )
    docs = split_rendered(stream)
    assert [(d.template, d.index, d.start_line) for d in docs] == [
        ("templates/cm.yaml", 0, 3),
        ("templates/cm.yaml", 1, 6),
        ("charts/sub/templates/svc.yaml", 0, 9),
    ]
    assert [yaml.safe_load(d.text)["kind"] for d in docs] == ["ConfigMap", "Secret", "Service"]
    assert "Source" not in docs[0].text


def test_split_rendered_separator_edge_cases() -> None:
    stream = (
        "# Source: demo/templates/a.yaml\n"
        "kind: A\n"
        "---# a comment glued to the separator\n"
        "kind: B\n"
        "--- \n"
        "kind: C\n"
        "data:\n"
        "  x: |\n"
        "    --- not a separator (indented)\n"
        "---\n"
        "\n"
        "---\n"
        "kind: D\n"
    )
    docs = split_rendered(stream)
    assert [d.template for d in docs] == ["templates/a.yaml"] * 4  # no Source: continues the previous
    assert [d.index for d in docs] == [0, 1, 2, 3]
    assert docs[1].text.startswith("# a comment glued")
    loaded = [yaml.safe_load(d.text) for d in docs]
    assert [x["kind"] for x in loaded] == ["A", "B", "C", "D"]
    assert loaded[2]["data"]["x"].startswith("--- not a separator")
    assert [d.start_line for d in docs] == [2, 3, 6, 12]


def test_split_rendered_without_source_lines() -> None:
    docs = split_rendered("\n\nkind: A\n---\nkind: B\n---\n")
    assert [(d.template, d.index, d.start_line) for d in docs] == [("", 0, 3), ("", 1, 5)]
    assert split_rendered("") == []
    assert split_rendered("---   \n\n") == []
    # like Helm's regexp, a '---' line right after a separator is not one itself
    [doc] = split_rendered("---\n---\nkind: X\n")
    assert yaml.safe_load(doc.text) == {"kind": "X"}


# --------------------------------------------------------------------------
# semver constraints
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "constraint", "expected"),
    [
        ("1.2.3", "1.2.3", True),
        ("1.2.4", "1.2.3", False),
        ("1.2.9", "1.2", True),
        ("1.2.9", "1.2.x", True),
        ("1.3.0", "1.2.x", False),
        ("1.9.0", "1.x", True),
        ("2.0.0", "1.x", False),
        ("5.0.0", "*", True),
        ("1.4.0", "^1.2.0", True),
        ("2.0.0", "^1.2.0", False),
        ("1.1.0", "^1.2.0", False),
        ("0.2.5", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("0.0.3", "^0.0.3", True),
        ("0.0.4", "^0.0.3", False),
        ("1.2.7", "~1.2.3", True),
        ("1.3.0", "~1.2.3", False),
        ("1.2.0", "~1.2", True),
        ("1.9.0", "~1", True),
        ("1.2.7", "~>1.2.3", True),
        ("1.5.0", ">=1 <2", True),
        ("2.0.0", ">=1 <2", False),
        ("1.5.0", ">=1, <2", True),
        ("1.1.0", ">1", False),
        ("2.0.0", ">1", True),
        ("1.2.1", ">1.2", False),
        ("1.3.0", ">1.2", True),
        ("1.2.9", "<=1.2", True),
        ("1.3.0", "<=1.2", False),
        ("1.3.0", "1.2 - 1.4.5", True),
        ("1.4.6", "1.2 - 1.4.5", False),
        ("3.0.0", "^1.0 || ^3.0", True),
        ("2.0.0", "^1.0 || ^3.0", False),
        ("1.2.3", "!=1.2.3", False),
        ("1.2.4", "!=1.2.3", True),
        ("1.3.0-rc.1", "^1.2.0", False),
        ("1.3.0-rc.1", ">=1.3.0-rc.0", True),
        ("v1.2.3", "=1.2.3", True),
        ("1.2.3", "", True),
        ("1.2.3", "nonsense", False),
        ("banana", "*", False),
    ],
)
def test_satisfies(version: str, constraint: str, expected: bool) -> None:
    assert satisfies(version, constraint) is expected


# --------------------------------------------------------------------------
# helm binary backend (faked) and missing renderers
# --------------------------------------------------------------------------

CANNED = (
    "---\n"
    "# Source: demo/templates/service.yaml\n"
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: canned\n"
    "---\n"
    "# Source: demo/templates/deployment.yaml\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: canned\n"
)

FAKE_HELM = """#!{python}
import json, os, sys
args = sys.argv[1:]
files = {{}}
for i, a in enumerate(args):
    if a in ("--values", "-f"):
        files[args[i + 1]] = open(args[i + 1]).read()
with open(os.environ["FAKE_HELM_LOG"], "w") as fh:
    json.dump({{"args": args, "files": files}}, fh)
if os.environ.get("FAKE_HELM_FAIL"):
    sys.stderr.write(
        'Error: template: demo/templates/deployment.yaml:7:12: executing "demo/templates/deployment.yaml"'
        ' at <.Values.x.y>: nil pointer evaluating interface {{}}.y\\n'
        'Use --debug flag to render out invalid YAML\\n'
    )
    sys.exit(1)
sys.stdout.write({canned!r})
"""


@pytest.fixture()
def fake_helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "helm"
    script.write_text(FAKE_HELM.format(python=sys.executable, canned=CANNED))
    script.chmod(0o755)
    log = tmp_path / "helm-log.json"
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    return log


@pytest.mark.skipif(os.name == "nt", reason="shebang script")
def test_fake_helm_backend(demo: Path, tmp_path: Path, fake_helm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f1 = tmp_path / "one.yaml"
    f1.write_text("replicaCount: 2\n")
    result = helm.render(
        demo,
        backend="helm",
        values_files=[f1],
        extra_values={"ingress": {"enabled": True}},
        set_values=["image.tag=v1"],
        release="web",
        namespace="shop",
    )
    assert result.problems == ()
    assert [(d.template, d.index, d.start_line) for d in result.docs] == [
        ("templates/service.yaml", 0, 3),
        ("templates/deployment.yaml", 0, 9),
    ]
    log = json.loads(fake_helm.read_text())
    args = log["args"]
    assert args[:3] == ["template", "web", str(demo)]
    assert args[args.index("--namespace") + 1] == "shop"
    values_args = [args[i + 1] for i, a in enumerate(args) if a == "--values"]
    assert values_args[0] == str(f1.absolute())
    assert json.loads(log["files"][values_args[1]]) == {"ingress": {"enabled": True}}  # overlay after files
    assert args.index("--set") > max(i for i, a in enumerate(args) if a == "--values")  # --set last
    assert args[args.index("--set") + 1] == "image.tag=v1"
    # values reported for the CLI backend: chart defaults + user values
    assert result.values["replicaCount"] == 2
    assert result.values["image"]["tag"] == "v1" and result.values["ingress"]["enabled"] is True

    monkeypatch.setenv("FAKE_HELM_FAIL", "1")
    [problem] = helm.render(demo, backend="helm").problems
    assert (problem.path, problem.line, problem.kind) == ("templates/deployment.yaml", 7, "render-error")
    assert problem.message.startswith("template: templates/deployment.yaml:7:12: executing")
    assert "Use --debug" not in problem.message and "interface {}" not in problem.message


@pytest.mark.skipif(os.name == "nt", reason="shebang script")
def test_fake_helm_backend_values_are_helms_own(demo: Path, fake_helm: Path) -> None:
    scaffold(demo / "charts", "sub")
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "sub", "version": "0.1.0"}])
    result = helm.render(demo, backend="helm", set_values=["sub.replicaCount=3", "image.tag=null"])
    # Helm's coalesce: the subchart's defaults under its name, user values over them, null deletes
    assert result.values["sub"]["replicaCount"] == 3 and result.values["sub"]["service"]["port"] == 80
    assert "tag" not in result.values["image"]


@pytest.mark.skipif(os.name == "nt", reason="shebang script")
def test_fake_helm_backend_with_missing_dependency(demo: Path, fake_helm: Path) -> None:
    edit_yaml(demo / "Chart.yaml", dependencies=[{"name": "ghost", "version": "1.0.0", "repository": "https://x.example"}])
    result = helm.render(demo, backend="helm")
    assert [p.kind for p in result.problems] == ["missing-dependency"]
    chart_arg = Path(json.loads(fake_helm.read_text())["args"][2])
    assert chart_arg != demo and not chart_arg.exists()  # a temporary copy, cleaned up


def test_no_renderer_available(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    [problem] = helm.render(demo, backend="helm").problems
    assert problem.kind == "render-error" and "helm" in problem.message
    monkeypatch.setattr(backends, "sdk_available", lambda: False)
    [problem] = helm.render(demo).problems
    assert problem.kind == "render-error" and "no Helm renderer is available" in problem.message
    with pytest.raises(ValueError):
        helm.render(demo, backend="kubectl")


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------


def test_lint_chart(demo: Path) -> None:
    problems = helm.lint_chart(demo)
    assert problems
    assert all(p.kind == "lint" for p in problems)
    assert any(p.path == "Chart.yaml" and "icon" in p.message and p.severity == "note" for p in problems)

    (demo / "templates" / "bad.yaml").write_text("a: 1\nb: 2\nc: {{ .Values.absent.x }}\n")
    problems = helm.lint_chart(demo, {"replicaCount": 2})
    [error] = [p for p in problems if p.severity == "error"]
    assert (error.path, error.line) == ("templates/bad.yaml", 3)
    assert "nil pointer" in error.message
