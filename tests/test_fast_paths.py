"""The Python analyzer's fast paths change no output: the command line gives the same JSON,
byte for byte, with them (the default) and with ``PITFALL_NO_FAST_PATHS=1`` (every file parsed
and walked by libcst's own batched visitor and positioned by its ``PositionProvider``, no text
pre-filter, no blanking; the signature index parses every file), on every Python rule example
and on the standard library of the running interpreter.

A visitor whose ``TRIGGERS``/``TRIGGER_REGEX``/``CHUNK_REGEX``/``LOCAL`` flags promise more than
it keeps loses findings on the fast path only: this is the test that notices.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from linter.core.packs import load_packs
from linter.core.testing import DEFAULT_PATH, iter_example_cases

#: the part of the standard library both passes read (all of it takes the plain pass minutes on
#: two cores): the top-level modules, and the packages that hold findings or stress the analyzer
#: (`pydoc_data/topics.py`: one expression of thousands of joined strings)
STDLIB_PACKAGES = ("asyncio", "concurrent", "email", "http", "json", "logging", "pydoc_data", "urllib", "xmlrpc")


def _both(root: Path, out: Path) -> bytes:
    """The JSON report of ``pitfall check . --select ALL`` in ``root``, asserted the same
    with and without the fast paths."""
    reports = []
    for plain in (False, True):
        env = {k: v for k, v in os.environ.items() if k != "PITFALL_NO_FAST_PATHS"}
        if plain:
            env["PITFALL_NO_FAST_PATHS"] = "1"
        target = out / f"{root.name}.{'plain' if plain else 'fast'}.json"
        done = subprocess.run(
            [sys.executable, "-m", "linter", "check", ".", "--select", "ALL", "--no-cache", "--format", "json", "--exit-zero", "--output", str(target)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        reports.append(target.read_bytes())
    fast, plain_report = reports
    if fast != plain_report:  # name the findings that differ, not two walls of JSON
        a, b = (json.loads(r) for r in reports)
        key = lambda f: json.dumps(f, sort_keys=True)  # noqa: E731
        only_fast = sorted({key(f) for f in a["findings"]} - {key(f) for f in b["findings"]})
        only_plain = sorted({key(f) for f in b["findings"]} - {key(f) for f in a["findings"]})
        raise AssertionError(f"fast paths only: {only_fast[:5]}\nplain only: {only_plain[:5]}\nnotifications: {a['notifications']} / {b['notifications']}")
    return fast


def test_rule_examples_give_the_same_report(tmp_path):
    root = tmp_path / "examples"
    root.mkdir()
    packs = load_packs()
    # every pack applies: the tree declares what their `applies-to` asks for
    (root / "requirements.txt").write_text("".join(f"{spec}\n" for pack in packs for spec in pack.applies_to), encoding="utf-8")
    expected: set[str] = set()
    for case in iter_example_cases(packs):
        if case.rule.target != "python":
            continue
        folder = root / case.id
        for name, content in case.example.files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(content, encoding="utf-8")
        target = folder / (case.example.path or DEFAULT_PATH["python"])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(case.example.code, encoding="utf-8")
        if not case.valid and not case.example.config:
            expected.add(case.rule.id)
    report = json.loads(_both(root, tmp_path))
    found = {f["code"] for f in report["findings"]}
    # the tree was analysed (not skipped as a whole): most rules fire on their invalid examples
    assert len(found & expected) >= 0.8 * len(expected), sorted(expected - found)


def test_standard_library_gives_the_same_report(tmp_path):
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    root = tmp_path / "stdlib"
    root.mkdir()
    for module in sorted(stdlib.glob("*.py")):
        shutil.copy2(module, root / module.name)
    for package in STDLIB_PACKAGES:
        if (stdlib / package).is_dir():
            shutil.copytree(stdlib / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    report = json.loads(_both(root, tmp_path))
    assert report["findings"], "the standard library holds findings (asyncio, logging, urllib, xmlrpc)"
