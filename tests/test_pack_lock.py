"""`pitfall packs lock`: with a lock present, a run with other packs is refused."""

from __future__ import annotations

import json

from helpers import run, write

PACK = "name: local\nprefix: LOC\nversion: 0.1.0\ndescription: Local checks.\n"
RULE = (
    "id: LOC101\nname: sleepy\ntarget: python\nseverity: warning\narea: timeout\nsummary: S.\nrationale: R.\nmessage: m\n"
    "match:\n  - call: [time.sleep]\n"
    'examples:\n  valid: ["import time\\n"]\n  invalid: ["import time\\ntime.sleep(1)  # error\\n"]\n'
)


def test_a_lock_pins_versions_and_content(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"packs/local/pack.yaml": PACK, "packs/local/LOC101-sleepy.yaml": RULE, ".pitfall.toml": 'packs = ["packs"]\n', "app.py": "x = 1\n"})
    code, out, _ = run(capsys, "packs", "lock")
    assert code == 0 and "pitfall-packs.lock" in out
    lock = json.loads((tmp_path / "pitfall-packs.lock").read_text())
    assert {"name": "local", "version": "0.1.0", "origin": "folder"}.items() <= next(p for p in lock["packs"] if p["name"] == "local").items()
    assert run(capsys, "check")[0] == 0
    write(tmp_path, {"packs/local/LOC101-sleepy.yaml": RULE.replace("severity: warning", "severity: error")})
    code, _, err = run(capsys, "check")
    assert code == 2 and "local 0.1.0 differs from the locked content" in err
    write(tmp_path, {"packs/local/pack.yaml": PACK.replace("0.1.0", "0.2.0")})
    code, _, err = run(capsys, "check")
    assert code == 2 and "local is 0.2.0, locked at 0.1.0" in err
    assert run(capsys, "packs", "lock")[0] == 0 and run(capsys, "check")[0] == 0
    write(tmp_path, {"pitfall-packs.lock": "{"})
    code, _, err = run(capsys, "check")
    assert code == 2 and "pitfall-packs.lock" in err and "Traceback" not in err
