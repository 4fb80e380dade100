"""Hostile paths and runs (issue 14): symlink loops, folders that cannot be listed, file names with
control characters or bytes that are not UTF-8, coding declarations CPython refuses, absurd
``--jobs`` and a fork that fails. Each becomes a finding or a notice; the run goes on.

The tests run as root, which may read everything: a permission a user would be refused is
refused here by patching the ``os`` functions the run calls.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, run, sarif, validate_sarif, write

BAD = "import requests\nrequests.get('https://x')\n"
#: names as they are on disk: a newline, an ANSI colour sequence, a byte that is not UTF-8
NEWLINE = "nl\nx.py"
ANSI = "esc\x1b[31mred.py"
NOT_UTF8 = os.fsdecode(b"bad\xff.py")  # Python holds the byte as the lone surrogate U+DCFF


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(capsys, *args):
    code, out, err = run(capsys, "check", "--format", "json", "--jobs", "1", *args)
    return code, json.loads(out), err


def lnt(doc):
    return {f["filename"]: f["message"] for f in doc["findings"] if f["code"] == "LNT001"}


# --------------------------------------------------------------------------- 1. path problems


def test_a_symlink_loop_is_a_finding_for_its_path_and_the_scan_goes_on(proj, capsys):
    write(proj, {"ok.py": BAD, "sub/deep.py": BAD})
    os.symlink("loop.py", proj / "loop.py")  # a loop of one
    os.symlink("b.yaml", proj / "a.yaml")  # a loop of two
    os.symlink("a.yaml", proj / "b.yaml")
    os.symlink("..", proj / "sub" / "up")  # a cycle through a folder link: not followed, no finding
    os.symlink("ok.py", proj / "link.py")  # a symlink that works: not followed, as before
    code, doc, err = report(capsys)
    assert "Traceback" not in err
    found = lnt(doc)
    assert sorted(found) == ["a.yaml", "b.yaml", "loop.py"]
    assert all("symlink loop" in m for m in found.values()), found
    assert sorted(f["filename"] for f in doc["findings"] if f["code"] == "TMO101") == ["ok.py", "sub/deep.py"]
    assert code == 1
    # named on the command line: a finding too, not "no such file or directory" with exit 2
    code, doc, err = report(capsys, "loop.py", "ok.py")
    assert list(lnt(doc)) == ["loop.py"] and "no such file" not in err
    assert code == 1
    # a link whose target is missing is still a missing path
    os.symlink("gone.py", proj / "dangling.py")
    code, doc, _ = report(capsys, "dangling.py")
    assert code == 2 and [n["message"] for n in doc["notifications"]] == ["dangling.py: no such file or directory"]


def _refuse(monkeypatch, root: Path, unlistable: set[str], unsearchable: set[str]) -> None:
    """Refuse what a non-root user is refused: listing (and opening) the ``unlistable`` folders
    (chmod 000 or --x), and any look at a path inside the ``unsearchable`` ones (chmod 000)."""
    unlistable_paths = {os.fspath(root / d) for d in unlistable}
    unsearchable_paths = {os.fspath(root / d) for d in unsearchable}

    def denied(path: object) -> bool:
        if isinstance(path, int):
            return False
        p = os.path.abspath(os.fsdecode(os.fspath(path)))  # type: ignore[arg-type]
        return any(p.startswith(d + os.sep) for d in unsearchable_paths)

    def refuse(path: object) -> PermissionError:
        return PermissionError(errno.EACCES, "Permission denied", os.fspath(path))  # type: ignore[arg-type]

    real_scandir, real_open, real_stat = os.scandir, os.open, os.stat

    def scandir(path="."):
        if not isinstance(path, int) and (os.path.abspath(os.fspath(path)) in unlistable_paths or denied(path)):
            raise refuse(path)
        return real_scandir(path)

    def open_(path, *a, **k):
        if os.path.abspath(os.fspath(path)) in unlistable_paths or denied(path):
            raise refuse(path)
        return real_open(path, *a, **k)

    def stat_(path, *a, **k):
        if denied(path):
            raise refuse(path)
        return real_stat(path, *a, **k)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "stat", stat_)


def test_folders_that_cannot_be_listed_are_findings_and_the_scan_goes_on(proj, capsys, monkeypatch):
    write(proj, {
        "ok.py": BAD,
        "zero/a.py": BAD,  # chmod 000: neither listed nor searched
        "xonly/a.py": BAD,  # chmod 111: searched but not listed (was skipped without a word)
        "deep/er/locked/a.py": BAD,
        "ignored/a.py": BAD,  # cannot be listed either, but excluded by .gitignore: no finding
        ".gitignore": "ignored/\n",
    })
    _refuse(monkeypatch, proj, {"zero", "xonly", "deep/er/locked", "ignored"}, {"zero"})
    code, doc, err = report(capsys)
    assert "Traceback" not in err
    found = lnt(doc)
    assert sorted(found) == ["deep/er/locked", "xonly", "zero"], found
    assert found["zero"] == "cannot read zero: a folder that cannot be listed (Permission denied)"
    assert "a folder that cannot be listed" in found["xonly"]
    assert [f["filename"] for f in doc["findings"] if f["code"] == "TMO101"] == ["ok.py"]
    assert code == 1
    # named on the command line: the folder itself, and a file inside a folder that cannot be searched
    code, doc, err = report(capsys, "zero", "zero/a.py", "ok.py")
    assert "Traceback" not in err and "no such file" not in err
    assert sorted(lnt(doc)) == ["zero", "zero/a.py"]
    assert "Permission denied" in lnt(doc)["zero/a.py"]
    assert code == 1


def test_a_fifo_named_like_a_packaged_chart_does_not_hang_discovery(tmp_path):
    write(tmp_path, {"ok.py": BAD})
    os.mkfifo(tmp_path / "chart.tgz")
    proc = subprocess.run(
        [sys.executable, "-m", "linter", "check", "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )
    assert [f["filename"] for f in json.loads(proc.stdout)["findings"]] == ["ok.py"], proc.stderr


def test_names_that_are_not_utf8_are_linted_and_every_format_writes_them(proj, capsys):
    write(proj, {"ok.py": BAD})
    (proj / NOT_UTF8).write_text(BAD, encoding="utf-8")
    code, doc, err = report(capsys)
    assert code == 1 and "Traceback" not in err
    # JSON keeps the real name (json escapes the lone surrogate itself)
    assert sorted(f["filename"] for f in doc["findings"]) == sorted([NOT_UTF8, "ok.py"])
    code, doc = sarif(capsys)  # validated against the SARIF schema
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"])
    assert uris == ["bad%FF.py", "ok.py"]
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # no lone surrogate anywhere: valid Unicode
    code, out, err = run(capsys, "check")
    assert "bad\\xff.py:2:1: TMO101" in out
    out.encode("utf-8")


# --------------------------------------------------------------------------- 2. escaped names


def test_names_with_control_characters_are_escaped_in_text_and_github_output(proj, capsys):
    for name in (NEWLINE, ANSI, NOT_UTF8, "ok.py"):
        (proj / name).write_text(BAD, encoding="utf-8")
    code, out, err = run(capsys, "check", "--jobs", "1")
    assert code == 1 and "Traceback" not in err
    lines = out.splitlines()
    assert "nl\\nx.py:2:1: TMO101" in out and "esc\\x1b[31mred.py:2:1: TMO101" in out and "bad\\xff.py:2:1: TMO101" in out
    assert "\x1b" not in out and not any(line.startswith("x.py") for line in lines)
    assert len([line for line in lines if ": TMO101 " in line]) == 4
    out.encode("utf-8")  # nothing a terminal could take for raw bytes

    code, out, err = run(capsys, "check", "--jobs", "1", "--format", "github")
    lines = out.splitlines()
    assert len(lines) == 4 and all(line.startswith("::warning file=") for line in lines)
    assert "file=nl\\nx.py," in out and "file=esc\\x1b[31mred.py," in out and "file=bad\\xff.py," in out
    assert "\x1b" not in out
    out.encode("utf-8")

    code, doc = sarif(capsys, "--jobs", "1")
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"])
    assert uris == ["bad%FF.py", "esc%1B%5B31mred.py", "nl%0Ax.py", "ok.py"]

    code, doc, err = report(capsys)
    assert sorted(f["filename"] for f in doc["findings"]) == sorted([NEWLINE, ANSI, NOT_UTF8, "ok.py"])


def test_a_message_quoting_an_odd_name_is_escaped_too(proj, capsys):
    (proj / ANSI).write_text("def f(:\n", encoding="utf-8")
    code, out, _ = run(capsys, "check", "--jobs", "1")
    assert "cannot parse esc\\x1b[31mred.py" in out and "\x1b" not in out
    code, out, _ = run(capsys, "check", "--jobs", "1", "--format", "github")
    assert "\x1b" not in out


# --------------------------------------------------------------------------- 3. positions


COOKIES = {
    "unknown.py": b"# -*- coding: klingon -*-\nx = (\n",  # the case of the issue: column -1 in SARIF
    "unknown2.py": b"#!/usr/bin/env python\n# -*- coding: klingon -*-\nx = 1\n",
    "ascii.py": b"# coding: ascii\nx = '\xc3\xa9'\n",
    "rot13.py": b"# coding: rot13\nx = 1\n",
    "bom.py": b"\xef\xbb\xbf# coding: latin-1\nx = 1\n",
    "utf16.py": b"# coding: utf-16\nx = 1\n",
    "cp1252.py": b"# coding: cp1252\nx = '\x81'\n",
}


def test_coding_declarations_cpython_refuses_are_findings_with_a_real_position(proj, capsys):
    write(proj, {**COOKIES, "latin1.py": b"# coding: latin-1\nimport requests\nrequests.get('caf\xe9')\n"})
    code, doc = sarif(capsys, "--jobs", "1")  # the schema wants startLine and startColumn >= 1
    regions = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["locations"][0]["physicalLocation"]["region"]
        for r in doc["runs"][0]["results"]
        if r["ruleId"] == "LNT001"
    }
    assert sorted(regions) == sorted(COOKIES)
    assert regions["unknown.py"]["startLine"] == 1 and regions["unknown2.py"]["startLine"] == 2
    assert regions["ascii.py"]["startLine"] == 2
    assert all(r["startColumn"] >= 1 and r["startLine"] >= 1 for r in regions.values())
    messages = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["message"]["text"] for r in doc["runs"][0]["results"]}
    assert "unknown encoding 'klingon'" in messages["unknown.py"]
    assert "not valid ascii" in messages["ascii.py"]
    # a declared encoding that CPython reads is still honoured
    assert any(r["ruleId"] == "TMO101" for r in doc["runs"][0]["results"] if "latin1.py" in json.dumps(r["locations"]))


def test_no_python_file_gives_a_position_below_one(tmp_path):
    """The cause of the -1: CPython's error for an encoding it refuses has line 0, column -1;
    ``decode`` now refuses such bytes first, with the line of the declaration."""
    from linter.core import engine
    from linter.core.config import from_dict

    settings = from_dict({}, root=tmp_path, config_path=None)
    ruleset = engine.build_ruleset(settings, project_root=tmp_path)
    for name, data in COOKIES.items():
        result = engine.lint_unit("python", name, data, ruleset)
        assert [f.rule_id for f in result.findings] == ["LNT001"], name
        region = result.findings[0].region
        assert region.line >= 1 and region.column >= 1 and region.end_line >= 1 and region.end_column >= 1, (name, region)


def test_writers_never_print_a_position_below_one():
    from linter.core.model import Finding, Region
    from linter.report.formats import github_report, json_report, sarif_report, text_report

    f = Finding("LNT001", "x.py", Region(0, -1, 0, -1), "cannot parse x.py", "error")
    assert "x.py:1:1: LNT001" in text_report([f], [], statistics=False, rules={})
    assert "line=1,col=1,endLine=1,endColumn=1" in github_report([f], [])
    doc = json.loads(json_report([f], [], {}))
    assert doc["findings"][0]["location"] == {"row": 1, "column": 1}
    doc = json.loads(sarif_report([f], [], rules=[], packs=[], root=Path.cwd()))
    validate_sarif(doc)


# --------------------------------------------------------------------------- 4. the pool


def test_jobs_is_capped_by_the_units_and_the_cores(tmp_path, monkeypatch):
    from concurrent.futures import ProcessPoolExecutor

    from linter.core import engine
    from linter.core.config import from_dict
    from linter.core.discover import discover

    write(tmp_path, {f"ok{i}.py": BAD for i in range(10)})
    settings = from_dict({}, root=tmp_path, config_path=None)
    units, _ = discover([str(tmp_path)], settings, cwd=tmp_path)
    ruleset = engine.build_ruleset(settings, project_root=tmp_path)
    monkeypatch.setattr(engine, "_cores", lambda: 2, raising=False)  # two cores, whatever runs the tests
    sizes = []

    class Recording(ProcessPoolExecutor):
        def __init__(self, max_workers=None, **kw):
            sizes.append(max_workers)
            assert max_workers <= 10, f"a pool of {max_workers} workers for 10 files"  # stop before forking them
            super().__init__(max_workers, **kw)

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Recording)  # the engine imports it when a pool runs
    results = engine.run(units, ruleset, jobs=1000)
    assert sizes == [2]
    assert [[f.rule_id for f in r.findings] for r in results] == [["TMO101"]] * 10


FORK_FAILS = """
import errno, os, sys
from linter.core import engine
from linter.cli import main

engine._cores = lambda: 2  # a pool of two whatever the machine
real_fork, calls = os.fork, []

def fork():  # the first worker starts, the second does not: the process table is full
    calls.append(1)
    if len(calls) >= 2:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")
    return real_fork()

os.fork = fork
sys.exit(main(["check", "--format", "json", "--jobs", "2"]))
"""


def test_a_fork_that_fails_falls_back_to_one_process_with_a_notice(tmp_path):
    write(tmp_path, {f"ok{i}.py": BAD for i in range(10)})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", FORK_FAILS], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert time.monotonic() - start < 120
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert sorted(f["filename"] for f in doc["findings"]) == [f"ok{i}.py" for i in range(10)]
    notes = [n["message"] for n in doc["notifications"]]
    assert any("cannot start worker processes" in n and "one process" in n for n in notes), notes


def test_escape_is_identity_on_ordinary_text():
    from linter.report.formats import escape

    for text in ("svc/bad.py", "dir with space/ok.py", "café/ünïcode.py", "a\\b.py"):
        assert escape(text) == text
    assert escape("a\tb\r\n\x1b\u202e" + NOT_UTF8) == "a\\tb\\r\\n\\x1b\\u202ebad\\xff.py"
