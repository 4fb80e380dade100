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
    write(proj, {"legacy/a.py": BAD, "src/a.py": BAD, ".pitfall.toml": '[per-file-ignores]\n"legacy/*" = ["TMO101"]\n'})
    code, fs = findings(capsys)
    by_file = {f["filename"]: f for f in fs}
    assert by_file["legacy/a.py"]["suppression"]["kind"] == "external"
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


def test_gitignore_negations_nested_files_and_excludes_with_folders(proj, capsys):
    # what git ignores: the last matching pattern wins (a `!` takes a path back), a folder's own
    # .gitignore adds to its parents'; excludes match a name, a path, what lies below a path
    write(proj, {
        ".gitignore": "*.gen.py\n!keep.gen.py\nout/\n# a comment\n",
        "a.gen.py": BAD,
        "keep.gen.py": BAD,
        "out/a.py": BAD,
        "sub/.gitignore": "local_*.py\n!local_keep.py\n/top_only.py\n",
        "sub/local_x.py": BAD,
        "sub/local_keep.py": BAD,
        "sub/top_only.py": BAD,
        "sub/deeper/top_only.py": BAD,
        "sub/deeper/b.gen.py": BAD,
        "third_party/vendored/lib.py": BAD,
        "third_party/own.py": BAD,
        "pkg/generated_code/c.py": BAD,
        ".pitfall.toml": 'extend-exclude = ["third_party/vendored", "generated_*"]\n',
    })
    os.mkdir(proj / ".git")
    code, fs = findings(capsys)
    assert {f["filename"] for f in fs} == {"keep.gen.py", "sub/local_keep.py", "sub/deeper/top_only.py", "third_party/own.py"}


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


TEST_CODE_TREE = {
    "src/app.py": BAD,
    "tests/test_app.py": BAD,
    "pkg/test_client.py": BAD,
    "pkg/client_test.py": BAD,
    "pkg/conftest.py": BAD,
    "docs/conf.py": BAD,
    "pkg/fixtures/server.py": BAD,
    "conftest.py": "",
    "t/integration/conftest.py": "",
    "t/integration/tasks.py": BAD,
    "testdata/broken.py": "def (:\n",
    "tests/data/broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
    "tests/data/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i}\n",
}


def test_test_fixture_and_docs_code_runs_only_in_tests_rules(proj, capsys):
    write(proj, TEST_CODE_TREE)
    code, fs = findings(capsys)
    assert {f["filename"] for f in fs} == {"src/app.py"}
    assert code == 1


def test_test_paths_are_configurable(proj, capsys):
    write(proj, {**TEST_CODE_TREE, ".pitfall.toml": 'test-paths = ["qa/"]\nextend-test-paths = ["pkg/*_test.py"]\n', "qa/a.py": BAD})
    _, fs = findings(capsys, "--select", "TMO,LNT001")
    files = {f["filename"] for f in fs}
    assert "qa/a.py" not in files and "pkg/client_test.py" not in files
    assert {"src/app.py", "tests/test_app.py", "docs/conf.py", "testdata/broken.py"} <= files
    assert not any(f.startswith(("pkg/", "t/")) for f in files)  # folders with a conftest.py


GENERATED_TREE = {
    # what protoc's gRPC plugin, a client generator and mypy-protobuf write at the top
    "api/service_pb2_grpc.py": "# Generated by the gRPC Python protocol compiler plugin. DO NOT EDIT!\n" + BAD,
    "api/client.py": '"""Client for the API.\n\nCode generated by a client generator.\n"""\n' + BAD,
    "api/stub.py": "# -*- coding: utf-8 -*-\n# @generated by a stub generator\n\n" + BAD,
    # Sphinx's conf.py calls itself "autogenerated", and its project edits it
    "conf.py": "# Note that not all possible configuration values are present in this\n# autogenerated file.\n" + BAD,
    # a marker after the first statement is no header
    "app.py": BAD + "# do not edit below this line\n",
}


def test_generated_modules_are_left_out_unless_asked_for(proj, capsys):
    write(proj, GENERATED_TREE)
    _, fs = findings(capsys, "--select", "TMO101")
    assert sorted(f["filename"] for f in fs) == ["app.py", "conf.py"]
    _, fs = findings(capsys, "--select", "TMO101", "--config", "exclude-generated = false")
    assert sorted(f["filename"] for f in fs) == ["api/client.py", "api/service_pb2_grpc.py", "api/stub.py", "app.py", "conf.py"]


def test_unused_suppressions_are_still_reported_in_test_code(proj, capsys):
    write(proj, {"tests/test_a.py": "x = 1  # pitfall: ignore\ny = 2  # pitfall: ignore[TMO101] not run here\n"})
    _, fs = findings(capsys)
    assert [(f["code"], f["location"]["row"]) for f in fs] == [("LNT003", 1)]


def test_a_pack_rule_can_declare_that_it_runs_in_tests(proj, capsys):
    rule = (
        "id: QAT101\nname: no-sleep-in-tests\ntarget: python\nseverity: warning\narea: timeout\nin-tests: true\n"
        "summary: Checks for sleeps.\nrationale: Slow.\nmessage: sleep\n"
        "match:\n  - call: [time.sleep]\n"
        "examples:\n  valid: ['import time\\n']\n  invalid: ['import time\\ntime.sleep(1)  # error\\n']\n"
    )
    write(proj, {
        "packs/qa/pack.yaml": "name: qa\nprefix: QAT\nversion: 0.1.0\ndescription: QA checks.\n",
        "packs/qa/QAT101-no-sleep-in-tests.yaml": rule,
        ".pitfall.toml": 'packs = ["packs"]\n',
        "tests/test_a.py": "import time\nimport requests\ntime.sleep(1)\nrequests.get('https://x')\n",
    })
    _, fs = findings(capsys)
    assert [(f["code"], f["location"]["row"]) for f in fs] == [("QAT101", 3)]


def test_a_folder_named_on_the_command_line_is_linted_even_when_it_is_docs_code(proj, capsys):
    write(proj, {"examples/app.py": BAD, "examples/tests/test_app.py": BAD, "src/app.py": BAD, "tests/helpers.py": BAD})
    _, everything = findings(capsys, ".")
    assert {f["filename"] for f in everything} == {"src/app.py"}
    _, examples = findings(capsys, "examples")
    assert {f["filename"] for f in examples} == {"examples/app.py"}
    _, jobs = findings(capsys, "examples", "--jobs", "2")
    assert jobs == examples
