#!/usr/bin/env python3
"""Where pitfall's time goes on one folder: per unit kind, per unit, and (for Python) per module.

    python bench/profile.py ../corpus/getsentry+sentry-python
    python bench/profile.py ../corpus/ansible+ansible --no-cprofile
    python bench/profile.py PATH --json bench/.work/profile.json

Runs in this process, one unit after the other (no worker pool), so each unit's time is its own:
the folder's settings (its own pitfall configuration, if any, else the defaults) with every rule
selected (``--select ALL``, or ``--select``), ``discover`` of the folder as ``pitfall check .``
run from inside it would, ``build_ruleset``, the rule compilation and the project index of the
run (timed as set-up phases), then ``read_and_lint`` of each unit, timed with
``time.perf_counter`` (wall) and ``time.process_time`` (CPU of this process: steady when other
work loads the machine, but a chart renders in Helm renderer processes, so for charts the wall
time is the one to read). The table groups the units by kind (python, yaml, chart, cert, path)
with the wall and CPU totals, the share of the CPU time, the mean and the slowest units.

Then, unless ``--no-cprofile``, a second pass over the Python units under ``cProfile``: self
time grouped by module (each module of the linter package on its own, other code by top-level
package: libcst, re, ...) and the top functions of the linter package by cumulative time. The
profiler slows the run down (about 2x); its figures are shares, not wall times.

Imports the ``linter`` package of the running interpreter (the development venv: run it with
/work/main/.venv/bin/python or after ``pip install -e .``).
"""

from __future__ import annotations

import os
import sys

# this file is named like the standard library's `profile`, which cProfile imports: take bench/
# (the script's folder, first on sys.path) off the path before it does
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import argparse
import cProfile
import json
import pstats
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

KIND_NAMES = {
    "python": "python",
    "yaml": "yaml (Kubernetes/YAML/JSON)",
    "chart": "chart (Helm)",
    "cert": "cert (PEM/DER/keys)",
    "path": "path (unreadable)",
}


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _module_of(filename: str, linter_dir: str, name: str = "") -> str:
    """The module a profiled function belongs to: linter modules by path, the rest by package,
    built-in functions (C code: the native parser, regular expressions) each on their own."""
    if filename.startswith(linter_dir):
        rel = os.path.relpath(filename, os.path.dirname(linter_dir))
        return rel.removesuffix(".py").replace(os.sep, ".")
    if filename == "~":
        return f"(C) {name.strip('<>').removeprefix('built-in method ')}"
    if filename.startswith("<"):
        return filename
    parts = Path(filename).parts
    for anchor in ("site-packages", "dist-packages"):
        if anchor in parts:
            i = parts.index(anchor)
            if i + 1 < len(parts):
                return parts[i + 1].removesuffix(".py")
    # the standard library: its top-level module
    return "stdlib." + Path(filename).stem if filename.endswith(".py") else filename


def _loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def _fmt(load: tuple[float, float, float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{x:.2f}" for x in load)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/profile.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("path", help="the folder to lint (a repository)")
    ap.add_argument("--select", default="ALL", help="rules to select, comma-separated (default: ALL)")
    ap.add_argument("--slowest", type=int, default=5, help="slowest units shown per kind (default: 5)")
    ap.add_argument("--top", type=int, default=20, help="functions and modules shown from the profile (default: 20)")
    ap.add_argument("--no-cprofile", action="store_true", help="skip the cProfile pass over the Python units")
    ap.add_argument("--json", metavar="FILE", help="write every unit's time and the tables to FILE")
    args = ap.parse_args(argv)

    import linter
    from linter.core import engine
    from linter.core.config import load_settings, with_cli
    from linter.core.discover import discover, named_folders

    root = Path(args.path).resolve()
    if not root.is_dir():
        ap.error(f"{root} is not a folder")
    linter_dir = os.path.dirname(os.path.abspath(linter.__file__)) + os.sep

    load_before = _loadavg()
    phases: dict[str, tuple[float, float]] = {}  # name -> (wall s, cpu s)

    class phase:
        def __init__(self, name: str) -> None:
            self.name = name

        def __enter__(self) -> None:
            self.wall, self.cpu = time.perf_counter(), time.process_time()

        def __exit__(self, *exc: object) -> None:
            phases[self.name] = (time.perf_counter() - self.wall, time.process_time() - self.cpu)

    t0 = time.perf_counter()
    with phase("settings"):
        settings = load_settings(cwd=root)
        settings = with_cli(settings, select=tuple(s.strip() for s in args.select.split(",") if s.strip()), jobs=1)
    with phase("discover"):
        units, missing = discover(["."], settings, cwd=root)
    if missing:
        print(f"missing: {missing}", file=sys.stderr)
    engine.prestart_renderers(units, settings)
    with phase("build_ruleset"):
        ruleset = engine.build_ruleset(settings)
    ruleset.named = named_folders(["."], root)
    kinds_present = {u.kind for u in units}
    with phase("compile rules"):
        if "python" in kinds_present:
            _ = ruleset.python  # compiled on first use, as engine.run does before linting
        if kinds_present & {"yaml", "chart"}:
            _ = ruleset.kubernetes
    ruleset.test_roots = engine.conftest_roots(units)

    times: list[tuple[str, str, float, float, int]] = []  # kind, path, wall s, cpu s, findings
    with engine.lint_gc():  # the collector settings of a real run
        with phase("project index"):
            if "python" in kinds_present and ruleset.python.needs_index:
                ruleset.index = engine.project_index(units, ruleset)
        with phase("lint units"):
            for unit in units:
                start, cpu = time.perf_counter(), time.process_time()
                result = engine.read_and_lint(unit, ruleset)
                times.append((unit.kind, unit.path, time.perf_counter() - start, time.process_time() - cpu, len(result.findings)))
    total_wall = time.perf_counter() - t0
    load_after = _loadavg()

    lint_total = sum(t[2] for t in times) or 1e-9
    cpu_total = sum(t[3] for t in times) or 1e-9
    by_kind: dict[str, list[tuple[str, float, float, int]]] = defaultdict(list)
    for kind, path, seconds, cpu, n in times:
        by_kind[kind].append((path, seconds, cpu, n))

    print(f"profile: {root}")
    print(f"pitfall {linter.__version__} from {linter_dir}, Python {sys.version.split()[0]}, select {args.select}, one process")
    print(f"{len(units)} units, {sum(t[4] for t in times)} findings, {total_wall:.2f} s in all; "
          f"load average {_fmt(load_before)} before, {_fmt(load_after)} after")
    print()
    print("phases (wall s / cpu s): " + ", ".join(f"{k} {w:.2f} / {c:.2f}" for k, (w, c) in phases.items()))
    print()
    rows = []
    for kind, items in sorted(by_kind.items(), key=lambda kv: -sum(it[2] for it in kv[1])):
        total = sum(it[1] for it in items)
        cpu = sum(it[2] for it in items)
        by = 1 if kind == "chart" else 2  # a chart renders in other processes: its wall time
        slow = sorted(items, key=lambda it: -it[by])[: args.slowest]
        rows.append([
            KIND_NAMES.get(kind, kind),
            str(len(items)),
            f"{total:.2f}",
            f"{cpu:.2f}",
            f"{100 * cpu / cpu_total:.1f} %",
            f"{1000 * cpu / len(items):.1f}",
            "; ".join(f"{it[0]} {it[by]:.2f}" for it in slow),
        ])
    print(_table(
        ["kind", "units", "wall s", "cpu s", "share (cpu)", "mean cpu ms", f"slowest {args.slowest} units (cpu s; charts: wall s)"],
        rows, [False, True, True, True, True, True, False],
    ))
    print("  cpu = this process's CPU time (time.process_time): steady under load, but without the Helm")
    print("  renderer processes a chart's rendering runs in; wall = elapsed time, which for charts includes them")

    doc: dict[str, object] = {
        "path": str(root),
        "version": linter.__version__,
        "select": args.select,
        "units": len(units),
        "phases": {k: {"wall_s": w, "cpu_s": c} for k, (w, c) in phases.items()},
        "wall_s": total_wall,
        "lint_wall_s": lint_total,
        "lint_cpu_s": cpu_total,
        "loadavg_before": load_before,
        "loadavg_after": load_after,
        "unit_times": [{"kind": k, "path": p, "wall_s": s, "cpu_s": c, "findings": n} for k, p, s, c, n in times],
    }

    python_units = [u for u in units if u.kind == "python"]
    if python_units and not args.no_cprofile:
        profiler = cProfile.Profile()
        with engine.lint_gc():
            profiler.enable()
            start = time.process_time()
            for unit in python_units:
                engine.read_and_lint(unit, ruleset)
            profiled = time.process_time() - start
            profiler.disable()
        stats = pstats.Stats(profiler)
        raw = stats.stats  # type: ignore[attr-defined]
        self_by_module: dict[str, float] = defaultdict(float)
        calls_total = 0.0
        for (filename, _line, name), (_cc, _nc, tottime, _cum, _callers) in raw.items():
            self_by_module[_module_of(filename, linter_dir, name)] += tottime
            calls_total += tottime
        calls_total = calls_total or 1e-9
        print()
        print(f"cProfile of the {len(python_units)} Python units: {profiled:.2f} cpu s under the profiler "
              f"({sum(t[3] for t in times if t[0] == 'python'):.2f} cpu s without)")
        print()
        mod_rows = [
            [m, f"{s:.2f}", f"{100 * s / calls_total:.1f} %"]
            for m, s in sorted(self_by_module.items(), key=lambda kv: -kv[1])[: args.top]
        ]
        print(f"self time by module (top {args.top}; checks.* are the rule checks, python the shared analysis, (C) built-in functions):")
        print(_table(["module", "self s", "share"], mod_rows, [False, True, True]))
        print("  cProfile sees the main thread only: linter.python.analyzer.parse_module runs libcst's parser on a thread")
        print("  of its own and joins it, so \"acquire of _thread.lock\" is mostly the libcst parse of the files")
        ours = [
            (key, value) for key, value in raw.items()
            if key[0].startswith(linter_dir)
        ]
        ours.sort(key=lambda kv: -kv[1][3])
        fn_rows = []
        for (filename, line, name), (cc, nc, tottime, cumtime, _callers) in ours[: args.top]:
            where = f"{_module_of(filename, linter_dir)}:{line} {name}"
            fn_rows.append([where, str(nc), f"{tottime:.2f}", f"{cumtime:.2f}", f"{100 * cumtime / calls_total:.1f} %"])
        print()
        print(f"linter functions by cumulative time (top {args.top}):")
        print(_table(["function", "calls", "self s", "cum s", "cum share"], fn_rows, [False, True, True, True, True]))
        doc["cprofile"] = {
            "profiled_s": profiled,
            "self_by_module": dict(sorted(self_by_module.items(), key=lambda kv: -kv[1])),
            "linter_cumulative": [
                {"function": f"{_module_of(f, linter_dir)}:{ln} {n}", "calls": nc, "self_s": tt, "cum_s": ct}
                for (f, ln, n), (_cc, nc, tt, ct, _c) in ours[: args.top]
            ],
        }

    if not args.no_cprofile:
        # discovery again, under the profiler: what walking the folder costs (exclude globs,
        # .gitignore lookups, chart detection)
        profiler = cProfile.Profile()
        profiler.enable()
        start = time.process_time()
        discover(["."], settings, cwd=root)
        profiled = time.process_time() - start
        profiler.disable()
        raw = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
        total = sum(v[2] for v in raw.values()) or 1e-9
        top = sorted(raw.items(), key=lambda kv: -kv[1][3])
        rows = []
        for (filename, line, name), (_cc, nc, tottime, cumtime, _c) in top:
            if len(rows) >= min(args.top, 12):
                break
            if name.startswith("<") and filename != "~":
                continue
            where = f"{_module_of(filename, linter_dir, name)}:{line} {name}" if filename != "~" else _module_of(filename, linter_dir, name)
            rows.append([where, str(nc), f"{tottime:.2f}", f"{cumtime:.2f}", f"{100 * cumtime / total:.1f} %"])
        print()
        print(f"discover under cProfile: {profiled:.2f} cpu s ({phases['discover'][1]:.2f} cpu s without); by cumulative time:")
        print(_table(["function", "calls", "self s", "cum s", "cum share"], rows, [False, True, True, True, True]))
        doc["discover_cprofile"] = {"profiled_s": profiled, "top": [dict(zip(("function", "calls", "self_s", "cum_s", "share"), r)) for r in rows]}

    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
