#!/usr/bin/env python3
"""Time pitfall side by side with its peers on a fixed corpus.

A benchmark, not a test: it prints a table and exits 0 unless a tool fails.

    python bench/run.py                 # corpus "stdlib", 5 rounds
    python bench/run.py --runs 3 --json bench/.work/timings.json

Everything it creates lives under bench/.work/ (gitignored): a venv holding the
peer tools (installed from PyPI with pip on first use), one copy of each corpus
and the reports of the coverage runs.

Adding a corpus: subclass ``Corpus`` (``prepare()`` builds the tree once,
``commands()`` lists what to time, ``peers`` names the PyPI packages it needs),
then register it in ``CORPORA``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
PEERS_VENV = WORK / "peers"

# PyPI requirement for each peer tool; a corpus lists the ones it needs.
PEER_PACKAGES = {
    "bandit": "bandit",
    "ruff": "ruff",
    # "checkov": "checkov",   # for the Kubernetes / Helm corpora
}


class BenchError(Exception):
    """A failure that stops the benchmark with a message (exit 1)."""


# --------------------------------------------------------------------------- tools


@dataclass
class Tools:
    """Where each tool's executable is: pitfall as a command prefix, peers in the venv."""

    pitfall: list[str]
    peers: dict[str, Path] = field(default_factory=dict)

    def peer(self, name: str) -> str:
        return str(self.peers[name])


def _venv_bin(venv: Path, name: str) -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    exe = name + (".exe" if os.name == "nt" else "")
    return venv / sub / exe


def ensure_peers(names: Sequence[str], *, upgrade: bool = False) -> dict[str, Path]:
    """Create bench/.work/peers (once) and pip-install the named peer tools into it."""
    python = _venv_bin(PEERS_VENV, "python")
    if not python.exists():
        print(f"creating {PEERS_VENV.relative_to(BENCH.parent)} ...", flush=True)
        _check_call([sys.executable, "-m", "venv", str(PEERS_VENV)])
    missing = [n for n in names if not _venv_bin(PEERS_VENV, n).exists()]
    if missing or upgrade:
        todo = list(names) if upgrade else missing
        print(f"installing {', '.join(todo)} from PyPI ...", flush=True)
        cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if upgrade:
            cmd.append("--upgrade")
        _check_call(cmd + [PEER_PACKAGES[n] for n in todo])
    return {n: _venv_bin(PEERS_VENV, n) for n in names}


def _check_call(cmd: Sequence[str]) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise BenchError(f"`{shlex.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stdout}")


def tool_version(cmd: Sequence[str]) -> str:
    try:
        proc = subprocess.run([*cmd, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    except OSError as exc:
        raise BenchError(f"cannot run `{shlex.join(cmd)}`: {exc}") from None
    if proc.returncode != 0:
        raise BenchError(f"`{shlex.join([*cmd, '--version'])}` failed (exit {proc.returncode}):\n{proc.stdout}")
    lines = proc.stdout.strip().splitlines()
    return lines[0].strip() if lines else "?"


# --------------------------------------------------------------------------- corpora


@dataclass
class Command:
    """One timed command.

    ``tool`` groups commands for ratios ("pitfall" rows are compared with every other
    tool). ``ok_codes`` are the exit codes that count as success. ``coverage`` is an
    optional second form of the command that writes a report to a file, with a
    function turning that report into (counts by rule, notes).
    """

    label: str
    tool: str
    argv: list[str]
    ok_codes: frozenset[int] = frozenset({0})
    cwd: Path | None = None
    coverage: tuple[Callable[[Path], list[str]], Callable[[Path], tuple[Counter[str], list[str]]]] | None = None


class Corpus:
    """A tree of input files plus the commands to time on it."""

    name = ""
    description = ""
    peers: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.root = WORK / f"corpus-{self.name}"

    def prepare(self, *, refresh: bool = False) -> None:
        """Build ``self.root`` once; later calls reuse it."""
        raise NotImplementedError

    def file_count(self) -> int:
        raise NotImplementedError

    def commands(self, tools: Tools) -> list[Command]:
        raise NotImplementedError


def _is_relative_to(path: Path, other: Path) -> bool:
    try:
        path.relative_to(other)
        return True
    except ValueError:
        return False


class StdlibCorpus(Corpus):
    name = "stdlib"
    description = "the running interpreter's standard library (.py files, no site-packages)"
    peers = ("bandit", "ruff")

    # Directory names left out of the copy, so that every tool sees the same tree:
    # pitfall and ruff skip folders called "venv" by default, bandit does not.
    SKIP_DIRS = frozenset({"site-packages", "dist-packages", "__pycache__", "venv"})

    # Overlapping checks: pitfall's TMO/TLS/PRT packs against bandit's tests / ruff's S rules.
    PITFALL_SELECT = "TMO,TLS,PRT"
    BANDIT_TESTS = "B113,B501,B502,B503,B504,B323,B104"
    RUFF_SELECT = "S113,S501,S502,S503,S504,S323,S104"

    def __init__(self) -> None:
        super().__init__()
        self.source = Path(sysconfig.get_paths()["stdlib"]).resolve()
        self.stamp = WORK / f"corpus-{self.name}.json"
        # pitfall honours .gitignore files up to the repository root, and bench/.work/ is
        # gitignored: an explicit config file turns that off and keeps any [tool.pitfall]
        # of the surrounding repository out (the counterpart of ruff's --isolated).
        self.pitfall_config = WORK / "pitfall-bench.toml"

    def _sources(self) -> list[Path]:
        files = []
        for dirpath, dirnames, filenames in os.walk(self.source):
            dirnames[:] = sorted(d for d in dirnames if d not in self.SKIP_DIRS)
            for name in sorted(filenames):
                if name.endswith(".py"):
                    files.append(Path(dirpath, name))
        return files

    def prepare(self, *, refresh: bool = False) -> None:
        self.pitfall_config.parent.mkdir(parents=True, exist_ok=True)
        self.pitfall_config.write_text("# written by bench/run.py\nrespect-gitignore = false\n", encoding="utf-8")
        want = {"source": str(self.source), "python": platform.python_version()}
        if not refresh and self.root.is_dir() and self.stamp.is_file():
            try:
                have = json.loads(self.stamp.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                have = {}
            if {k: have.get(k) for k in want} == want and have.get("files") == self.file_count():
                return
        if _is_relative_to(self.root, self.source):
            raise BenchError(f"the corpus folder {self.root} lies inside the standard library {self.source}")
        print(f"copying {self.source} -> {self.root} ...", flush=True)
        files = self._sources()
        tmp = Path(tempfile.mkdtemp(prefix=f"corpus-{self.name}.", dir=WORK))
        try:
            for src in files:
                dst = tmp / src.relative_to(self.source)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
            if self.root.exists():
                shutil.rmtree(self.root)
            tmp.rename(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.stamp.write_text(json.dumps({**want, "files": len(files)}, indent=2) + "\n", encoding="utf-8")

    def file_count(self) -> int:
        return sum(1 for _ in self.root.rglob("*.py"))

    def commands(self, tools: Tools) -> list[Command]:
        root = str(self.root)
        out = WORK / "reports" / self.name

        def pitfall(select: str) -> list[str]:
            return [*tools.pitfall, "check", root, "--config", str(self.pitfall_config), "--select", select, "--no-cache", "--format", "json", "--exit-zero"]

        def bandit_args() -> list[str]:
            return [tools.peer("bandit"), "-r", root, "-t", self.BANDIT_TESTS, "-q", "-f", "json"]

        def ruff_args() -> list[str]:
            return [tools.peer("ruff"), "check", root, "--isolated", "--select", self.RUFF_SELECT, "--no-cache", "--exit-zero", "--output-format", "json"]

        return [
            Command(
                "pitfall",
                "pitfall",
                pitfall(self.PITFALL_SELECT) + ["--output", os.devnull],
                coverage=(lambda p: pitfall(self.PITFALL_SELECT) + ["--output", str(p)], _pitfall_counts),
            ),
            Command(
                "pitfall (all rules)",
                "pitfall",
                pitfall("ALL") + ["--output", os.devnull],
                coverage=(lambda p: pitfall("ALL") + ["--output", str(p)], _pitfall_counts),
            ),
            Command(
                "bandit",
                "bandit",
                bandit_args() + ["-o", os.devnull],
                ok_codes=frozenset({0, 1}),  # 1 = issues found
                coverage=(lambda p: bandit_args() + ["-o", str(p)], _bandit_counts),
            ),
            Command(
                "ruff",
                "ruff",
                ruff_args() + ["--output-file", os.devnull],
                coverage=(lambda p: ruff_args() + ["--output-file", str(p)], _ruff_counts),
            ),
        ]


# Later corpora (not implemented yet):
#
# class KubernetesCorpus(Corpus):
#     name = "k8s"; peers = ("checkov",)
#     prepare(): generate manifests into self.root
#     commands(): pitfall check ... --select PSA ..., checkov -d ... --framework kubernetes
#
# class HelmCorpus(Corpus):
#     name = "helm"; peers = ("checkov",)
#     prepare(): generate charts into self.root
CORPORA: dict[str, type[Corpus]] = {
    "stdlib": StdlibCorpus,
}


# --------------------------------------------------------------------------- report parsers


def _load_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read the report {path}: {exc}") from None


def _pitfall_counts(path: Path) -> tuple[Counter[str], list[str]]:
    doc = _load_json(path)
    counts = Counter(f["code"] for f in doc["findings"])
    notes = []
    notifications = doc.get("notifications") or []
    if notifications:
        levels = Counter(n.get("level") for n in notifications)
        notes.append("notifications: " + ", ".join(f"{n} {lvl}" for lvl, n in sorted(levels.items(), key=str)))
        for n in notifications[:10]:
            notes.append(f"  {n.get('level')}: {n.get('filename')}: {n.get('code') or ''} {n.get('message')}".rstrip())
        if len(notifications) > 10:
            notes.append(f"  ... and {len(notifications) - 10} more")
    suppressed = sum(1 for f in doc["findings"] if f.get("suppression"))
    if suppressed:
        notes.append(f"{suppressed} of the findings are suppressed in the source")
    return counts, notes


def _bandit_counts(path: Path) -> tuple[Counter[str], list[str]]:
    doc = _load_json(path)
    counts = Counter(r["test_id"] for r in doc.get("results", []))
    notes = []
    errors = doc.get("errors") or []
    if errors:
        notes.append(f"{len(errors)} files bandit could not scan, e.g. " + ", ".join(Path(e.get("filename", "?")).name for e in errors[:5]))
    scanned = len([k for k in doc.get("metrics", {}) if k != "_totals"])
    if scanned:
        notes.append(f"{scanned} files in bandit's metrics")
    return counts, notes


def _ruff_counts(path: Path) -> tuple[Counter[str], list[str]]:
    doc = _load_json(path)
    counts = Counter(d.get("code") or "syntax-error" for d in doc)
    return counts, []


# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    label: str
    round: int
    wall_s: float
    maxrss_mb: float  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_mb: float | None  # sampled sum over the process tree (Linux), a lower bound
    exit_code: int


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                kids.extend(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            pass
    return kids


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class TreeSampler(threading.Thread):
    """Polls /proc for the summed RSS of a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.done = threading.Event()
        self.works = os.path.exists(f"/proc/{pid}/task")

    def run(self) -> None:
        while not self.done.is_set():
            total, todo, seen = 0, [self.pid], set()
            while todo:
                p = todo.pop()
                if p in seen:
                    continue
                seen.add(p)
                total += _rss_bytes(p)
                todo.extend(_children(p))
            self.peak = max(self.peak, total)
            self.done.wait(self.interval)


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop a child started in its own session, with everything it spawned."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                pid, _, _ = os.wait4(proc.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid:
                proc.returncode = -sig
                return
            time.sleep(0.05)


def run_once(cmd: Command, round_no: int, *, argv: Sequence[str] | None = None) -> tuple[Sample, str]:
    """Run a command; return its timing and its stderr. Raises BenchError on failure."""
    argv = list(argv if argv is not None else cmd.argv)
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(argv, cwd=cmd.cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        except OSError as exc:
            raise BenchError(f"{cmd.label}: cannot start `{shlex.join(argv)}`: {exc}") from None
        sampler = TreeSampler(proc.pid)
        try:
            if sampler.works:
                sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            sampler.done.set()
            _kill_tree(proc)
            raise
        wall = time.perf_counter() - start
        sampler.done.set()
        if sampler.works:
            sampler.join()
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code  # reaped by wait4; keep Popen from waiting again
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if code not in cmd.ok_codes:
        shown = (stderr.strip() or stdout.strip() or "(no output)")[-6000:]
        raise BenchError(f"{cmd.label} failed (exit {code}): {shlex.join(argv)}\n--- stderr/stdout ---\n{shown}")
    # ru_maxrss is in kilobytes on Linux, bytes on macOS
    scale = 1 if sys.platform == "darwin" else 1024
    sample = Sample(
        label=cmd.label,
        round=round_no,
        wall_s=wall,
        maxrss_mb=usage.ru_maxrss * scale / 1e6,
        tree_rss_mb=sampler.peak / 1e6 if sampler.works else None,
        exit_code=code,
    )
    return sample, stderr.strip()


# --------------------------------------------------------------------------- printing


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def _median(values: Sequence[float]) -> float:
    return statistics.median(values)


def summarize(commands: Sequence[Command], samples: Sequence[Sample]) -> dict[str, dict[str, float | None]]:
    summary: dict[str, dict[str, float | None]] = {}
    for cmd in commands:
        mine = [s for s in samples if s.label == cmd.label]
        if not mine:
            continue
        walls = [s.wall_s for s in mine]
        trees = [s.tree_rss_mb for s in mine if s.tree_rss_mb is not None]
        summary[cmd.label] = {
            "median_s": _median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "median_maxrss_mb": _median([s.maxrss_mb for s in mine]),
            "median_tree_rss_mb": _median(trees) if trees else None,
            "runs": len(mine),
        }
    return summary


def print_timings(commands: Sequence[Command], summary: dict[str, dict[str, float | None]]) -> None:
    headers = ["tool", "median s", "min s", "max s", "peak RSS MB", "tree RSS MB"]
    rows = []
    for cmd in commands:
        s = summary.get(cmd.label)
        if s is None:
            continue
        tree = s["median_tree_rss_mb"]
        rows.append([cmd.label, f"{s['median_s']:.2f}", f"{s['min_s']:.2f}", f"{s['max_s']:.2f}", f"{s['median_maxrss_mb']:.0f}", "-" if tree is None else f"{tree:.0f}"])
    print(_table(headers, rows, [False, True, True, True, True, True]))
    print("  peak RSS = ru_maxrss of the child from wait4 (largest single process of its tree, median over runs)")
    print("  tree RSS = peak of the summed RSS of the child and its descendants, sampled every 50 ms (a lower bound)")

    ours = [c for c in commands if c.tool == "pitfall" and c.label in summary]
    peers = [c for c in commands if c.tool != "pitfall" and c.label in summary]
    if not ours or not peers:
        return
    print()
    print("ratios on medians: wall time (peak RSS); below 1 means pitfall is faster (smaller)")
    headers = ["", *(f"pitfall/{p.label}" for p in peers)]
    rows = []
    for o in ours:
        row = [o.label]
        for p in peers:
            a, b = summary[o.label], summary[p.label]
            wall = a["median_s"] / b["median_s"] if b["median_s"] else float("nan")
            rss = a["median_maxrss_mb"] / b["median_maxrss_mb"] if b["median_maxrss_mb"] else float("nan")
            row.append(f"{wall:.2f}x ({rss:.2f}x)")
        rows.append(row)
    print(_table(headers, rows, [False, *([True] * len(peers))]))


def print_counts(label: str, counts: Counter[str], notes: Sequence[str]) -> None:
    total = sum(counts.values())
    print(f"{label}: {total} findings")
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {code:<14} {n:>6}")
    for note in notes:
        print(f"  {note}")


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="stdlib", help=f"which corpus ({', '.join(CORPORA)}; default: stdlib)")
    ap.add_argument("--runs", type=int, default=5, help="rounds; each round runs every command once (default: 5)")
    ap.add_argument("--pitfall", metavar="CMD", help="pitfall command prefix, e.g. 'pitfall' (default: the current python -m linter)")
    ap.add_argument("--json", metavar="FILE", help="write the raw timings to FILE")
    ap.add_argument("--only", metavar="LABELS", help="comma-separated command labels to run (default: all)")
    ap.add_argument("--no-coverage", action="store_true", help="skip the finding counts (one extra run of each command)")
    ap.add_argument("--refresh-corpus", action="store_true", help="rebuild the corpus copy")
    ap.add_argument("--upgrade-peers", action="store_true", help="pip install --upgrade the peer tools")
    args = ap.parse_args(argv)
    if args.corpus not in CORPORA:
        ap.error(f"unknown corpus {args.corpus!r}; known: {', '.join(CORPORA)}")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = CORPORA[args.corpus]()
    WORK.mkdir(parents=True, exist_ok=True)

    pitfall_cmd = shlex.split(args.pitfall) if args.pitfall else [sys.executable, "-m", "linter"]
    tools = Tools(pitfall=pitfall_cmd, peers=ensure_peers(corpus.peers, upgrade=args.upgrade_peers))
    corpus.prepare(refresh=args.refresh_corpus)

    commands = corpus.commands(tools)
    if args.only:
        wanted = {x.strip() for x in args.only.split(",") if x.strip()}
        unknown = wanted - {c.label for c in commands}
        if unknown:
            raise BenchError(f"--only: unknown labels {sorted(unknown)}; known: {[c.label for c in commands]}")
        commands = [c for c in commands if c.label in wanted]

    versions = {"pitfall": tool_version(tools.pitfall)}
    for name, exe in tools.peers.items():
        versions[name] = tool_version([str(exe)])
    n_files = corpus.file_count()
    cores = os.cpu_count() or 1

    print(f"corpus:   {corpus.name}: {corpus.description}")
    print(f"          {corpus.root} ({n_files} .py files)")
    print(f"machine:  {cores} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}")
    for name, v in versions.items():
        print(f"{name + ':':<9} {v}")
    for cmd in commands:
        print(f"  {cmd.label}: {shlex.join(cmd.argv)}")
    print(f"rounds:   {args.runs} (interleaved: {', '.join(c.label for c in commands)})")
    print(flush=True)

    samples: list[Sample] = []
    stderr_seen: dict[str, str] = {}
    for r in range(1, args.runs + 1):
        for cmd in commands:
            sample, stderr = run_once(cmd, r)
            samples.append(sample)
            if stderr and cmd.label not in stderr_seen:
                stderr_seen[cmd.label] = stderr
            print(f"  round {r}/{args.runs}  {cmd.label:<20} {sample.wall_s:7.2f} s  {sample.maxrss_mb:6.0f} MB", flush=True)
    print()

    summary = summarize(commands, samples)
    print_timings(commands, summary)

    if args.json:
        doc = {
            "corpus": corpus.name,
            "corpus_root": str(corpus.root),
            "files": n_files,
            "cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": versions,
            "commands": {c.label: c.argv for c in commands},
            "samples": [asdict(s) for s in samples],
            "summary": summary,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"\nraw timings written to {args.json}")

    if not args.no_coverage:
        print("\nfinding counts (one extra run of each command, report kept under bench/.work/reports/)")
        reports = WORK / "reports" / corpus.name
        reports.mkdir(parents=True, exist_ok=True)
        for cmd in commands:
            if cmd.coverage is None:
                continue
            build, parse = cmd.coverage
            path = reports / (cmd.label.replace(" ", "-").replace("(", "").replace(")", "") + ".json")
            _, stderr = run_once(cmd, 0, argv=build(path))
            if stderr and cmd.label not in stderr_seen:
                stderr_seen[cmd.label] = stderr
            counts, notes = parse(path)
            print()
            print_counts(cmd.label, counts, notes)

    if stderr_seen:
        print("\nstderr printed by the tools (first run that printed any; the runs still succeeded):")
        for label, text in stderr_seen.items():
            lines = text.splitlines()
            print(f"--- {label} ({len(lines)} lines)")
            print("\n".join(lines[:40]))
            if len(lines) > 40:
                print(f"... {len(lines) - 40} more lines")
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def entry() -> None:
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _terminate)  # stop the running child as on Ctrl-C
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted; the running command was stopped", file=sys.stderr)
        sys.exit(130)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    entry()
