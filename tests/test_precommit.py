"""The pre-commit hooks, run for real: ``pre-commit try-repo`` against a committed copy of the project.

pre-commit clones the hook repository, builds the hook's virtualenv (``pip install .`` of the
project, dependencies from the package index) and runs ``pitfall check --force-exclude`` with
the staged files of a scratch repository. Note: ``try-repo`` always uses a throw-away store of
its own (pre-commit's ``commands/try_repo.py``), so every run builds the hook env again;
``PRE_COMMIT_HOME`` is still pointed at a temp dir so nothing touches the user's cache.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import copy_project  # noqa: E402

HOOK_TIMEOUT = 600  # seconds: the hook env installs the project and its dependencies

BAD = 'import requests\nrequests.get("https://example.com")\n'
GOOD = 'import requests\nrequests.get("https://example.com", timeout=5)\n'

# git/pre-commit variables that would point a child process at the wrong repository or config
_LEAKY = {
    "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV",
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_PREFIX", "GIT_CONFIG_PARAMETERS",
    "PRE_COMMIT", "PRE_COMMIT_HOME", "PRE_COMMIT_ALLOW_NO_CONFIG", "SKIP",
}
_GIT_ID = ["-c", "user.name=pitfall tests", "-c", "user.email=tests@pitfall.invalid", "-c", "commit.gpgsign=false"]




def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *_GIT_ID, *args], cwd=cwd, env=_env(), check=True, capture_output=True, timeout=120)


def _env(pre_commit_home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    if pre_commit_home is not None:
        env["PRE_COMMIT_HOME"] = str(pre_commit_home)
        env["PRE_COMMIT_COLOR"] = "never"
    return env


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, committed to a fresh git repository that pre-commit can clone."""
    repo = copy_project(tmp_path_factory.mktemp("precommit") / "hookrepo")
    assert (repo / ".pre-commit-hooks.yaml").is_file()
    _git(repo, "init", "--quiet")
    _git(repo, "add", "-A")
    _git(repo, "commit", "--quiet", "--no-verify", "-m", "pitfall under test")
    return repo


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _work_repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    _git(path, "init", "--quiet")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _git(path, "add", "-A")
    return path


def try_repo(hook_repo: Path, work: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "pitfall", "--verbose", "--color", "never", *args]
    proc = subprocess.run(cmd, cwd=work, env=_env(home), capture_output=True, text=True, timeout=HOOK_TIMEOUT, check=False)
    return proc


def _show(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


def _hook_output(proc: subprocess.CompletedProcess[str]) -> str:
    """What the hook printed (after pre-commit's `- hook id:` header), not the try-repo preamble."""
    out = proc.stdout
    start = out.find("- hook id: pitfall")
    assert start != -1, _show(proc)
    return out[start:]


def test_hook_fails_naming_only_the_bad_file(hook_repo: Path, pre_commit_home: Path, tmp_path: Path) -> None:
    work = _work_repo(tmp_path / "work", {"bad.py": BAD, "good.py": GOOD})
    proc = try_repo(hook_repo, work, pre_commit_home, "--all-files")
    assert proc.returncode != 0, _show(proc)
    assert re.search(r"^pitfall\.+Failed$", proc.stdout, re.M), _show(proc)
    hook = _hook_output(proc)
    assert re.search(r"^bad\.py:2:1: TMO101\b", hook, re.M), _show(proc)
    assert "good.py" not in proc.stdout + proc.stderr, _show(proc)
    assert "Traceback" not in proc.stdout + proc.stderr, _show(proc)
    # the hook reported without changing anything (it is the check hook, not pitfall-fix)
    assert (work / "bad.py").read_text(encoding="utf-8") == BAD


def test_hook_passes_on_good_file(hook_repo: Path, pre_commit_home: Path, tmp_path: Path) -> None:
    work = _work_repo(tmp_path / "work", {"good.py": GOOD})
    proc = try_repo(hook_repo, work, pre_commit_home, "--all-files")
    assert proc.returncode == 0, _show(proc)
    assert re.search(r"^pitfall\.+Passed$", proc.stdout, re.M), _show(proc)
    assert "TMO101" not in proc.stdout, _show(proc)


def test_hook_force_exclude_keeps_excluded_files_out(hook_repo: Path, pre_commit_home: Path, tmp_path: Path) -> None:
    work = _work_repo(
        tmp_path / "work",
        {
            ".pitfall.toml": 'extend-exclude = ["generated"]\n',
            "generated/client.py": BAD,
            "good.py": GOOD,
        },
    )
    # control: without --force-exclude a file passed explicitly is linted, config or not
    direct = subprocess.run(
        [sys.executable, "-m", "linter", "check", "generated/client.py"],
        cwd=work, env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert direct.returncode == 1 and "TMO101" in direct.stdout, _show(direct)

    # pre-commit passes generated/client.py explicitly; the hook's --force-exclude drops it
    for args in (["--all-files"], ["--files", "generated/client.py", "good.py"]):
        proc = try_repo(hook_repo, work, pre_commit_home, *args)
        assert proc.returncode == 0, _show(proc)
        assert re.search(r"^pitfall\.+Passed$", proc.stdout, re.M), _show(proc)
        assert "TMO101" not in proc.stdout, _show(proc)
        assert "generated/client.py" not in _hook_output(proc), _show(proc)
