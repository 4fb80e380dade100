"""Suppressions, discovery (.gitignore, excludes, --force-exclude) and fixes."""

from __future__ import annotations

import json
import os

import pytest
from helpers import run, write

BAD = "import requests\nrequests.get('https://x')\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def findings(capsys, *args):
    code, out, _ = run(capsys, "check", "--format", "json", *args)
    return code, json.loads(out)["findings"]


def test_trailing_and_own_line_directives(proj, capsys):
    write(proj, {"a.py": (
        "import requests\n"
        "requests.get('u')  # pitfall: ignore[TMO101] health check\n"
        "# pitfall: ignore[TMO] next line only\n"
        "\n"
        "requests.get('v')\n"
        "requests.get('w')\n"
    )})
    code, fs = findings(capsys, "--select", "TMO,LNT")
    by_line = {f["location"]["row"]: f for f in fs}
    assert by_line[2]["suppression"] == {"kind": "inSource", "justification": "health check", "origin": "comment"}
    assert by_line[5]["suppression"]["justification"] == "next line only"
    assert by_line[6]["suppression"] is None
    assert code == 1


def test_file_ignore_and_unused_directive(proj, capsys):
    write(proj, {
        "a.py": "# pitfall: file-ignore[TMO]\nimport requests\nrequests.get('u')\nrequests.post('u')\n",
        "b.py": "x = 1  # pitfall: ignore[TMO101]\ny = 2  # pitfall: ignore[NOPE999]\n",
        "c.py": "s = '# pitfall: ignore[TMO101] inside a string is not a directive'\n",
    })
    code, fs = findings(capsys)
    assert all(f["suppression"] for f in fs if f["filename"] == "a.py" and f["code"] == "TMO101")
    unused = [(f["filename"], f["location"]["row"]) for f in fs if f["code"] == "LNT003"]
    assert unused == [("b.py", 1), ("b.py", 2)]
    assert code == 1


def test_unused_directive_for_an_unselected_rule_is_not_reported(proj, capsys):
    write(proj, {"b.py": "x = 1  # pitfall: ignore[TMO101]\n"})
    code, fs = findings(capsys, "--select", "TLS,LNT")
    assert fs == [] and code == 0


def test_yaml_directive_and_annotation(proj, capsys):
    write(proj, {"pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        "  annotations:\n    ignore-check.pitfall.dev/PSA213: \"legacy image, ticket OPS-1\"\n"
        "spec:\n  containers:\n    - name: app  # pitfall: ignore[PSA214] reviewed\n      image: nginx\n"
    )})
    code, fs = findings(capsys, "--select", "PSA213,PSA214,PSA217")
    sup = {f["code"]: f["suppression"] for f in fs}
    assert sup["PSA213"] == {"kind": "inSource", "justification": "legacy image, ticket OPS-1", "origin": "annotation"}
    assert sup["PSA214"]["justification"] == "reviewed"
    assert sup["PSA217"] is None


def test_per_file_ignores(proj, capsys):
    write(proj, {"tests/test_a.py": BAD, "src/a.py": BAD, ".pitfall.toml": '[per-file-ignores]\n"tests/*" = ["TMO101"]\n'})
    code, fs = findings(capsys)
    by_file = {f["filename"]: f for f in fs}
    assert by_file["tests/test_a.py"]["suppression"]["kind"] == "external"
    assert by_file["src/a.py"]["suppression"] is None


def test_gitignore_exclude_and_force_exclude(proj, capsys):
    write(proj, {
        ".gitignore": "build_out/\n*.gen.py\n",
        "build_out/a.py": BAD,
        "x.gen.py": BAD,
        "vendor/lib.py": BAD,
        "src/a.py": BAD,
        "notes.txt": "requests.get(u)",
        "data.yaml": "just: data\nlist: [1, 2]\n",
        ".pitfall.toml": 'extend-exclude = ["vendor"]\n',
    })
    os.mkdir(proj / ".git")
    code, fs = findings(capsys)
    assert {f["filename"] for f in fs} == {"src/a.py"}
    # passed explicitly: linted, unless --force-exclude (the pre-commit case)
    code, fs = findings(capsys, "vendor/lib.py", "x.gen.py")
    assert {f["filename"] for f in fs} == {"vendor/lib.py", "x.gen.py"}
    code, fs = findings(capsys, "--force-exclude", "vendor/lib.py", "x.gen.py", "src/a.py")
    assert {f["filename"] for f in fs} == {"src/a.py"}


def test_fix_writes_atomically_and_diff_writes_nothing(proj, capsys):
    write(proj, {"a.py": "import requests\nrequests.get('u')\n"})
    code, out, _ = run(capsys, "check", "--diff", "--unsafe-fixes")
    assert code == 1 and "+requests.get('u', timeout=10)" in out
    assert (proj / "a.py").read_text() == "import requests\nrequests.get('u')\n"
    code, out, _ = run(capsys, "check", "--fix")  # the fix is unsafe: not applied
    assert (proj / "a.py").read_text() == "import requests\nrequests.get('u')\n"
    code, out, _ = run(capsys, "check", "--fix", "--unsafe-fixes")
    assert (proj / "a.py").read_text() == "import requests\nrequests.get('u', timeout=10)\n"
    assert code == 0 and "1 fixed" in out
    assert [p.name for p in proj.iterdir()] == ["a.py"]  # no temporary file left behind


def test_nothing_is_written_without_fix(proj, capsys):
    write(proj, {"a.py": BAD, "p.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: b}]}\n"})
    before = sorted(p.name for p in proj.rglob("*"))
    run(capsys, "check")
    run(capsys, "check", "--format", "sarif")
    assert sorted(p.name for p in proj.rglob("*")) == before
