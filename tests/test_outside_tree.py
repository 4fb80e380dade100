"""Nothing outside the scanned tree is read, rendered or reported (issue 14, item 1): symbolic links
in a chart, `.Files.Get` of a path outside it, `file://` dependencies outside the tree, and modules
of the Python signature index linked to outside the tree."""

from __future__ import annotations

import json
import os

import pytest
from helpers import run, sarif, write

from linter.core.discover import Unit
from linter.python.index import index_units

SECRET = "SECRET-0f7d3c-XYZZY"

POD = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: a\n      image: b\n"
    "      securityContext:\n        privileged: true\n"
)


def _outside_chart(root, name):
    write(root, {
        f"{name}/Chart.yaml": f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n",
        f"{name}/templates/cm.yaml": f'{{{{ fail "{SECRET} from {name}" }}}}\n',
    })
    return root / name


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """proj/ (the scanned tree, the working folder) holding chart c/, and outside/ beside it."""
    outside = tmp_path / "outside"
    write(outside, {
        "secret": f"{SECRET}\n",
        "leak.yaml": f'{{{{ fail "{SECRET} in a linked template" }}}}\n',
        "data.txt": f"{SECRET} as a chart file\n",
        "tpl/x.yaml": f'{{{{ fail "{SECRET} in a linked folder" }}}}\n',
    })
    ext = _outside_chart(outside, "ext")
    _outside_chart(outside, "rel")
    proj = tmp_path / "proj"
    write(proj, {
        "c/Chart.yaml": (
            "apiVersion: v2\nname: c\nversion: 0.1.0\ndependencies:\n"
            f"  - name: ext\n    version: 0.1.0\n    repository: file://{ext}\n"
            "  - name: rel\n    version: 0.1.0\n    repository: file://../../outside/rel\n"
        ),
        "c/templates/pod.yaml": POD,
        "c/templates/cm.yaml": (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n"
            '  up: {{ .Files.Get "../../secret" | quote }}\n'
            '  abs: {{ .Files.Get "/etc/passwd" | quote }}\n'
            '  linked: {{ .Files.Get "files/data.txt" | quote }}\n'
            '  glob: {{ (.Files.Glob "../../*").AsConfig | quote }}\n'
        ),
    })
    (proj / "c/files").mkdir()
    os.symlink(outside / "leak.yaml", proj / "c/templates/leak.yaml")
    os.symlink(outside / "tpl", proj / "c/templates/linked")
    os.symlink(outside / "data.txt", proj / "c/files/data.txt")
    monkeypatch.chdir(proj)
    return proj


def _check_all_formats(capsys, *args):
    """Every output format of one run; returns the JSON findings."""
    outputs = []
    for fmt in ("text", "json", "github"):
        code, out, err = run(capsys, "check", "--format", fmt, *args)
        outputs.append(out + err)
    _, doc = sarif(capsys, *args)
    outputs.append(json.dumps(doc))
    for text in outputs:
        assert SECRET not in text
    _, out, _ = run(capsys, "check", "--format", "json", *args)
    return json.loads(out)["findings"]


def test_chart_symlinks_files_get_and_file_dependencies_outside_the_tree_are_refused(hostile, capsys):
    found = _check_all_formats(capsys, "--helm-profiles", "defaults", "--select", "PSA201,LNT")
    got = {(f["code"], f["filename"]) for f in found}
    assert ("PSA201", "c/templates/pod.yaml") in got  # the rest of the chart still renders
    lnt = {f["filename"]: f["message"] for f in found if f["code"] == "LNT002"}
    messages = [f["message"] for f in found if f["code"] == "LNT002"]
    # symbolic links leading outside the tree: refused, named, and why
    for link in ("c/templates/leak.yaml", "c/templates/linked", "c/files/data.txt"):
        assert link in lnt, lnt
        assert "outside the scanned tree" in lnt[link]
    # `.Files.Get`/`.Files.Glob` of paths outside the chart
    files = [m for m in messages if "`.Files." in m]
    assert any("'../../secret'" in m for m in files) and any("'/etc/passwd'" in m for m in files)
    assert any("'../../*'" in m and ".Files.Glob" in m for m in files)
    # `file://` dependencies outside the tree: absolute and relative
    deps = [m for m in messages if "dependency" in m]
    assert any('"ext"' in m and "refused file://" in m and "outside the scanned tree" in m for m in deps)
    assert any('"rel"' in m and "refused file://../../outside/rel" in m for m in deps)


def test_helm_lint_reads_nothing_outside_the_tree(hostile, capsys):
    _check_all_formats(capsys, "--helm-profiles", "defaults", "--extend-select", "HLM201")


def test_render_api_with_a_tree_refuses_outside_paths(hostile):
    from linter.helm.render import render

    result = render(hostile / "c", tree=hostile, timeout=30)
    texts = [d.text for d in result.docs] + [p.message for p in result.problems]
    assert all(SECRET not in t for t in texts)
    assert {d.template for d in result.docs} >= {"templates/pod.yaml", "templates/cm.yaml"}
    kinds = {p.path: p.kind for p in result.problems}
    assert kinds["templates/leak.yaml"] == "outside-tree"


def test_a_symlink_inside_the_tree_still_renders(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"shared/pod.yaml": POD, "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n"})
    (tmp_path / "c/templates").mkdir()
    os.symlink(tmp_path / "shared/pod.yaml", tmp_path / "c/templates/pod.yaml")
    monkeypatch.chdir(tmp_path)
    _, out, _ = run(capsys, "check", "--format", "json", "--helm-profiles", "defaults", "--select", "PSA201,LNT")
    found = json.loads(out)["findings"]
    got = [(f["code"], f["filename"]) for f in found]
    assert ("PSA201", "c/templates/pod.yaml") in got and not [g for g in got if g[0] == "LNT002"]


def test_a_chart_yaml_linked_to_outside_the_tree_is_refused(tmp_path, monkeypatch, capsys):
    write(tmp_path, {"outside/Chart.yaml": f"apiVersion: v2\nname: {SECRET}\nversion: 0.1.0\n", "proj/c/templates/pod.yaml": POD})
    os.symlink(tmp_path / "outside/Chart.yaml", tmp_path / "proj/c/Chart.yaml")
    monkeypatch.chdir(tmp_path / "proj")
    found = _check_all_formats(capsys, "--helm-profiles", "defaults", "--select", "PSA201,LNT")
    lnt = [f for f in found if f["code"] == "LNT002"]
    assert lnt and "refused Chart.yaml" in lnt[0]["message"] and "outside the scanned tree" in lnt[0]["message"]


CLIENT = f"""
def fetch(url, timeout=None):
    return "{SECRET}"
"""


def test_the_signature_index_does_not_follow_a_module_linked_outside_the_tree(tmp_path):
    write(tmp_path, {
        "outside/client.py": CLIENT,
        "outside/extpkg/__init__.py": "",
        "outside/extpkg/api.py": CLIENT,
        "proj/pkg/__init__.py": "",
        "proj/shared/inner.py": CLIENT,
        "proj/pkg/service.py": (
            "from pkg.client import fetch\nfrom pkg.inner import fetch as f2\nfrom pkg.extpkg.api import fetch as f3\n"
            "def h(u, timeout):\n    fetch(u)\n    f2(u)\n    f3(u)\n"
        ),
    })
    proj = tmp_path / "proj"
    os.symlink(tmp_path / "outside/client.py", proj / "pkg/client.py")  # a module
    os.symlink(tmp_path / "outside/extpkg", proj / "pkg/extpkg")  # a package folder
    os.symlink(proj / "shared/inner.py", proj / "pkg/inner.py")  # inside the tree: followed
    unit = Unit("python", "pkg/service.py", str(proj / "pkg/service.py"))
    index = index_units([unit])
    assert index.lookup("pkg.inner.fetch") is not None
    assert index.lookup("pkg.client.fetch") is None
    assert index.lookup("pkg.extpkg.api.fetch") is None
    assert not any("client" in p or "extpkg" in p for p in index.modules)


def test_chart_dirs_outside_the_scanned_tree_are_refused(tmp_path, monkeypatch, capsys):
    """A chart-dirs folder outside the tree is never read: the dependency stays missing and the
    refusal is said."""
    outside = tmp_path / "outside"
    write(outside, {"sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n", "sub/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leaked\n"})
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n",
            "app/values.yaml": "{}\n",
            "app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: own\n",
            ".pitfall.toml": f'[helm]\nchart-dirs = ["{outside}"]\n',
        },
    )
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "check", "app", "--select", "LNT002", "--format", "json")
    messages = [f["message"] for f in json.loads(out)["findings"]]
    assert any("refused chart-dirs folder" in m and "outside the scanned tree" in m for m in messages)
    assert any('dependency "sub"' in m for m in messages)  # still missing: nothing was read from there
