"""Bad input never crashes the run and never loses a finding elsewhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import check_both_paths, run, write


BAD = "import requests\nrequests.get('https://x')\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def report(capsys, *args):
    code, out, err = run(capsys, "check", "--format", "json", *args)
    return code, json.loads(out), err


def test_each_kind_of_bad_file_is_a_named_finding_and_the_rest_goes_on(proj, capsys, monkeypatch):
    write(proj, {
        "a_syntax.py": "def f(:\n    pass\n",
        "b_nul.py": b"x = 1\n\x00\n",
        "c_latin1.py": "x = 'caf\xe9'\n".encode("latin-1"),
        "d_unreadable.py": "x = 1\n",
        "e_bad.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
        "f_huge.py": "x = 1\n" * 300_000,
        "z_good.py": BAD,
    })
    real_open = os.open

    def fake_open(path, *a, **k):  # root reads a chmod 000 file: refuse it the way a user is refused
        if str(path).endswith("d_unreadable.py"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, *a, **k)

    monkeypatch.setattr(os, "open", fake_open)
    code, doc, err = report(capsys, "--jobs", "1")
    lnt = {f["filename"]: f["message"] for f in doc["findings"] if f["code"] == "LNT001"}
    assert "syntax error" in lnt["a_syntax.py"] and lnt["a_syntax.py"].startswith("cannot parse a_syntax.py")
    assert "NUL" in lnt["b_nul.py"]
    assert "UTF-8" in lnt["c_latin1.py"]
    assert "Permission denied" in lnt["d_unreadable.py"]
    assert "e_bad.yaml" in lnt
    rows = {f["filename"]: f["location"]["row"] for f in doc["findings"] if f["code"] == "LNT001"}
    assert rows["a_syntax.py"] == 1 and rows["b_nul.py"] == 2
    assert "f_huge.py" not in lnt
    notes = " ".join(n["message"] for n in doc["notifications"])
    assert "f_huge.py: skipped" in notes and "max-file-size" in notes
    assert any(f["code"] == "TMO101" and f["filename"] == "z_good.py" for f in doc["findings"])
    assert code == 1


def test_invalid_yaml_names_line_and_column_and_other_documents_are_analysed(proj, capsys):
    write(proj, {"m.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: one}\nspec:\n  containers: [{name: a, image: b, securityContext: {privileged: true}}]\n"
        "---\nkind: : bad\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: three}\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: b}]\n"
    )})
    code, doc, _ = report(capsys, "--select", "PSA201,PSA202")
    got = sorted((f["code"], f["location"]["row"]) for f in doc["findings"])
    assert ("PSA201", 5) in got and ("PSA202", 13) in got
    lnt = [f for f in doc["findings"] if f["code"] == "LNT001"]
    assert len(lnt) == 1 and lnt[0]["location"]["row"] == 7


def test_alias_bomb_and_deep_nesting_finish_quickly(proj, capsys):
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lol.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    write(proj, {"bomb.yaml": "\n".join(lol) + "\n", "deep.yaml": "[" * 100_000 + "]" * 100_000 + "\n", "ok.py": BAD})
    start = time.monotonic()
    code, doc, _ = report(capsys)
    assert time.monotonic() - start < 10
    lnt = {f["filename"]: f["message"] for f in doc["findings"] if f["code"] == "LNT001"}
    assert "alias" in lnt["bomb.yaml"]
    assert "deep" in lnt["deep.yaml"] or "nesting" in lnt["deep.yaml"]
    assert any(f["code"] == "TMO101" for f in doc["findings"])


def test_deeply_nested_python_is_a_finding_not_a_crash(proj, capsys):
    write(proj, {"deep.py": "import requests\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n", "ok.py": BAD})
    code, doc, _ = report(capsys)
    assert any(f["code"] == "LNT001" and f["filename"] == "deep.py" for f in doc["findings"])
    assert any(f["code"] == "TMO101" and f["filename"] == "ok.py" for f in doc["findings"])


def test_duplicate_keys_are_reported(proj, capsys):
    write(proj, {"d.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"})
    code, doc, _ = report(capsys)
    lnt = [f for f in doc["findings"] if f["code"] == "LNT001"]
    assert lnt and lnt[0]["location"]["row"] == 5 and "duplicate" in lnt[0]["message"]


def test_non_kubernetes_yaml_and_templates_are_quiet(proj, capsys):
    write(proj, {
        "conf.yaml": "name: x\nitems: [1, 2]\n",
        "list.yaml": "- a\n- b\n",
        "tpl.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  {{- include \"x\" . }}\n",
    })
    code, doc, _ = report(capsys)
    assert doc["findings"] == [] and code == 0


def test_ctrl_c_exits_130_without_traceback(tmp_path):
    files = {f"m{i}.py": BAD * 300 for i in range(800)}
    write(tmp_path, files)
    proc = subprocess.Popen([sys.executable, "-m", "linter", "check", str(tmp_path), "--jobs", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    # interrupt once the run is under way: its worker processes exist
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        if children.exists() and children.read_text().split():
            break
        time.sleep(0.05)
    time.sleep(0.5)
    if proc.poll() is not None:
        pytest.fail("the run finished before Ctrl-C was sent; make the corpus larger")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err


def test_yaml_and_json_that_are_not_manifests_are_not_reported_even_when_broken(tmp_path, monkeypatch, capsys):
    from helpers import run, write

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {
        "tsconfig.json": '{\n  // comments are fine here\n  "compilerOptions": {"strict": true},\n}\n',
        ".vscode/launch.json": '{"version": "0.2.0", /* block */ "configurations": []}\n',
        ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    steps: [\n",
        "deploy/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [broken\n",
        "deploy/pod.json": '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"]\n',
    })
    code, out, err = run(capsys, "check", "--format", "json", "--select", "LNT")
    found = sorted((f["filename"], f["code"]) for f in json.loads(out)["findings"])
    assert found == [("deploy/pod.json", "LNT001"), ("deploy/pod.yaml", "LNT001")]
    assert "tsconfig" not in err and "launch.json" not in err and "ci.yml" not in err


def test_a_fifo_named_like_a_source_file_is_a_finding_not_a_hang(tmp_path, monkeypatch, capsys):
    from helpers import run, write

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"ok.py": BAD})
    for name in ("pipe.py", "pipe.yaml", "pipe.pem"):
        os.mkfifo(tmp_path / name)
    start = time.monotonic()
    code, out, err = run(capsys, "check", "--format", "json")
    assert time.monotonic() - start < 30
    found = sorted((f["filename"], f["code"]) for f in json.loads(out)["findings"])
    assert found == [("ok.py", "TMO101"), ("pipe.pem", "LNT001"), ("pipe.py", "LNT001"), ("pipe.yaml", "LNT001")]
    assert any("not a regular file (a FIFO)" in n["message"] for n in json.loads(out)["notifications"])
    code, out, _ = run(capsys, "check", "--format", "json", "pipe.py")
    assert [f["message"] for f in json.loads(out)["findings"]] == ["cannot read pipe.py: not a regular file (a FIFO)"]


def test_long_operand_chains_are_analysed_and_lose_no_other_finding(tmp_path):
    """libcst's native parser recursed past the C stack on these (a segfault of the whole run)."""
    write(tmp_path, {
        "chain.py": "import requests\nrequests.get(u)\nx = " + " and ".join(["a"] * 10_000) + "\n",
        "strings.py": "import requests\nrequests.get(u)\nx = (" + " ".join(['"a"'] * 20_000) + ")\n",
        **{f"ok{i}.py": BAD for i in range(8)},
    })
    proc = subprocess.run(
        [sys.executable, "-m", "linter", "check", "--format", "json", "--jobs", "2"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    found = sorted((f["filename"], f["code"]) for f in doc["findings"])
    assert found == sorted([("chain.py", "TMO101"), *((f"ok{i}.py", "TMO101") for i in range(8))])
    # valid Python the analyzer cannot read is a notice, not a parse error of the user's code
    assert any(n["message"].startswith("strings.py: not analysed") for n in doc["notifications"])


def test_a_unit_that_kills_its_worker_becomes_a_finding_and_no_other_is_lost(tmp_path, monkeypatch):
    from linter.core import engine
    from linter.core.config import from_dict
    from linter.core.discover import discover

    write(tmp_path, {**{f"ok{i:02}.py": BAD for i in range(40)}, "boom.py": BAD})
    settings = from_dict({}, root=tmp_path, config_path=None)
    units, _ = discover([str(tmp_path)], settings, cwd=tmp_path)
    ruleset = engine.build_ruleset(settings, project_root=tmp_path)
    real = engine.read_and_lint

    def crashing(unit, rs):
        if unit.path.endswith("boom.py"):
            import faulthandler

            faulthandler.disable()  # pytest's handler would print the deliberate crash to stderr
            os.kill(os.getpid(), signal.SIGSEGV)  # what a native parser crash does
        return real(unit, rs)

    monkeypatch.setattr(engine, "read_and_lint", crashing)
    results = engine.run(units, ruleset, jobs=2)
    by_path = {r.path: [f.rule_id for f in r.findings] for r in results}
    assert by_path.pop("boom.py") == ["LNT001"]
    assert by_path == {f"ok{i:02}.py": ["TMO101"] for i in range(40)}
    crashed = next(r for r in results if r.path == "boom.py").findings[0]
    assert "crashed" in crashed.message and "-11" in crashed.message


def test_python_m_never_imports_modules_of_the_scanned_repository(tmp_path):
    # `python -m linter` run inside a repository: its `yaml.py` or `libcst/` must not stand in
    # for pitfall's own dependencies (that would run the repository's code)
    marker = tmp_path / "imported"
    write(tmp_path, {
        "yaml.py": f"open({str(marker)!r}, 'w').close()\n",
        "libcst/__init__.py": f"open({str(marker)!r}, 'w').close()\n",
        "app.py": BAD,
    })
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "linter", "check", ".", "--format", "json", "--no-cache"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env,
    )
    assert proc.returncode == 1, proc.stderr
    assert {f["code"] for f in json.loads(proc.stdout)["findings"]} == {"TMO101"}
    assert not marker.exists()


def test_json_data_files_report_what_loading_them_reports(tmp_path):
    # a large lock file is not loaded at all (no object and no problem can come of it); a file
    # that could give either is: the report is the same with the fast paths on and off
    lock = {
        "name": "app",
        "lockfileVersion": 3,
        "packages": {f"node_modules/p{i}": {"version": "1.0.0", "resolved": f"https://registry.example/p{i}.tgz", "dependencies": {"q": "^1"}} for i in range(2000)},
    }
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    write(tmp_path, {
        "package-lock.json": json.dumps(lock, indent=2),
        "deep.json": "[" * 600 + "]" * 600 + "\n",
        "shallow.json": "[" * 450 + "]" * 450 + "\n",
        "escaped.json": '{"\\u0061piVersion": "v1", ' + json.dumps(pod)[1:],
        "pod.json": json.dumps({"apiVersion": "v1", **pod}),
        "tsconfig.json": '// comment\n{"compilerOptions": {}}\n',
    })
    doc = json.loads(check_both_paths(tmp_path, "."))
    by_file: dict[str, set[str]] = {}
    for f in doc["findings"]:
        by_file.setdefault(f["filename"], set()).add(f["code"])
    assert by_file["deep.json"] == {"LNT001"}  # nesting past the loader's limit, manifest or not
    assert by_file["escaped.json"] == by_file["pod.json"] and "LNT001" not in by_file["pod.json"]
    assert not by_file.keys() & {"package-lock.json", "shallow.json", "tsconfig.json"}
