"""The chart rules' `chart` block through the CLI: `helm-lint` levels and `must-ship` files in a
pack of the user's (no Python, so no --trust-pack-code), and bad values stopping the run with
the file, line and key."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from helpers import run, write

PACK = "name: local\nprefix: LOC\nversion: 0.1.0\ndescription: Local chart checks.\n"
CHART = "apiVersion: v2\nname: web\nversion: 0.1.0\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"


def _rule(rid: str, name: str, block: str, message: str, *, target: str = "chart", valid: str | None = None, invalid: str | None = None) -> str:
    valid = valid or (
        "    - code: \"# web\\n\"\n      path: chart/README.md\n      files:\n"
        "        chart/Chart.yaml: \"apiVersion: v2\\nname: chart\\nversion: 0.1.0\\nicon: https://example.com/i.png\\n\"\n"
        "        chart/templates/cm.yaml: \"apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: x\\n\"\n"
    )
    invalid = invalid or "    - code: \"apiVersion: v2  # error\\nname: chart\\nversion: 0.1.0\\n\"\n      path: chart/Chart.yaml\n"
    return (
        f"id: {rid}\nname: {name}\ntarget: {target}\nseverity: warning\narea: config\nsummary: S.\nrationale: R.\n"
        f"message: \"{message}\"\n{block}examples:\n  valid:\n{valid}  invalid:\n{invalid}"
    )


def _examples_pass(proj: Path, capsys: pytest.CaptureFixture[str]) -> bool:
    (proj / ".pitfall.toml").unlink()  # the pack is named on the command line instead
    code, out, err = run(capsys, "rules", "test", "packs/local")
    return code == 0 and " 0 failed" in out + err


@pytest.fixture
def proj(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"packs/local/pack.yaml": PACK, ".pitfall.toml": 'packs = ["packs"]\n'})
    return tmp_path


def _findings(capsys: pytest.CaptureFixture[str], *args: str) -> list[tuple[str, int, str, str, str]]:
    code, out, err = run(capsys, "check", "--format", "json", "--no-cache", "--helm-profiles", "defaults", "--select", "LOC", *args)
    assert code in (0, 1), err
    return sorted(
        (f["filename"], f["location"]["row"], f["code"], f["severity"], f["message"])
        for f in json.loads(out)["findings"]
    )


def test_must_ship_takes_any_of_its_alternatives_and_reports_on_chart_yaml(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(proj, {
        "packs/local/LOC201-chart-without-readme.yaml": _rule(
            "LOC201", "chart-without-readme", "chart:\n  must-ship: [README.md, docs/README]\n", "chart `{chart}` ships no {file}"),
        "web/Chart.yaml": CHART, "web/templates/cm.yaml": CM,
        "api/Chart.yaml": CHART.replace("web", "api"), "api/templates/cm.yaml": CM, "api/docs/README": "api\n",
        "db/Chart.yaml": CHART.replace("web", "db"), "db/templates/cm.yaml": CM, "db/README.md/keep": "a folder, not a file\n",
    })
    got = [(path, line, code, message) for path, line, code, _, message in _findings(capsys)]
    assert got == [
        ("db/Chart.yaml", 1, "LOC201", "chart `db` ships no README.md"),
        ("web/Chart.yaml", 1, "LOC201", "chart `web` ships no README.md"),
    ]
    # the pack names no Python: its examples run without --trust-pack-code
    assert _examples_pass(proj, capsys)


def test_must_ship_does_not_look_into_a_packaged_chart(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(proj, {
        "packs/local/LOC201-chart-without-readme.yaml": _rule(
            "LOC201", "chart-without-readme", "chart:\n  must-ship: README.md\n", "chart `{chart}` ships no {file}"),
        "src/web/Chart.yaml": CHART, "src/web/templates/cm.yaml": CM,
    })
    with tarfile.open(proj / "web-0.1.0.tgz", "w:gz") as tar:
        tar.add(proj / "src/web", arcname="web")
    assert _findings(capsys, "web-0.1.0.tgz") == []
    assert [f[0] for f in _findings(capsys, "src")] == ["src/web/Chart.yaml"]


def test_helm_lint_reports_only_the_levels_it_names_at_their_severity(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(proj, {
        "packs/local/LOC202-helm-lint-info.yaml": _rule(
            "LOC202", "helm-lint-info", "chart:\n  helm-lint: [info]\n", "{level}: {message}",
            invalid="    - code: \"apiVersion: v2  # error\\nname: chart\\nversion: 0.1.0\\n\"\n      path: chart/Chart.yaml\n"
            "      files:\n        chart/templates/cm.yaml: \"apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: x\\n\"\n"),
        "packs/local/LOC203-helm-lint-warning.yaml": _rule(
            "LOC203", "helm-lint-warning", "chart:\n  helm-lint: [warning]\n", "{level}: {message}",
            invalid="    - code: \"apiVersion: v2  # error\\nname: chart\\nversion: 0.1.0\\ndependencies:\\n  - name: sub\\n"
            "    version: 0.1.0\\n    repository: https://charts.example.com\\n\"\n      path: chart/Chart.yaml\n"),
        # no icon (an INFO of Helm's lint) and a dependency that is not there (a WARNING)
        "web/Chart.yaml": CHART + "dependencies:\n  - name: sub\n    version: 0.1.0\n    repository: https://charts.example.com\n",
        "web/values.yaml": "{}\n", "web/templates/cm.yaml": CM,
    })
    got = [f for f in _findings(capsys, "web") if f[2] in ("LOC202", "LOC203")]
    assert got == [
        ("web/Chart.yaml", 1, "LOC202", "note", "info: icon is recommended"),
        ("web/Chart.yaml", 1, "LOC203", "warning", "warning: chart directory is missing these dependencies: sub"),
    ]
    assert _examples_pass(proj, capsys)


@pytest.mark.parametrize(("rule", "line", "key"), [
    ("chart:\n  helm-lint: [fatal]\n", 10, "chart.helm-lint.0"),
    ("chart:\n  helm-lint: []\n", 10, "chart.helm-lint"),
    ("chart:\n  must-ship: ../values.yaml\n", 10, "chart.must-ship"),
    ("chart:\n  must-ship: /etc/passwd\n", 10, "chart.must-ship"),
    ("chart:\n  must-ship: README.md\n  helm-lint: [error]\n", 9, "chart"),
    ("chart:\n  ships: README.md\n", 10, "chart.ships"),
    ("chart: {}\n", 9, "chart"),
])
def test_a_bad_chart_block_stops_the_run_naming_file_line_and_key(proj: Path, capsys: pytest.CaptureFixture[str], rule: str, line: int, key: str) -> None:
    write(proj, {"packs/local/LOC201-bad.yaml": _rule("LOC201", "bad", rule, "m"), "web/Chart.yaml": CHART})
    code, _, err = run(capsys, "check", "web")
    assert code == 2
    assert f"packs/local/LOC201-bad.yaml:{line}" in err and f"(key `{key}`)" in err, err
    assert "Traceback" not in err


def test_a_chart_block_belongs_to_chart_rules_only(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    block = "kinds: [Pod]\nmust: {required: [spec]}\nchart:\n  must-ship: README.md\n"
    write(proj, {"packs/local/LOC201-bad.yaml": _rule("LOC201", "bad", block, "m", target="kubernetes"), "web/Chart.yaml": CHART})
    code, _, err = run(capsys, "check", "web")
    assert code == 2 and "packs/local/LOC201-bad.yaml" in err and "Traceback" not in err


def test_directives_in_chart_files_silence_chart_rules_and_unused_ones_are_reported(proj: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(proj, {
        "packs/local/LOC201-chart-without-readme.yaml": _rule(
            "LOC201", "chart-without-readme", "chart:\n  must-ship: README.md\n", "chart `{chart}` ships no {file}"),
        "web/Chart.yaml": "apiVersion: v2  # pitfall: ignore[LOC201] the docs live in the repository\n"
        "name: web\nversion: 0.1.0\n",
        "web/templates/cm.yaml": CM,
        # a directive on a line with no finding silences nothing
        "api/Chart.yaml": "apiVersion: v2\nname: api  # pitfall: ignore[LOC201]\nversion: 0.1.0\n", "api/templates/cm.yaml": CM,
    })
    code, out, err = run(capsys, "check", "--format", "json", "--no-cache", "--helm-profiles", "defaults", "--select", "LOC", "--extend-select", "LNT003")
    got = sorted((f["filename"], f["location"]["row"], f["code"], f["suppression"] is not None) for f in json.loads(out)["findings"])
    assert got == [("api/Chart.yaml", 1, "LOC201", False), ("api/Chart.yaml", 2, "LNT003", False), ("web/Chart.yaml", 1, "LOC201", True)]
