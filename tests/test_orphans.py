"""No orphan, and a time budget per unit (issue 14, items 3 and 4).

However pitfall ends (SIGKILL or SIGTERM of its main process), no pool worker or Helm renderer
survives it and no ``pitfall-helm-*`` temporary folder is left; a unit over ``unit-timeout``
becomes an LNT001 finding while every other unit's findings are kept.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import write

BAD = "import requests\nrequests.get('https://x')\n"

linux = pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")


# --------------------------------------------------------------------------- process helpers


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.update(int(x) for x in fh.read().split())
        except OSError:
            pass
    return out


def _descendants(pid: int) -> set[int]:
    seen: set[int] = set()
    stack = [pid]
    while stack:
        for child in _children(stack.pop()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a zombie has ended (its new parent may never reap it)


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


SLOW_TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: slow
data:
  big: "{{ range $i, $e := until 4000000 }}{{ $i }}{{ end }}"
"""

CHART = """apiVersion: v2
name: demo
version: 0.1.0
dependencies:
  - name: absent
    version: "1.0.0"
    repository: "https://charts.example.com"
"""


def _project(root: Path) -> None:
    body = "".join(f"def f{i}(url):\n    return requests.get(url)\n\n" for i in range(150))
    write(root, {f"pkg/m{i:03}.py": "import requests\n\n" + body for i in range(300)})
    write(root, {"demo/Chart.yaml": CHART, "demo/values.yaml": "a: 1\n", "demo/templates/slow.yaml": SLOW_TEMPLATE})


@linux
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_no_worker_renderer_or_temp_folder_outlives_the_run(tmp_path, sig):
    pytest.importorskip("helm_python")
    project, tmp = tmp_path / "project", tmp_path / "tmp"
    tmp.mkdir()
    _project(project)
    env = {**os.environ, "TMPDIR": str(tmp)}
    argv = [sys.executable, "-m", "linter", "check", "--jobs", "2", "--format", "json", "."]
    proc = subprocess.Popen(argv, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        main = b"\0".join(os.fsencode(a) for a in argv) + b"\0"  # forked workers have the same
        tracked: set[int] = set()
        deadline = time.monotonic() + 60
        while True:
            tracked |= _descendants(proc.pid)
            workers = [p for p in _children(proc.pid) if _cmdline(p) == main and _alive(p)]
            renderers = [p for p in tracked if b"--multiprocessing-fork" in _cmdline(p)]  # spawned: a renderer
            if len(workers) >= 2 and renderers and list(tmp.glob("pitfall-helm-*")):
                break
            assert proc.poll() is None, "the run ended before its workers and a renderer were seen"
            assert time.monotonic() < deadline, "no pool workers and renderer within 60 s"
            time.sleep(0.05)
        time.sleep(0.3)  # let the chart's render start
        tracked |= _descendants(proc.pid)
        os.kill(proc.pid, sig)
        proc.wait(timeout=15)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            left = sorted(p for p in tracked if _alive(p))
            folders = sorted(p.name for p in tmp.glob("pitfall-helm-*"))
            if not left and not folders:
                break
            time.sleep(0.1)
        assert not left, [(_cmdline(p).replace(b"\0", b" ")[:200], p) for p in left]
        assert not folders
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in tracked if "tracked" in locals() else ():
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


# --------------------------------------------------------------------------- budgets


# The scenario runs in a process of its own, as the command line runs: the budget is kept with
# SIGALRM on the main thread (and by killing a pool worker), and a test runner may run tests on
# another thread.
_SCENARIO = r"""
import json, signal, sys, time
from pathlib import Path
from linter.core import engine
from linter.core.config import from_dict
from linter.core.discover import discover

root, mode = Path(sys.argv[1]), sys.argv[2]
deaf = mode == "deaf"
settings = from_dict({"unit-timeout": 1 if mode != "hungry" else 30, "unit-memory": 64}, root=root, config_path=None)
units, _ = discover([str(root)], settings, cwd=root)
ruleset = engine.build_ruleset(settings, project_root=root)
real = engine.read_and_lint


def slow(unit, rs):
    if unit.path.endswith("slow.py") and mode == "hungry":  # 8 MiB more every 20 ms, 800 MiB in all
        held = []
        for _ in range(100):
            held.append(bytearray(8 * 1024 * 1024))
            time.sleep(0.02)
    if unit.path.endswith("slow.py"):
        if deaf:  # SIGALRM blocked, as a unit stuck in native code
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(30)
    return real(unit, rs)


engine.read_and_lint = slow
started = time.monotonic()
results = engine.run(units, ruleset, jobs=2)
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds, "found": {r.path: [[f.rule_id, f.message] for f in r.findings] for r in results}}))
"""


def _budgeted_run(tmp_path, count, *, mode="slow"):
    write(tmp_path, {**{f"ok{i:02}.py": BAD for i in range(count)}, "slow.py": BAD})
    proc = subprocess.run([sys.executable, "-c", _SCENARIO, str(tmp_path), mode], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _check(found, count, budget):
    slow = found.pop("slow.py")
    assert [rule for rule, _ in slow] == ["LNT001"]
    assert budget in slow[0][1]
    assert {path: [rule for rule, _ in fs] for path, fs in found.items()} == {f"ok{i:02}.py": ["TMO101"] for i in range(count)}


@pytest.mark.parametrize("count", [3, 40], ids=["in-process", "pool"])
def test_a_unit_over_its_budget_becomes_a_finding_and_the_rest_completes(tmp_path, count):
    out = _budgeted_run(tmp_path, count)
    assert out["seconds"] < 20
    _check(out["found"], count, "took over 1 s (unit-timeout)")


@linux
def test_a_unit_stuck_where_no_alarm_reaches_is_ended_in_its_own_process(tmp_path):
    out = _budgeted_run(tmp_path, 40, mode="deaf")
    assert out["seconds"] < 25
    _check(out["found"], 40, "took over 1 s (unit-timeout)")


@linux
@pytest.mark.parametrize("count", [3, 40], ids=["in-process", "pool"])
def test_a_unit_over_its_memory_budget_becomes_a_finding_and_the_rest_completes(tmp_path, count):
    out = _budgeted_run(tmp_path, count, mode="hungry")
    assert out["seconds"] < 15
    _check(out["found"], count, "needed over 64 MiB of memory (unit-memory)")


def test_unit_timeout_is_a_setting(tmp_path):
    from linter.core.config import load_settings

    (tmp_path / ".pitfall.toml").write_text("unit-timeout = 2.5\nunit-memory = 300\n")
    assert load_settings(cwd=tmp_path).unit_timeout == 2.5
    assert load_settings(cwd=tmp_path).unit_memory == 300
    assert load_settings(cwd=tmp_path, config_args=["unit-timeout = 0"]).unit_timeout == 0
