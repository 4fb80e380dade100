"""Issue 15, items 3 and 4: a readable text report (severity, colour, long lines, the `full`
format, `--statistics` in every format) and no traceback for a user error (one line, exit 2,
naming the option, file or key and what is allowed; an error reported once)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run, write

from linter.report import formats as report
from linter.core.model import Finding, Notification, Region

BAD = 'import requests\n\n\ndef f(u):\n    return requests.get(u)\n'
K8S = """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path, monkeypatch):
    write(tmp_path, {"svc/bad.py": BAD, "deploy/pod.yaml": K8S, "broken.py": "def f(:\n"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


def _finding(message: str = "m", severity: str = "warning", line: int = 2, column: int = 5, end_column: int = 8) -> Finding:
    return Finding("TMO101", "app.py", Region(line, column, line, end_column), message, severity)


# --------------------------------------------------------------------------- 3. a readable report


def test_each_finding_line_shows_its_severity_after_the_position(project, capsys):
    code, out, _ = run(capsys, "check", "svc", "deploy", "--select", "TMO101,PSA")
    assert code == 1
    lines = [line for line in out.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    assert lines and all(re.match(r"^\S+:\d+:\d+: [A-Z]{3}\d{3}( \[\*\])? (error|warning|note): ", line) for line in lines), lines
    assert "svc/bad.py:5:12: TMO101 warning: `requests.get` called without `timeout`" in out
    assert any(" error: " in line for line in lines)  # the privileged container: the line that fails `fail-on = "error"`


def test_colour_follows_the_terminal_and_no_color_and_force_color():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert report.use_colour(Tty(), {}) is True
    assert report.use_colour(io.StringIO(), {}) is False
    assert report.use_colour(Tty(), {"NO_COLOR": "1"}) is False
    assert report.use_colour(Tty(), {"NO_COLOR": ""}) is True  # only a non-empty NO_COLOR disables
    assert report.use_colour(io.StringIO(), {"FORCE_COLOR": "1"}) is True
    assert report.use_colour(Tty(), {"NO_COLOR": "1", "FORCE_COLOR": "1"}) is False
    assert report.use_colour(Tty(), {"TERM": "dumb"}) is False


def test_cli_colours_only_when_asked(project, capsys, monkeypatch):
    _, plain, _ = run(capsys, "check", "svc", "--select", "TMO101")
    assert "\x1b[" not in plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = run(capsys, "check", "svc", "--select", "TMO101")
    assert "\x1b[" in coloured and ANSI.sub("", coloured) == plain
    _, written, _ = run(capsys, "check", "svc", "--select", "TMO101", "-o", "report.txt")
    assert "\x1b[" not in (project / "report.txt").read_text(encoding="utf-8")  # never into a file
    monkeypatch.setenv("NO_COLOR", "1")
    _, again, _ = run(capsys, "check", "svc", "--select", "TMO101")
    assert again == plain


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_real_terminal_gets_colour(project):
    import pty

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    env["PYTHONPATH"] = os.pathsep.join([str(Path(report.__file__).parents[1]), env.get("PYTHONPATH", "")])  # this checkout's linter
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", "import sys; from linter.cli import main; sys.exit(main(sys.argv[1:]))", "check", "svc", "--select", "TMO101"],
            stdout=secondary, stderr=subprocess.PIPE, env=env, cwd=project, timeout=120,
        )
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)
    out = b"".join(chunks).decode()
    assert proc.returncode == 1, proc.stderr
    assert "\x1b[" in out and "TMO101" in out


def test_long_messages_wrap_with_an_indent_on_a_terminal_only():
    long = " ".join(["word"] * 70)  # about 350 characters
    one = report.text_report([_finding(long)], [], statistics=False, rules={})
    assert one.splitlines()[0].endswith(long)  # piped (an editor, CI): one line a finding
    wrapped = report.text_report([_finding(long)], [], statistics=False, rules={}, width=80)
    body = wrapped.split("\n\n")[0].splitlines()
    assert len(body) > 1 and all(len(line) <= 80 for line in body)
    assert body[0].startswith("app.py:2:5: TMO101 warning: word")
    assert all(line.startswith("    word") for line in body[1:])
    assert " ".join(line.strip() for line in body).endswith(long)


def test_full_format_shows_the_source_with_a_caret(project, capsys):
    for flag in ("--format", "--output-format"):
        code, out, _ = run(capsys, "check", "svc", "--select", "TMO101", flag, "full")
        assert code == 1
        lines = out.splitlines()
        assert lines[0] == "svc/bad.py:5:12: TMO101 warning: `requests.get` called without `timeout`: it can wait forever"
        assert "5 |     return requests.get(u)" in lines
        assert "4 | def f(u):" in lines and "3 |" in lines  # the lines around it
        caret = next(line for line in lines if "^" in line)
        code_line = next(line for line in lines if line.startswith("5 |"))
        assert caret.index("^") == code_line.index("requests.get(u)")
        assert caret.rstrip().endswith("^" * len("requests.get(u)") + " TMO101")


def test_full_format_snippet_unit():
    source = "a\nb\n    xyz = 1\nc\n"
    out = report.text_report([_finding(line=3, column=5, end_column=8)], [], statistics=False, rules={}, full=True, source=lambda p: source)
    assert "3 |     xyz = 1\n  |     ^^^ TMO101\n" in out
    assert "1 | a" in out and "4 | c" in out


def test_statistics_in_text_json_github_and_sarif(project, capsys):
    code, out, _ = run(capsys, "check", "svc", "--select", "TMO101", "--statistics")
    assert code == 1 and re.search(r"^1\tTMO101\t", out, re.M)
    code, out, _ = run(capsys, "check", "svc", "--select", "TMO101", "--statistics", "--format", "json")
    doc = json.loads(out)
    assert doc["statistics"] == [{"code": "TMO101", "name": "request-without-timeout", "severity": "warning", "count": 1, "fixable": False}]
    assert len(doc["findings"]) == 1
    code, out, _ = run(capsys, "check", "svc", "--select", "TMO101", "--format", "json")
    assert "statistics" not in json.loads(out)  # the default JSON is unchanged
    code, out, _ = run(capsys, "check", "svc", "--select", "TMO101", "--statistics", "--format", "github")
    lines = out.splitlines()
    assert lines[0].startswith("::warning file=svc/bad.py")
    assert lines[1] == "::group::pitfall statistics" and lines[-1] == "::endgroup::"
    assert any(re.match(r"^1\tTMO101\t", line) for line in lines)
    code, out, err = run(capsys, "check", "svc", "--select", "TMO101", "--statistics", "--format", "sarif")
    json.loads(out)  # still one SARIF document
    assert re.search(r"^1\tTMO101\t", err, re.M)


# --------------------------------------------------------------------------- 4. user errors


def _one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2, (out, err)
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert out == ""
    return lines[0]


def test_output_into_a_missing_folder(project, capsys):
    line = _one_line_error(*run(capsys, "check", "svc", "--output", "nowhere/report.txt"))
    assert "--output" in line and "nowhere" in line and "does not exist" in line


def test_output_onto_a_folder(project, capsys):
    line = _one_line_error(*run(capsys, "check", "svc", "-o", "svc"))
    assert "--output" in line and "`svc` is a folder" in line


def test_unknown_helm_profile_names_the_allowed_ones(project, capsys):
    line = _one_line_error(*run(capsys, "check", "svc", "--helm-profiles", "defaults,prod"))
    assert "--helm-profiles" in line and "prod" in line
    assert "defaults, ingress, tls, monitoring" in line


def test_unknown_ignore_selector_names_the_ignore_key(project, capsys):
    line = _one_line_error(*run(capsys, "check", "svc", "--ignore", "BAR"))
    assert "BAR" in line and "--ignore" in line and "(key `ignore`)" in line and "`select`" not in line
    line = _one_line_error(*run(capsys, "check", "svc", "--select", "FOO"))
    assert "(key `select`)" in line and "rule id" in line


def test_unknown_selector_in_the_config_file_names_file_and_key(project, capsys):
    write(project, {"pyproject.toml": '[tool.pitfall]\nextend-ignore = ["XYZ9"]\n'})
    line = _one_line_error(*run(capsys, "check", "svc"))
    assert "pyproject.toml" in line and "XYZ9" in line and "(key `extend-ignore`)" in line


def test_set_without_a_value_is_a_usage_error(project, capsys):
    write(project, {"chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n", "chart/values.yaml": "a: 1\n"})
    line = _one_line_error(*run(capsys, "check", "chart", "--set", "foo"))
    assert "--set" in line and "`foo`" in line and "key=value" in line


def test_missing_path_is_not_reported_as_no_problems(project, capsys):
    code, out, err = run(capsys, "check", "nope/")
    assert code == 2
    assert "No problems found" not in out and "No problems found" not in err
    assert err.strip() == "error: nope/: no such file or directory"
    assert "Traceback" not in err


def test_parse_error_is_reported_once(project, capsys):
    code, out, err = run(capsys, "check", "broken.py")
    assert code == 1
    assert out.count("cannot parse broken.py") == 1 and "LNT001" in out
    assert "cannot parse" not in err
    code, out, err = run(capsys, "check", "broken.py", "--format", "github")
    assert out.count("cannot parse broken.py") == 1, out  # one GitHub annotation


def test_notifications_that_are_no_finding_still_reach_stderr():
    note = Notification("x.py: not analysed", "warning", "x.py")
    parse = Notification("cannot parse a.py", "error", "a.py", "LNT001")
    finding = Finding("LNT001", "a.py", Region(1, 1, 1, 2), "cannot parse a.py", "error")
    assert report.unreported([note, parse], [finding]) == [note]
