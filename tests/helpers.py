"""Shared test helpers: run the CLI in-process and validate SARIF against the official schema."""

from __future__ import annotations

import json
import shutil
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft4Validator, FormatChecker

from linter.cli import main

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def sarif_validator() -> Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=FormatChecker())


def validate_sarif(doc: dict) -> None:
    errors = sorted(sarif_validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def sarif(capsys, *argv: str) -> tuple[int, dict]:
    code, out, err = run(capsys, "check", "--format", "sarif", *argv)
    doc = json.loads(out)
    validate_sarif(doc)
    return code, doc


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


ROOT = Path(__file__).resolve().parent.parent
# Never copied: environments, VCS data, caches and build output.
_SKIP_NAMES = {".venv", ".git", "__pycache__", ".pytest_cache", ".mypy_cache", ".pitfall_cache", ".ruff_cache"}
_SKIP_TOP = {"dist", "build", "bench/.work"}


def copy_project(dest: Path) -> Path:
    """Copy the working tree to ``dest``, without .venv, .git, bench/.work, caches and build output."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).resolve().relative_to(ROOT).as_posix()
        skipped = set()
        for name in names:
            relname = name if rel == "." else f"{rel}/{name}"
            if name in _SKIP_NAMES or relname in _SKIP_TOP or name.endswith(".egg-info"):
                skipped.add(name)
        return skipped

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def check_both_paths(cwd: Path, *args: str) -> str:
    """``pitfall check ARGS --format json --no-cache --exit-zero`` in a new process with the fast
    paths on, then off (``PITFALL_NO_FAST_PATHS=1``): both must print the same JSON, returned."""
    import os
    import subprocess
    import sys

    reports = []
    for plain in ("", "1"):
        env = {**os.environ, "PITFALL_NO_FAST_PATHS": plain, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "linter", "check", *args, "--format", "json", "--no-cache", "--exit-zero"],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr
        reports.append(done.stdout)
    assert reports[0] == reports[1]
    return reports[0]


LOCAL_RULE = "packs/local/LOC101-local-rule.yaml"
_LOCAL_PACK = "name: local\nprefix: LOC\nversion: 0.1.0\ndescription: Local checks.\n"
_LOCAL_EXAMPLES = 'examples:\n  valid: ["x = 1\\n"]\n  invalid: ["x = 1  # error\\n"]\n'


def local_rule_project(root: Path, head: str, match: str, files: dict[str, str]) -> None:
    """A project whose configuration adds the pack ``local`` (prefix LOC), holding one rule:
    ``head`` (identity and message), then ``match`` (dedented) and examples nothing depends on;
    plus ``files``."""
    import textwrap

    write(root, {
        "packs/local/pack.yaml": _LOCAL_PACK,
        LOCAL_RULE: head + textwrap.dedent(match).strip("\n") + "\n" + _LOCAL_EXAMPLES,
        ".pitfall.toml": 'packs = ["packs"]\n',
        **files,
    })


def assert_refused(root: Path, code: int, err: str, key: str, *, on_key_line: bool = True) -> None:
    """The run stopped with exit 2 naming the local rule's file, a line and the key, with no
    traceback; ``on_key_line``: that line holds the key (its last part that is not a list
    index), which a key that is missing or a list item that is wrong as a whole cannot."""
    assert code == 2, err
    assert f"{LOCAL_RULE}:" in err and f"(key `{key}`)" in err, err
    line = int(err.split(f"{LOCAL_RULE}:", 1)[1].split(":", 1)[0].split()[0])
    if on_key_line:
        named = [part for part in key.split(".") if not part.isdigit()][-1]
        assert named in (root / LOCAL_RULE).read_text().splitlines()[line - 1]
    assert "Traceback" not in err
