"""Progress on a long run: a "files done / total" bar on stderr when stderr is a terminal, and
never in CI, on a pipe or for a short run; the report on stdout is the same either way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write

from linter.core import engine
from linter.cli import PROGRESS_MIN_UNITS
from linter.core.config import load_settings
from linter.core.discover import discover

FILES = PROGRESS_MIN_UNITS + 10
FUNCTIONS = 10  # a file's findings: enough work that the run outlasts tqdm's first refresh (0.1 s)
BAR = re.compile(rb"\b[1-9]\d*/%d\b" % FILES)  # tqdm's "done/total", once some files are done
CHECKOUT = str(Path(engine.__file__).parents[1])


def _project(root: Path, count: int) -> Path:
    body = "import requests\n" + "".join(f"\n\ndef get{j}(url):\n    return requests.get(url)\n" for j in range(FUNCTIONS))
    write(root, {f"svc/m{i:03}.py": body for i in range(count)})
    return root


@pytest.fixture
def many(tmp_path: Path) -> Path:
    return _project(tmp_path / "work", FILES)


def _env(cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "FORCE_COLOR")}
    env["TERM"] = "xterm"
    env["PITFALL_CACHE_DIR"] = str(cwd.parent / "cache")  # the test's own results cache, empty at first
    env["PYTHONPATH"] = os.pathsep.join([CHECKOUT, env.get("PYTHONPATH", "")])  # this checkout's linter
    env.update(extra)
    return env


def check(cwd: Path, *args: str, tty: bool, **env: str) -> tuple[int, bytes, bytes]:
    """``pitfall check`` with stdout on a pipe and stderr on a pseudo-terminal (``tty``) or a pipe."""
    cmd = [sys.executable, "-m", "linter", "check", *args]
    if not tty:
        proc = subprocess.run(cmd, cwd=cwd, env=_env(cwd, **env), capture_output=True, timeout=300, check=False)
        return proc.returncode, proc.stdout, proc.stderr
    import fcntl
    import pty
    import struct
    import termios

    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal has a size
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=_env(cwd, **env), stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
        assert proc.stdout is not None
        out = proc.stdout.read()
        proc.stdout.close()
        code = proc.wait(timeout=300)
    finally:
        if secondary != -1:
            os.close(secondary)
        os.close(primary)
    return code, out, b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
@pytest.mark.parametrize("jobs", ["1", "2"])  # in this process, and in the pool where there are 2 cores
def test_progress_on_a_terminal_only_and_the_report_unchanged(many, jobs):
    code, out, err = check(many, "--jobs", jobs, tty=True)  # the first run: every file is linted
    assert code == 1
    assert BAR.search(err) and b"file" in err, err
    assert b"Traceback" not in err
    # the bar erases itself: nothing of it is left on the last line of the terminal
    assert not err.rstrip(b"\r\n").split(b"\r")[-1].strip(), err[-300:]

    piped_code, piped, piped_err = check(many, "--jobs", jobs, tty=False)
    assert piped_code == 1
    assert not BAR.search(piped_err) and b"\r" not in piped_err, piped_err
    ci_code, ci_out, ci_err = check(many, "--jobs", jobs, tty=True, CI="true")
    assert ci_code == 1
    assert not BAR.search(ci_err) and b"\r" not in ci_err, ci_err

    assert out == piped == ci_out
    assert out.count(b" TMO101 ") == FILES * FUNCTIONS


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_no_progress_for_a_short_run(tmp_path):
    work = _project(tmp_path / "work", PROGRESS_MIN_UNITS)
    code, out, err = check(work, tty=True)
    assert code == 1 and out.count(b" TMO101 ") == PROGRESS_MIN_UNITS * FUNCTIONS
    assert b"/%d" % PROGRESS_MIN_UNITS not in err and b"\r" not in err, err  # not even "0/50"


@pytest.mark.parametrize("jobs", [1, 2])
def test_engine_reports_every_unit_as_it_completes(many, jobs):
    settings = load_settings(cwd=many)
    units, missing = discover(["svc"], settings, cwd=many)
    assert len(units) == FILES and not missing
    if jobs > 1 and not engine._pooled(units, engine._pool_size(jobs, units)):
        pytest.skip("one core: no process pool")
    calls: list[int] = []
    results = engine.run(units, engine.build_ruleset(settings, project_root=many), jobs=jobs, progress=calls.append)
    assert sum(calls) == len(results) == FILES
    assert len(calls) > 1 and all(n > 0 for n in calls)  # as units complete, not once at the end
    assert sum(len(r.findings) for r in results) == FILES * FUNCTIONS
