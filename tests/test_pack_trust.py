"""Packs from outside pitfall (a scanned repository's configuration, --packs) never run Python
code unless the command line says so."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT, run, write

PACK = "name: local\nprefix: LOC\nversion: 0.1.0\ndescription: Local checks.\n"
HEAD = "target: python\nseverity: warning\narea: timeout\nsummary: S.\nrationale: R.\nmessage: m\n"
EXAMPLES = 'examples:\n  valid: ["import time\\n"]\n  invalid: ["import time\\ntime.sleep(1)  # error\\n"]\n'


def _repo(tmp_path, rule: str, name: str = "LOC101-sleepy") -> None:
    rid, rname = name.split("-", 1)
    write(tmp_path, {
        "packs/local/pack.yaml": PACK,
        f"packs/local/{name}.yaml": f"id: {rid}\nname: {rname}\n" + HEAD + rule + EXAMPLES,
        ".pitfall.toml": 'packs = ["packs"]\n',
        "app.py": "import time\ntime.sleep(1)\n",
        "evil.py": "import sys\nsys.exit(7)\n",
    })


def test_a_repository_pack_naming_python_code_is_refused_with_file_line_and_key(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path, "visitor: evil:Visitor\n")
    code, out, err = run(capsys, "check")
    assert code == 2
    assert "packs/local/LOC101-sleepy.yaml:9" in err and "(key `visitor`)" in err and "--trust-pack-code" in err
    assert "Traceback" not in err


def test_unless_hooks_are_refused_too_and_yaml_only_packs_still_work(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path, "match:\n  - call: [time.sleep]\n    unless: evil:veto\n")
    code, _, err = run(capsys, "check")
    assert code == 2 and "(key `match.0.unless`)" in err
    _repo(tmp_path, "match:\n  - call: [time.sleep]\n")
    code, out, _ = run(capsys, "check", "--format", "json", "--select", "LOC")
    assert code == 1 and [f["code"] for f in json.loads(out)["findings"]] == ["LOC101"]


def test_python_m_linter_in_a_hostile_repository_does_not_run_its_code(tmp_path):
    """`check: sys:exit` and a module named like a hook: neither runs, the run reports exit 2."""
    _repo(tmp_path, "check: evil:run\nkinds: [Pod]\n", name="LOC201-sleepy")
    (tmp_path / "packs/local/LOC201-sleepy.yaml").write_text(
        (tmp_path / "packs/local/LOC201-sleepy.yaml").read_text().replace("target: python", "target: kubernetes")
        .replace("import time\\ntime.sleep(1)  # error\\n", "kind: Pod  # error\\n").replace('["import time\\n"]', '["kind: Service\\n"]')
    )
    proc = subprocess.run(
        [sys.executable, "-m", "linter", "check"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "--trust-pack-code" in proc.stderr and "Traceback" not in proc.stderr


def test_the_trust_flag_lets_a_pack_use_hooks(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _repo(tmp_path, "match:\n  - call: [time.sleep]\n    unless: linter.python.evidence:unpacked\n")
    code, out, _ = run(capsys, "check", "--format", "json", "--select", "LOC", "--trust-pack-code")
    assert code == 1 and [f["code"] for f in json.loads(out)["findings"]] == ["LOC101"]
    (tmp_path / ".pitfall.toml").unlink()
    assert run(capsys, "rules", "test", "packs/local", "--trust-pack-code")[0] == 0
    assert run(capsys, "rules", "test", "packs/local")[0] == 2


def test_python_m_linter_imports_nothing_from_the_scanned_folder(tmp_path):
    # a module named like one pitfall imports lazily while it runs
    write(tmp_path, {"ipaddress.py": "raise SystemExit(9)\n", "jsonschema.py": "raise SystemExit(9)\n", "app.py": "HOST = '0.0.0.0'\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "linter", "check", "--format", "json"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(proc.stdout)["findings"] is not None


def test_an_alias_bomb_in_a_pack_rule_is_an_error_not_a_hang(tmp_path, monkeypatch, capsys):
    import time

    monkeypatch.chdir(tmp_path)
    lol = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        lol.append(f"{name}: &{name} [" + ",".join([f"*{'abcdefghi'[i]}"] * 9) + "]")
    bomb = "\n".join("  " + line for line in lol)
    write(tmp_path, {
        "packs/local/pack.yaml": PACK,
        "packs/local/LOC201-bomb.yaml": "id: LOC201\nname: bomb\ntarget: kubernetes\nseverity: warning\narea: pss\n"
        "summary: S.\nrationale: R.\nmessage: m\nkinds: [Pod]\nmust:\n  type: object\n  x-bomb:\n" + bomb + "\n"
        'examples:\n  valid: ["kind: Service\\n"]\n  invalid: ["kind: Pod  # error\\n"]\n',
        ".pitfall.toml": 'packs = ["packs"]\n',
    })
    start = time.monotonic()
    code, _, err = run(capsys, "check")
    assert code == 2 and "LOC201-bomb.yaml:" in err and "alias" in err
    assert time.monotonic() - start < 10
