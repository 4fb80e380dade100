"""`pitfall report --html`: the quality dashboard built from pitfall's own SARIF logs.

The logs come from running pitfall on small Git repositories across commits: a finding fixed
between runs, one suppressed as a false positive, a second repository with a remote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from helpers import validate_sarif, write
from linter.cli import main
from linter.report.dashboard import build

CALLS = """import requests


def one(url):
    return requests.get(url{one})


def two(url):
    return requests.get(url{two})
"""
SUPPRESSED = "  # pitfall: ignore[TMO101] false-positive: the session sets a timeout"
OTHER = """import requests


def three(url):
    return requests.get(url){comment}
"""


def git(root: Path, *args: str, date: str | None = None) -> str:
    env = {
        **os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    if date is not None:
        env["GIT_COMMITTER_DATE"] = env["GIT_AUTHOR_DATE"] = date
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True).stdout.strip()


def check_sarif(root: Path, out: Path, *args: str) -> dict:
    """`pitfall check --format sarif -o out` in ``root``; the log, valid against the SARIF schema."""
    here = Path.cwd()
    os.chdir(root)
    try:
        main(["check", "--format", "sarif", "-o", str(out), *args, "."])
    finally:
        os.chdir(here)
    doc = json.loads(out.read_text(encoding="utf-8"))
    validate_sarif(doc)
    return doc


def commit(root: Path, files: dict[str, str], message: str, date: str = "2026-03-01T10:00:00Z") -> str:
    write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message, date=date)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def logs(tmp_path_factory) -> dict:
    """svc: three commits (two findings fixed one after the other, one suppressed as a false
    positive in the second); web: one commit, a remote with credentials in its URL."""
    if shutil.which("git") is None:
        pytest.fail("git is needed to build the test repositories")
    base = tmp_path_factory.mktemp("dash")
    svc = base / "svc"
    svc.mkdir()
    git(svc, "init", "-q")
    out = base / "logs"
    out.mkdir()
    commits = [
        commit(svc, {"a.py": CALLS.format(one="", two=""), "b.py": OTHER.format(comment="")}, "1"),
    ]
    check_sarif(svc, out / "svc-1.sarif")
    commits.append(commit(svc, {"a.py": CALLS.format(one=", timeout=5", two=""), "b.py": OTHER.format(comment=SUPPRESSED)}, "2", "2026-03-02T10:00:00Z"))
    check_sarif(svc, out / "svc-2.sarif")
    git(svc, "gc", "-q")  # the first commits packed: their times are read from the pack
    commits.append(commit(svc, {"a.py": CALLS.format(one=", timeout=5", two=", timeout=5")}, "3", "2026-03-05T10:00:00Z"))
    check_sarif(svc, out / "svc-3.sarif")
    web = base / "web"
    web.mkdir()
    git(web, "init", "-q")
    git(web, "remote", "add", "origin", "https://ci-user:s3cret-token@git.example.com/team/web.git")
    web_commit = commit(web, {"app.py": OTHER.format(comment="")}, "1")
    check_sarif(web, out / "web.sarif")
    plain = base / "plain"  # not a Git repository
    write(plain, {"app.py": OTHER.format(comment=SUPPRESSED.replace("false-positive", "accepted"))})
    check_sarif(plain, out / "plain.sarif")
    return {"dir": out, "svc": svc, "commits": commits, "web_commit": web_commit, "plain": plain}


def paths(logs: dict, *names: str) -> list[Path]:
    return [logs["dir"] / f"{n}.sarif" for n in names]


# --------------------------------------------------------------------------- the SARIF logs


def test_sarif_records_commit_and_repository_without_credentials(logs):
    web = json.loads((logs["dir"] / "web.sarif").read_text())
    assert web["runs"][0]["versionControlProvenance"] == [
        {"repositoryUri": "https://git.example.com/team/web.git", "revisionId": logs["web_commit"], "asOfTimeUtc": "2026-03-01T10:00:00Z"}
    ]
    assert "s3cret" not in (logs["dir"] / "web.sarif").read_text() and "ci-user" not in (logs["dir"] / "web.sarif").read_text()
    svc = json.loads((logs["dir"] / "svc-2.sarif").read_text())
    assert svc["runs"][0]["versionControlProvenance"] == [
        {"repositoryUri": logs["svc"].resolve().as_uri(), "revisionId": logs["commits"][1], "asOfTimeUtc": "2026-03-02T10:00:00Z"}
    ]
    assert "versionControlProvenance" not in json.loads((logs["dir"] / "plain.sarif").read_text())["runs"][0]


def test_scp_like_remote_becomes_an_ssh_uri(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", "git@git.example.com:team/my api.git")
    commit(tmp_path, {"app.py": OTHER.format(comment="")}, "1")
    doc = check_sarif(tmp_path, tmp_path / "out.sarif")
    assert doc["runs"][0]["versionControlProvenance"][0]["repositoryUri"] == "ssh://git.example.com/team/my%20api.git"


# --------------------------------------------------------------------------- the model


def test_history_of_one_repository(logs):
    board = build(paths(logs, "svc-1", "svc-2", "svc-3"))
    assert len(board.histories) == 1
    (history,) = board.histories.values()
    assert [r.commit for r in history] == logs["commits"]
    assert [r.passed for r in history] == [False, False, True]
    assert [r.pack_passed["timeouts"] for r in history] == [False, False, True]
    (row,) = board.by_rule
    assert row.key == "TMO101" and row.pack == "timeouts"
    assert row.findings == 3  # one() and two() in a.py, three() in b.py
    assert row.fixed == 2
    assert sorted(row.runs_to_fix) == [1, 2]  # one() fixed in the next run, two() a run later
    assert row.median_runs_to_fix == 1.5
    assert row.states["false-positive"] == 1
    assert row.false_positive_rate == pytest.approx(1 / 3)
    assert row.suppression_rate == pytest.approx(1 / 3)
    assert row.open_now == 0
    assert row.median_time_to_fix == timedelta(days=2, hours=12)  # fixed a day and four days after
    (pack,) = board.by_pack
    assert pack.key.startswith("timeouts ") and pack.fixed == 2 and pack.false_positive_rate == pytest.approx(1 / 3)


def test_runs_without_times_keep_the_order_given(logs, tmp_path):
    given = []
    for name in ("svc-3", "svc-1", "svc-2"):
        doc = json.loads((logs["dir"] / f"{name}.sarif").read_text())
        del doc["runs"][0]["versionControlProvenance"][0]["asOfTimeUtc"]
        (tmp_path / f"{name}.sarif").write_text(json.dumps(doc))
        given.append(tmp_path / f"{name}.sarif")
    board = build(given)
    (history,) = board.histories.values()
    assert [r.commit for r in history] == [logs["commits"][2], logs["commits"][0], logs["commits"][1]]


def test_commit_times_order_a_repositorys_runs(logs):
    svc = [json.loads((logs["dir"] / f"svc-{n}.sarif").read_text())["runs"][0]["versionControlProvenance"][0] for n in (1, 2, 3)]
    assert [p["asOfTimeUtc"] for p in svc] == ["2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-05T10:00:00Z"]
    board = build(paths(logs, "svc-3", "svc-1", "svc-2"))  # not in commit order
    (history,) = board.histories.values()
    assert [r.commit for r in history] == logs["commits"]
    (row,) = board.by_rule
    assert sorted(row.time_to_fix) == [timedelta(days=1), timedelta(days=4)]


def test_recorded_times_order_the_runs_and_give_time_to_fix(logs, tmp_path):
    stamps = {"svc-1": "2026-03-01T10:00:00Z", "svc-2": "2026-03-03T10:00:00.123456789Z", "svc-3": "2026-03-08T10:00:00Z"}
    given = []
    for name in ("svc-3", "svc-1", "svc-2"):  # not in time order
        doc = json.loads((logs["dir"] / f"{name}.sarif").read_text())
        doc["runs"][0]["invocations"][0]["endTimeUtc"] = stamps[name]
        validate_sarif(doc)
        (tmp_path / f"{name}.sarif").write_text(json.dumps(doc))
        given.append(tmp_path / f"{name}.sarif")
    board = build(given)
    (history,) = board.histories.values()
    assert [r.commit for r in history] == logs["commits"]
    (row,) = board.by_rule
    assert sorted(row.time_to_fix) == [timedelta(days=2, microseconds=123456), timedelta(days=7)]


def test_latest_logs_of_many_repositories(logs):
    board = build(paths(logs, "web", "svc-3", "plain"))
    assert set(board.histories) == {"https://git.example.com/team/web", logs["svc"].resolve().as_uri(), logs["plain"].resolve().as_uri()}
    assert board.latest("https://git.example.com/team/web").passed is False
    assert board.latest(logs["svc"].resolve().as_uri()).passed is True
    assert board.latest(logs["plain"].resolve().as_uri()).passed is True  # its one finding is suppressed (accepted)
    (row,) = board.by_rule
    assert row.findings == 3 and row.open_now == 1 and row.repositories == set(board.histories)
    assert row.states == {"open": 1, "false-positive": 1, "accepted": 1}
    assert row.fixed == 0  # one run each: nothing is known to be gone


def test_a_finding_whose_rule_did_not_run_is_not_fixed(logs, tmp_path):
    check_sarif(logs["svc"], tmp_path / "no-tmo.sarif", "--ignore", "TMO101")
    board = build([logs["dir"] / "svc-1.sarif", tmp_path / "no-tmo.sarif"])
    (row,) = board.by_rule
    assert row.findings == 3 and row.fixed == 0


def test_runs_merged_into_one_log_are_grouped_by_repository(logs, tmp_path):
    web = json.loads((logs["dir"] / "web.sarif").read_text())
    for name in ("svc-1", "svc-2"):
        web["runs"].append(json.loads((logs["dir"] / f"{name}.sarif").read_text())["runs"][0])
    validate_sarif(web)
    (tmp_path / "all.sarif").write_text(json.dumps(web))
    board = build([tmp_path / "all.sarif"])
    assert {repo: len(runs) for repo, runs in board.histories.items()} == {
        "https://git.example.com/team/web": 1, logs["svc"].resolve().as_uri(): 2,
    }
    row = next(r for r in board.by_rule if r.key == "TMO101")
    assert row.fixed == 1  # one() in svc, between its two runs


# --------------------------------------------------------------------------- the page


class _Loads(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.loads: list[tuple[str, str]] = []
        self.scripts = 0
        self.plots = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "data"):
            if a.get(key):
                self.loads.append((tag, a[key]))
        if tag == "script" and a.get("type") != "application/json":
            self.scripts += 1
        if tag == "div" and "plot" in (a.get("class") or "").split():
            self.plots += 1


def report(tmp_path, capsys, *logs: Path) -> tuple[int, str, Path]:
    out = tmp_path / "dashboard.html"
    code = main(["report", "--html", str(out), *map(str, logs)])
    return code, capsys.readouterr().err, out


def test_page_is_self_contained(logs, tmp_path, capsys):
    code, err, out = report(tmp_path, capsys, *paths(logs, "svc-1", "svc-2", "svc-3", "web", "plain"))
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    parsed = _Loads()
    parsed.feed(page)
    assert parsed.loads == []  # no script, style, image or link loaded from anywhere
    assert "<link" not in page
    assert page.count("plotly.js v") == 1  # plotly's bundle, inlined once
    assert parsed.plots >= 6  # overview, per rule (2), the history of svc (3)
    assert "TMO101" in page and "https://git.example.com/team/web" in page and "s3cret" not in page
    assert "false-positive rate" in page and "median time to fix" in page


def test_text_from_the_logs_cannot_break_out_of_the_page(logs, tmp_path, capsys):
    doc = json.loads((logs["dir"] / "web.sarif").read_text())
    evil = "https://x.example/</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    doc["runs"][0]["versionControlProvenance"][0]["repositoryUri"] = evil
    doc["runs"][0]["results"][0]["ruleId"] = "</script><b>X"
    (tmp_path / "evil.sarif").write_text(json.dumps(doc))
    code, err, out = report(tmp_path, capsys, tmp_path / "evil.sarif", logs["dir"] / "svc-1.sarif", logs["dir"] / "svc-2.sarif")
    assert code == 0, err
    page = out.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<img src=x" not in page and "</script><b>" not in page
    parsed = _Loads()
    parsed.feed(page)
    assert parsed.loads == []


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def test_plots_render_in_a_browser(logs, tmp_path, capsys):
    browser = _browser()
    if browser is None:
        if os.environ.get("PITFALL_REQUIRE_BROWSER"):
            pytest.fail("PITFALL_REQUIRE_BROWSER is set but no chromium (or chromium-browser) is on PATH")
        pytest.skip("no headless browser: install chromium (apt-get install chromium) to check that the plots render")
    code, err, out = report(tmp_path, capsys, *paths(logs, "svc-1", "svc-2", "svc-3", "web"))
    assert code == 0, err
    parsed = _Loads()
    parsed.feed(out.read_text(encoding="utf-8"))
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--virtual-time-budget=15000", "--dump-dom", out.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert "</html>" in dom, "the browser printed no page"
    # plotly draws an <svg class="main-svg"> (two, a figure) only when its script runs
    rendered = dom.count('class="main-svg"')
    assert rendered >= 2 * parsed.plots, f"{rendered} plot layers for {parsed.plots} plots"
    assert "TMO101" in dom


# --------------------------------------------------------------------------- user errors


def error(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip()


def test_without_plotly_the_error_says_what_to_install(logs, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    code, err = error(capsys, "report", "--html", str(tmp_path / "x.html"), str(logs["dir"] / "svc-1.sarif"))
    assert code == 2
    assert "pip install 'pitfall-lint[dashboard]'" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        (b"{not json", "invalid JSON"),
        (b'[{"runs": []}]', "no `runs` list"),
        (b'{"version": "2.1.0", "runs": {}}', "no `runs` list"),
        (b'{"runs": [{"results": 3}]}', "results is not a list"),
        (b'{"runs": [{"results": ["x"]}]}', "results[0] is not an object"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b'{"runs": [{"invocations": [{"endTimeUtc": "yesterday"}]}]}', "is not a date-time"),
    ],
)
def test_bad_logs_exit_2_naming_the_file(tmp_path, capsys, content, cause):
    bad = tmp_path / "bad.sarif"
    bad.write_bytes(content)
    code, err = error(capsys, "report", "--html", str(tmp_path / "x.html"), str(bad))
    assert code == 2
    assert len(err.splitlines()) == 1 and str(bad) in err and cause in err
    assert not (tmp_path / "x.html").exists()


def test_missing_log_and_folder_as_log(logs, tmp_path, capsys):
    code, err = error(capsys, "report", "--html", str(tmp_path / "x.html"), str(tmp_path / "nope.sarif"))
    assert code == 2 and "nope.sarif: no such file" in err
    code, err = error(capsys, "report", "--html", str(tmp_path / "x.html"), str(tmp_path))
    assert code == 2 and f"{tmp_path}: is a folder" in err


def test_output_that_is_a_folder_or_in_no_folder(logs, tmp_path, capsys):
    log = str(logs["dir"] / "svc-1.sarif")
    code, err = error(capsys, "report", "--html", str(tmp_path), log)
    assert code == 2 and err.startswith("pitfall: error: --html:") and "is a folder" in err
    code, err = error(capsys, "report", "--html", str(tmp_path / "missing" / "x.html"), log)
    assert code == 2 and "does not exist" in err


def test_html_is_required(logs, capsys):
    code = main(["report", str(logs["dir"] / "svc-1.sarif")])
    assert code == 2 and "--html" in capsys.readouterr().err
