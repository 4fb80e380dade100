#!/usr/bin/env python3
"""Time pitfall side by side with its peers on a fixed corpus.

A benchmark, not a test: it prints a table and exits 0 unless a tool fails.

    python bench/run.py                 # corpus "stdlib", 5 rounds
    python bench/run.py --runs 3 --json bench/.work/timings.json
    python bench/run.py --corpus k8s    # generated manifests, against checkov
    python bench/run.py --corpus helm   # generated charts, against render + checkov
    python bench/run.py --corpus real --corpus-root ../corpus   # the pinned repositories, one by one
    python bench/run.py --corpus charts --corpus-root ../charts # the pinned chart repositories

Everything it creates lives under bench/.work/ (gitignored): venvs holding the
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
import random
import re
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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
WORK = BENCH / ".work"
PEERS_VENV = WORK / "peers"
PITFALL_VENV = WORK / "pitfall-venv"

# PyPI requirement for each peer tool; a corpus lists the ones it needs.
PEER_PACKAGES = {
    "bandit": "bandit",
    "ruff": "ruff",
    "checkov": "checkov",  # for the Kubernetes / Helm corpora
    "semgrep": "semgrep",  # for the real corpus (a binary wheel: semgrep-core is bundled)
}

# Peers that get a venv of their own (checkov pins many packages); the rest share PEERS_VENV.
PEER_VENVS = {
    "checkov": WORK / "checkov-venv",
    "semgrep": WORK / "semgrep-venv",
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
    """Create the peers' venvs (once) and pip-install the named peer tools into them.

    Most peers share bench/.work/peers; those in ``PEER_VENVS`` get a venv of their own.
    """
    by_venv: dict[Path, list[str]] = {}
    for n in names:
        by_venv.setdefault(PEER_VENVS.get(n, PEERS_VENV), []).append(n)
    for venv, group in by_venv.items():
        python = _venv_bin(venv, "python")
        if not python.exists():
            print(f"creating {venv.relative_to(BENCH.parent)} ...", flush=True)
            _check_call([sys.executable, "-m", "venv", str(venv)])
        missing = [n for n in group if not _venv_bin(venv, n).exists()]
        if missing or upgrade:
            todo = list(group) if upgrade else missing
            slow = " (a few minutes the first time)" if {"checkov", "semgrep"} & set(todo) else ""
            print(f"installing {', '.join(todo)} from PyPI into {venv.relative_to(BENCH.parent)}{slow} ...", flush=True)
            cmd = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            if upgrade:
                cmd.append("--upgrade")
            _check_call(cmd + [PEER_PACKAGES[n] for n in todo])
    return {n: _venv_bin(PEER_VENVS.get(n, PEERS_VENV), n) for n in names}


def ensure_pitfall() -> Path:
    """pitfall installed from this checkout into a venv of its own, the way a user installs
    it (and the way the peers are installed): pip builds the wheel and byte-compiles it, and
    nothing the development venv holds (test tools, stale packages) is importable. The
    dependencies are installed once; pitfall itself is reinstalled on every bench run."""
    python = _venv_bin(PITFALL_VENV, "python")
    if not python.exists():
        print(f"creating {PITFALL_VENV.relative_to(BENCH.parent)} ...", flush=True)
        _check_call([sys.executable, "-m", "venv", str(PITFALL_VENV)])
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not _venv_bin(PITFALL_VENV, "pitfall").exists():
        print(f"installing pitfall and its dependencies into {PITFALL_VENV.relative_to(BENCH.parent)} ...", flush=True)
        _check_call([*pip, str(BENCH.parent)])
    else:  # a dependency added since the venv was made
        _check_call([*pip, str(BENCH.parent)])
    print("installing pitfall from the checkout (pip install --force-reinstall --no-deps) ...", flush=True)
    _check_call([*pip, "--force-reinstall", "--no-deps", str(BENCH.parent)])
    return _venv_bin(PITFALL_VENV, "pitfall")


def _check_call(cmd: Sequence[str]) -> None:
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise BenchError(f"`{shlex.join(cmd)}` failed (exit {proc.returncode}):\n{proc.stdout}")


def tool_version(cmd: Sequence[str], env: dict[str, str] | None = None) -> str:
    try:
        proc = subprocess.run([*cmd, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120, env=_env(env))
    except OSError as exc:
        raise BenchError(f"cannot run `{shlex.join(cmd)}`: {exc}") from None
    if proc.returncode != 0:
        raise BenchError(f"`{shlex.join([*cmd, '--version'])}` failed (exit {proc.returncode}):\n{proc.stdout}")
    lines = proc.stdout.strip().splitlines()
    return lines[0].strip() if lines else "?"


def _env(extra: dict[str, str] | None) -> dict[str, str] | None:
    return None if not extra else {**os.environ, **extra}


# --------------------------------------------------------------------------- corpora


@dataclass
class Command:
    """One timed command.

    ``tool`` groups commands for ratios ("pitfall" rows are compared with every other
    tool). ``ok_codes`` are the exit codes that count as success. ``coverage`` is an
    optional second form of the command that writes a report to a file, with a
    function turning that report into (counts by rule, notes). ``env`` is added to the
    environment of the command. ``warmup``: run once, untimed, before the rounds (a command
    timed with what an earlier run of itself left, such as a warm cache).
    """

    label: str
    tool: str
    argv: list[str]
    ok_codes: frozenset[int] = frozenset({0})
    cwd: Path | None = None
    env: dict[str, str] | None = None
    coverage: tuple[Callable[[Path], list[str]], Callable[[Path], tuple[Counter[str], list[str]]]] | None = None
    warmup: bool = False


@dataclass(frozen=True)
class Target:
    """A goal printed as met / not met after the timings.

    ``kind`` "speed": ``peer``'s median wall time is at least ``value`` times ``ours``'s.
    ``kind`` "memory": ``ours``'s peak memory (the larger of peak RSS and tree RSS) is
    below ``value`` MB.
    """

    kind: str
    ours: str
    value: float
    peer: str = ""


class Corpus:
    """A tree of input files plus the commands to time on it."""

    name = ""
    description = ""
    peers: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()

    def __init__(self) -> None:
        self.root = WORK / f"corpus-{self.name}"

    def prepare(self, *, refresh: bool = False) -> None:
        """Build ``self.root`` once; later calls reuse it."""
        raise NotImplementedError

    def file_count(self) -> int:
        raise NotImplementedError

    def size_text(self) -> str:
        """What the corpus holds, for the header."""
        return f"{self.file_count()} .py files"

    def extra_versions(self) -> dict[str, str]:
        """Versions of libraries the corpus uses besides the timed tools."""
        return {}

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


# ----- YAML writing for the generated corpora (block style, no dependency)

_PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9_./:@-]*")
_YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS and not text.endswith(":"):
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _yaml_lines(value: object, indent: int = 0) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml_lines(item, indent + 2))
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}- {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    else:
        lines.append(pad + _scalar(value))
    return lines


def to_yaml(value: object) -> str:
    return "\n".join(_yaml_lines(value)) + "\n"


def _write_tree(root: Path, files: dict[str, str], prefix: str) -> None:
    """Write ``files`` (relative path -> text) to a fresh ``root``, replacing it atomically."""
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}.", dir=WORK))
    try:
        for rel, text in files.items():
            dst = tmp / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
        if root.exists():
            shutil.rmtree(root)
        tmp.rename(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _stamp_matches(stamp: Path, want: dict[str, object]) -> bool:
    try:
        have = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(have, dict) and all(have.get(k) == v for k, v in want.items())


def _write_bench_config(path: Path) -> None:
    # pitfall honours .gitignore files up to the repository root, and bench/.work/ is
    # gitignored: an explicit config file turns that off (see StdlibCorpus).
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# written by bench/run.py\nrespect-gitignore = false\n", encoding="utf-8")


# checkov's environment for every run:
# - BC_SKIP_MAPPING: checkov fetches its guideline mapping from the Prisma Cloud API on every
#   run unless told not to; offline that is a failed DNS lookup plus a traceback per run.
#   Neither tool gets anything from the network in these timings.
# - CKV_IGNORE_HIDDEN_DIRECTORIES: the kubernetes runner drops every file whose absolute path
#   contains "/." (kubernetes_utils.should_include_path), so by default it finds nothing under
#   bench/.work/. The corpora hold no hidden folders of their own.
CHECKOV_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_IGNORE_HIDDEN_DIRECTORIES": "false"}

# semgrep's environment for every run: no version check and no metrics (the rules are local
# files, so with these it makes no network request).
SEMGREP_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}

# the environment of each peer's runs (and of its --version)
PEER_ENV = {"checkov": CHECKOV_ENV, "semgrep": SEMGREP_ENV}


def _checkov_args(checkov: str, directory: str) -> list[str]:
    return [checkov, "-d", directory, "--framework", "kubernetes", "--quiet", "--compact", "-o", "json"]


def _checkov_report_dir(path: Path) -> Path:
    return path.with_suffix(".d")


# --------------------------------------------------------------------------- k8s corpus


class _K8sGenerator:
    """Deterministic generator of varied Kubernetes manifests (one ``random.Random``)."""

    WORDS = ("api", "web", "auth", "billing", "cart", "search", "orders", "users", "media", "queue",
             "report", "gateway", "ledger", "notify", "catalog", "stock", "export", "import", "audit", "admin")
    TEAMS = ("payments", "platform", "growth", "data", "infra", "storefront", "identity", "ops")
    IMAGES = ("nginx", "redis", "postgres", "ghcr.io/acme/api", "registry.example.com/team/worker",
              "quay.io/acme/gateway", "busybox", "python", "envoyproxy/envoy", "grafana/agent")
    PORT_CHOICES = (80, 443, 3000, 5000, 5432, 6379, 8000, 8080, 8443, 9000, 9090, 9443)
    PORT_NAMES = ("http", "https", "grpc", "metrics", "admin", "web")
    SECURITY = ("restricted", "restricted", "restricted", "none", "none", "privileged", "hostpath",
                "hostport", "caps", "hostns", "root", "unconfined", "escalation", "partial", "sysctl")

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.counter = 0
        self.namespaces = [f"{t}-{e}" for t in self.TEAMS for e in ("prod", "staging")]

    # -- small pieces

    def uid(self, base: str) -> str:
        self.counter += 1
        return f"{base}-{self.counter:04d}"

    def meta(self, name: str, *, namespaced: bool = True, labels: dict[str, str] | None = None) -> dict[str, object]:
        meta: dict[str, object] = {"name": name}
        if namespaced and self.rng.random() < 0.7:
            meta["namespace"] = self.rng.choice(self.namespaces)
        if labels:
            meta["labels"] = dict(labels)
        if self.rng.random() < 0.2:
            meta["annotations"] = {"team.example.com/owner": self.rng.choice(self.TEAMS)}
        return meta

    def image(self) -> str:
        repo = self.rng.choice(self.IMAGES)
        r = self.rng.random()
        if r < 0.15:
            return f"{repo}:latest"
        if r < 0.25:
            return f"{repo}@sha256:{self.rng.getrandbits(256):064x}"
        if r < 0.3:
            return repo
        return f"{repo}:{self.rng.randint(1, 9)}.{self.rng.randint(0, 30)}.{self.rng.randint(0, 9)}"

    def probe(self, port: object) -> dict[str, object]:
        kind = self.rng.random()
        probe: dict[str, object]
        if kind < 0.6:
            probe = {"httpGet": {"path": self.rng.choice(("/healthz", "/ready", "/live", "/")), "port": port}}
        elif kind < 0.85:
            probe = {"tcpSocket": {"port": port}}
        else:
            probe = {"exec": {"command": ["sh", "-c", "test -f /tmp/healthy"]}}
        period = self.rng.choice((5, 10, 15, 30))
        if self.rng.random() < 0.5:
            probe["periodSeconds"] = period
            # now and then a timeout that is not below the period
            probe["timeoutSeconds"] = period + self.rng.choice((0, 5)) if self.rng.random() < 0.15 else self.rng.choice((1, 2, 3))
        if self.rng.random() < 0.3:
            probe["initialDelaySeconds"] = self.rng.choice((0, 5, 10, 30))
        if self.rng.random() < 0.2 and "httpGet" in probe:
            probe["httpGet"]["host"] = "127.0.0.1"  # type: ignore[index]
        return probe

    def container(self, name: str, security: str, ports: list[int]) -> dict[str, object]:
        rng = self.rng
        c: dict[str, object] = {"name": name, "image": self.image()}
        if rng.random() < 0.5:
            c["imagePullPolicy"] = rng.choice(("IfNotPresent", "Always"))
        if rng.random() < 0.2:
            c["args"] = ["--log-level", rng.choice(("info", "debug", "warn"))]
        declared: list[dict[str, object]] = []
        names = list(self.PORT_NAMES)
        rng.shuffle(names)
        for i, port in enumerate(ports):
            entry: dict[str, object] = {"containerPort": port}
            if rng.random() < 0.7:
                entry["name"] = names[i % len(names)]
            entry["protocol"] = "TCP"
            if security == "hostport" and i == 0:
                entry["hostPort"] = port
            declared.append(entry)
        if declared and rng.random() < 0.05:
            declared.append(dict(declared[0]))  # a duplicate port
        if declared:
            c["ports"] = declared
        if rng.random() < 0.3:
            c["env"] = [
                {"name": "DATABASE_URL", "value": f"postgres://db.{rng.choice(self.namespaces)}.svc:5432/app"},
                {"name": "LISTEN_ADDR", "value": rng.choice(("0.0.0.0:8080", "127.0.0.1:8080", ":8080"))},
            ]
        if rng.random() < 0.2:
            c["envFrom"] = [{"configMapRef": {"name": self.uid("settings")}}]
        # probes: present, missing, identical, by a (possibly undeclared) port name
        target: object = ports[0] if ports else 8080
        named = [p["name"] for p in declared if "name" in p]
        if named and rng.random() < 0.5:
            target = named[0]
        if rng.random() < 0.07:
            target = "health"  # a name no port declares
        r = rng.random()
        if r < 0.55:
            c["readinessProbe"] = self.probe(target)
            c["livenessProbe"] = self.probe(target)
        elif r < 0.7:
            same = self.probe(target)
            c["readinessProbe"] = same
            c["livenessProbe"] = json.loads(json.dumps(same))
        elif r < 0.8:
            c["readinessProbe"] = self.probe(target)
        elif r < 0.85:
            c["livenessProbe"] = self.probe(target)
        if rng.random() < 0.1:
            c["startupProbe"] = self.probe(target)
        if rng.random() < 0.6:
            c["resources"] = {
                "requests": {"cpu": f"{rng.choice((50, 100, 250, 500))}m", "memory": f"{rng.choice((64, 128, 256, 512))}Mi"},
                "limits": {"memory": f"{rng.choice((256, 512, 1024))}Mi"},
            }
            if rng.random() < 0.5:
                c["resources"]["limits"]["cpu"] = f"{rng.choice((500, 1000, 2000))}m"  # type: ignore[index]
        sc = self.container_security(security)
        if sc is not None:
            c["securityContext"] = sc
        if rng.random() < 0.3:
            c["volumeMounts"] = [{"name": "data", "mountPath": "/var/lib/app"}]
        return c

    def container_security(self, security: str) -> dict[str, object] | None:
        rng = self.rng
        restricted: dict[str, object] = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
        }
        if rng.random() < 0.6:
            restricted["readOnlyRootFilesystem"] = True
        if rng.random() < 0.5:
            restricted["runAsUser"] = rng.choice((1000, 10001, 65532))
        if security == "restricted":
            if rng.random() < 0.15:
                restricted["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
            return restricted
        if security == "none":
            return None
        if security == "privileged":
            return {"privileged": True, "allowPrivilegeEscalation": True}
        if security == "caps":
            return {"capabilities": {"add": [rng.choice(("NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE", "NET_RAW", "CHOWN"))]}}
        if security == "root":
            return {"runAsUser": 0, "runAsNonRoot": False}
        if security == "escalation":
            return {**restricted, "allowPrivilegeEscalation": True}
        if security == "unconfined":
            return {**restricted, "seccompProfile": {"type": "Unconfined"}}
        if security == "partial":
            return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True}
        if security in ("hostpath", "hostport", "hostns", "sysctl"):
            return restricted if rng.random() < 0.5 else None
        return None

    def pod_spec(self, app: str, ports: list[int], *, restart: str | None = None) -> dict[str, object]:
        rng = self.rng
        security = rng.choice(self.SECURITY)
        spec: dict[str, object] = {}
        if rng.random() < 0.4:
            spec["serviceAccountName"] = app
        if security == "restricted" or (security in ("escalation", "unconfined") and rng.random() < 0.5):
            psc: dict[str, object] = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}}
            if rng.random() < 0.5:
                psc["fsGroup"] = 2000
            spec["securityContext"] = psc
        elif security == "hostns":
            spec[rng.choice(("hostNetwork", "hostPID", "hostIPC"))] = True
        elif security == "sysctl":
            spec["securityContext"] = {"sysctls": [{"name": rng.choice(("net.core.somaxconn", "kernel.msgmax", "net.ipv4.ip_local_port_range")), "value": "1024"}]}
        elif rng.random() < 0.2:
            spec["securityContext"] = {"fsGroup": 2000}
        if restart:
            spec["restartPolicy"] = restart
        n = rng.choice((1, 1, 1, 2, 2, 3))
        containers = []
        for i in range(n):
            cports = ports if i == 0 else ([rng.choice(self.PORT_CHOICES)] if rng.random() < 0.4 else [])
            containers.append(self.container(app if i == 0 else f"{app}-sidecar{i}", security if i == 0 or rng.random() < 0.5 else "restricted", cports))
        if rng.random() < 0.15:
            init = self.container(f"{app}-init", security, [])
            init.pop("readinessProbe", None)
            init.pop("livenessProbe", None)
            init.pop("startupProbe", None)
            spec["initContainers"] = [init]
        spec["containers"] = containers
        volumes: list[dict[str, object]] = []
        if security == "hostpath" or rng.random() < 0.04:
            volumes.append({"name": "host", "hostPath": {"path": rng.choice(("/var/run/docker.sock", "/var/log", "/etc", "/")), "type": "Directory"}})
        if any("volumeMounts" in c for c in containers):
            volumes.append(rng.choice((
                {"name": "data", "emptyDir": {}},
                {"name": "data", "persistentVolumeClaim": {"claimName": f"{app}-data"}},
                {"name": "data", "configMap": {"name": f"{app}-config"}},
            )))
        if volumes:
            spec["volumes"] = volumes
        if rng.random() < 0.2:
            spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
        if rng.random() < 0.1:
            spec["tolerations"] = [{"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}]
        return spec

    # -- objects

    def workload(self) -> tuple[dict[str, object], str, list[int], str | None]:
        """A Deployment / StatefulSet / DaemonSet; returns it, its app name, ports, namespace."""
        rng = self.rng
        kind = rng.choices(("Deployment", "StatefulSet", "DaemonSet"), weights=(6, 2, 1))[0]
        app = self.uid(rng.choice(self.WORDS))
        labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": rng.choice(self.TEAMS)}
        ports = rng.sample(self.PORT_CHOICES, rng.choice((0, 1, 1, 1, 2, 2, 3)))
        meta = self.meta(app, labels=labels)
        spec: dict[str, object] = {}
        if kind != "DaemonSet":
            spec["replicas"] = rng.choice((1, 2, 3, 3, 5))
        if kind == "StatefulSet":
            spec["serviceName"] = app
        spec["selector"] = {"matchLabels": {"app.kubernetes.io/name": app}}
        if kind == "Deployment" and rng.random() < 0.3:
            spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}}
        tmeta: dict[str, object] = {"labels": labels}
        if rng.random() < 0.15:
            tmeta["annotations"] = {"container.apparmor.security.beta.kubernetes.io/" + app: rng.choice(("runtime/default", "unconfined"))}
        spec["template"] = {"metadata": tmeta, "spec": self.pod_spec(app, ports)}
        if kind == "StatefulSet" and rng.random() < 0.6:
            spec["volumeClaimTemplates"] = [{
                "metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{rng.choice((1, 5, 20))}Gi"}}},
            }]
        doc = {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
        return doc, app, ports, meta.get("namespace")  # type: ignore[return-value]

    def service(self, app: str, ports: list[int], namespace: str | None) -> dict[str, object]:
        rng = self.rng
        meta: dict[str, object] = {"name": app}
        if namespace:
            meta["namespace"] = namespace
        stype = rng.choices(("ClusterIP", "NodePort", "LoadBalancer", "Headless"), weights=(6, 2, 1, 1))[0]
        spec: dict[str, object] = {}
        if stype == "Headless":
            spec["clusterIP"] = "None"
        elif stype != "ClusterIP" or rng.random() < 0.3:
            spec["type"] = stype
        spec["selector"] = {"app.kubernetes.io/name": app}
        sports = []
        for i, port in enumerate(ports or [8080]):
            entry: dict[str, object] = {"name": f"p{i}", "port": rng.choice((80, 443, port)), "protocol": "TCP"}
            r = rng.random()
            if r < 0.65 and ports:
                entry["targetPort"] = port  # matches a container port
            elif r < 0.8:
                entry["targetPort"] = rng.choice(self.PORT_NAMES)  # by name, declared or not
            else:
                entry["targetPort"] = port + rng.choice((1, 80, 1000))  # matches nothing
            if stype == "NodePort" and rng.random() < 0.6:
                entry["nodePort"] = rng.randint(30000, 32767)
            sports.append(entry)
        spec["ports"] = sports
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}

    def ingress(self, app: str, namespace: str | None) -> dict[str, object]:
        rng = self.rng
        meta: dict[str, object] = {"name": app}
        if namespace:
            meta["namespace"] = namespace
        if rng.random() < 0.4:
            meta["annotations"] = {"nginx.ingress.kubernetes.io/ssl-redirect": rng.choice(("true", "false"))}
        hosts = [f"{app}.example.com"] + ([f"{app}.internal.example.com"] if rng.random() < 0.3 else [])
        spec: dict[str, object] = {}
        if rng.random() < 0.6:
            spec["ingressClassName"] = rng.choice(("nginx", "traefik"))
        r = rng.random()
        if r < 0.45:
            spec["tls"] = [{"hosts": list(hosts), "secretName": f"{app}-tls"}]
        elif r < 0.6:
            spec["tls"] = [{"hosts": hosts[:1] if len(hosts) > 1 else [f"other.{hosts[0]}"], "secretName": f"{app}-tls"}]
        spec["rules"] = [
            {"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": app, "port": {"number": rng.choice((80, 443, 8080))}}}}]}}
            for h in hosts
        ]
        return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}

    def configmap(self) -> dict[str, object]:
        rng = self.rng
        name = self.uid(rng.choice(self.WORDS) + "-config")
        data: dict[str, object] = {"LOG_LEVEL": rng.choice(("info", "debug", "warn"))}
        if rng.random() < 0.5:
            data["UPSTREAM_URL"] = f"http://{rng.choice(self.WORDS)}.{rng.choice(self.namespaces)}.svc.cluster.local:{rng.choice(self.PORT_CHOICES)}/v1"
        if rng.random() < 0.3:
            data["REQUEST_TIMEOUT"] = f"{rng.choice((1, 5, 30))}s"
        if rng.random() < 0.3:
            data["app.properties"] = "server.port=8080\nserver.address=0.0.0.0\nretries=3\n"
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.meta(name), "data": data}

    def namespace(self) -> dict[str, object]:
        rng = self.rng
        name = self.uid(rng.choice(self.TEAMS))
        labels: dict[str, str] = {"team": rng.choice(self.TEAMS)}
        r = rng.random()
        if r < 0.7:
            level = rng.choice(("restricted", "restricted", "baseline", "privileged"))
            labels["pod-security.kubernetes.io/enforce"] = level
            if rng.random() < 0.5:
                labels["pod-security.kubernetes.io/enforce-version"] = rng.choice(("latest", "v1.29"))
            if rng.random() < 0.5:
                labels["pod-security.kubernetes.io/warn"] = rng.choice(("restricted", "baseline", "privileged"))
            if rng.random() < 0.3:
                labels["pod-security.kubernetes.io/audit"] = "restricted"
        elif r < 0.78:
            labels["pod-security.kubernetes.io/enforce"] = rng.choice(("strict", "Restricted", "none"))  # invalid
        return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}

    def job_spec(self, app: str) -> dict[str, object]:
        rng = self.rng
        spec: dict[str, object] = {}
        if rng.random() < 0.5:
            spec["activeDeadlineSeconds"] = rng.choice((300, 600, 3600))
        if rng.random() < 0.6:
            spec["backoffLimit"] = rng.choice((0, 3, 6))
        if rng.random() < 0.3:
            spec["ttlSecondsAfterFinished"] = 3600
        pod = self.pod_spec(app, [], restart=rng.choice(("Never", "OnFailure")))
        spec["template"] = {"metadata": {"labels": {"app.kubernetes.io/name": app}}, "spec": pod}
        return spec

    def job(self) -> dict[str, object]:
        app = self.uid(self.rng.choice(("migrate", "backup", "reindex", "export", "cleanup")))
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": self.meta(app), "spec": self.job_spec(app)}

    def cronjob(self) -> dict[str, object]:
        rng = self.rng
        app = self.uid(rng.choice(("nightly", "hourly", "rotate", "sync", "report")))
        spec: dict[str, object] = {
            "schedule": rng.choice(("*/5 * * * *", "0 * * * *", "30 2 * * *", "0 0 * * 0")),
            "concurrencyPolicy": rng.choice(("Forbid", "Allow", "Replace")),
        }
        if rng.random() < 0.4:
            spec["startingDeadlineSeconds"] = 200
        spec["jobTemplate"] = {"spec": self.job_spec(app)}
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": self.meta(app), "spec": spec}

    def pod(self) -> dict[str, object]:
        rng = self.rng
        app = self.uid(rng.choice(("debug", "toolbox", "canary", "probe", "shell")))
        ports = rng.sample(self.PORT_CHOICES, rng.choice((0, 1, 1, 2)))
        return {"apiVersion": "v1", "kind": "Pod", "metadata": self.meta(app, labels={"app.kubernetes.io/name": app}), "spec": self.pod_spec(app, ports)}

    def bundle(self) -> list[dict[str, object]]:
        """A few related documents, as they would sit together in one file."""
        rng = self.rng
        r = rng.random()
        if r < 0.45:
            doc, app, ports, ns = self.workload()
            docs = [doc]
            if rng.random() < 0.3:
                docs.insert(0, self.configmap())
            if doc["kind"] != "DaemonSet" or rng.random() < 0.3:
                docs.append(self.service(app, ports, ns))
                if rng.random() < 0.45:
                    docs.append(self.ingress(app, ns))
            return docs
        if r < 0.57:
            return [self.job()]
        if r < 0.67:
            return [self.cronjob()]
        if r < 0.8:
            return [self.pod()]
        if r < 0.88:
            return [self.namespace()]
        return [self.configmap()]

    def files(self, n_files: int, n_docs: int) -> dict[str, str]:
        rng = self.rng
        # documents per file: pairs summing to 2 * mean, so the total is exactly n_docs
        mean = n_docs // n_files
        counts: list[int] = []
        for _ in range(n_files // 2):
            d = rng.randint(0, mean - 1)
            counts += [mean + d, mean - d]
        counts += [mean] * (n_files - len(counts))
        counts[-1] += n_docs - sum(counts)
        rng.shuffle(counts)
        out: dict[str, str] = {}
        for i, count in enumerate(counts):
            docs: list[dict[str, object]] = []
            while len(docs) < count:
                docs.extend(self.bundle())
            docs = docs[:count]
            team = rng.choice(self.TEAMS)
            parts = [f"# generated by bench/run.py (corpus k8s), file {i:03d}: {count} documents\n"]
            if rng.random() < 0.3:
                parts.append("---\n")
            for j, doc in enumerate(docs):
                if j:
                    parts.append("---\n")
                if rng.random() < 0.1:
                    parts.append(f"# {doc['kind']} for {team}\n")
                parts.append(to_yaml(doc))
            suffix = ".yml" if rng.random() < 0.15 else ".yaml"
            out[f"{team}/{i:03d}-{docs[0]['kind'].lower()}{suffix}"] = "".join(parts)
        return out


class KubernetesCorpus(Corpus):
    name = "k8s"
    description = "generated Kubernetes manifests (seeded), pitfall against checkov"
    peers = ("checkov",)
    targets = (
        Target("speed", "pitfall", 10.0, peer="checkov"),
        Target("memory", "pitfall", 300.0),
    )

    SEED = 20240611
    FILES = 200
    DOCS = 2000
    GENERATOR = 1  # bump when the generator changes: the corpus is rebuilt

    def __init__(self) -> None:
        super().__init__()
        self.stamp = WORK / f"corpus-{self.name}.json"
        self.pitfall_config = WORK / "pitfall-bench.toml"

    def _want(self) -> dict[str, object]:
        return {"generator": self.GENERATOR, "seed": self.SEED, "files": self.FILES, "documents": self.DOCS}

    def prepare(self, *, refresh: bool = False) -> None:
        _write_bench_config(self.pitfall_config)
        want = self._want()
        if not refresh and self.root.is_dir() and _stamp_matches(self.stamp, want) and self.file_count() == self.FILES:
            return
        print(f"generating {self.DOCS} documents in {self.FILES} files -> {self.root} ...", flush=True)
        files = _K8sGenerator(self.SEED).files(self.FILES, self.DOCS)
        _write_tree(self.root, files, f"corpus-{self.name}")
        kinds = Counter(re.findall(r"(?m)^kind: (\w+)$", "".join(files.values())))
        self.stamp.write_text(json.dumps({**want, "kinds": dict(sorted(kinds.items()))}, indent=2) + "\n", encoding="utf-8")

    def file_count(self) -> int:
        return sum(1 for p in self.root.rglob("*") if p.suffix in (".yaml", ".yml"))

    def size_text(self) -> str:
        text = f"{self.file_count()} YAML files"
        try:
            kinds = json.loads(self.stamp.read_text(encoding="utf-8")).get("kinds") or {}
        except (OSError, ValueError):
            kinds = {}
        if kinds:
            text += f", {sum(kinds.values())} documents: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        return text

    def commands(self, tools: Tools) -> list[Command]:
        root = str(self.root)

        def pitfall() -> list[str]:
            return [*tools.pitfall, "check", root, "--select", "ALL", "--no-cache", "--format", "json", "--exit-zero", "--config", str(self.pitfall_config)]

        checkov = _checkov_args(tools.peer("checkov"), root)
        return [
            Command(
                "pitfall",
                "pitfall",
                pitfall() + ["--output", os.devnull],
                coverage=(lambda p: pitfall() + ["--output", str(p)], _pitfall_counts),
            ),
            Command(
                "checkov",
                "checkov",
                checkov,
                ok_codes=frozenset({0, 1}),  # 1 = failed checks
                env=CHECKOV_ENV,
                coverage=(lambda p: checkov + ["--output-file-path", str(_checkov_report_dir(p))], _checkov_counts),
            ),
        ]


# --------------------------------------------------------------------------- helm corpus

HELM_RENDER_SCRIPT = '''\
"""Render every chart of a folder the way pitfall's "defaults" profile does (bench/run.py).

    python helm-render.py CORPUS OUT

Each chart's own values.yaml holds its values; one file per rendered template is
written to OUT/<chart>/templates/..., NOTES.txt and empty output left out.
"""
import sys
from pathlib import Path

import helm_python as helm


def main() -> int:
    corpus, out = Path(sys.argv[1]), Path(sys.argv[2])
    written = 0
    for chart_yaml in sorted(corpus.glob("*/Chart.yaml")):
        with helm.Chart.load(str(chart_yaml.parent)) as chart:
            manifests = chart.render({}, name="release-name", namespace="default", is_install=True)
        for key, text in sorted(manifests.items()):
            if key.endswith("NOTES.txt") or not text.strip():
                continue
            dst = out / key
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
            written += 1
    if not written:
        print(f"helm-render: nothing rendered from {corpus}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

# Render, then checkov on the output, as one command; extra arguments go to checkov.
HELM_WRAPPER_SCRIPT = '''\
#!/bin/sh
# written by bench/run.py (corpus helm): render the charts, then run checkov on the output
set -e
out=$(mktemp -d "${{TMPDIR:-/tmp}}/bench-helm-render.XXXXXX")
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
{python} {render} {corpus} "$out"
set +e
{checkov} -d "$out" --framework kubernetes --quiet --compact -o json "$@"
exit $?
'''


class HelmCorpus(Corpus):
    name = "helm"
    description = "charts scaffolded with helm_python (Chart.create), values varied (seeded)"
    peers = ("checkov",)
    targets = (
        Target("speed", "pitfall (defaults)", 5.0, peer="render+checkov"),
    )

    SEED = 20240612
    CHARTS = 100
    GENERATOR = 1

    def __init__(self) -> None:
        super().__init__()
        self.stamp = WORK / f"corpus-{self.name}.json"
        self.pitfall_config = WORK / "pitfall-bench.toml"
        self.render_script = WORK / "helm-render.py"
        self.wrapper = WORK / "helm-render-checkov.sh"
        # the render runs with the interpreter running the bench (the dev venv's, with helm_python)
        self.python = sys.executable

    def _helm(self):  # type: ignore[no-untyped-def]
        try:
            import helm_python
        except ImportError as exc:
            raise BenchError(f"corpus helm needs helm_python in the interpreter running the bench ({sys.executable}): {exc}") from None
        return helm_python

    def extra_versions(self) -> dict[str, str]:
        return {"helm_python": getattr(self._helm(), "__version__", "?")}

    def _want(self) -> dict[str, object]:
        return {"generator": self.GENERATOR, "seed": self.SEED, "charts": self.CHARTS, "helm_python": self.extra_versions()["helm_python"]}

    def _values(self, rng: random.Random, defaults: dict[str, object], name: str) -> tuple[dict[str, object], str]:
        values = json.loads(json.dumps(defaults))
        values["replicaCount"] = rng.choice((1, 1, 2, 3, 5))
        image = values.setdefault("image", {})
        if rng.random() < 0.5:
            image["tag"] = f"1.{rng.randint(20, 27)}.{rng.randint(0, 9)}"  # type: ignore[index]
        sec = rng.choice(("none", "none", "restricted", "restricted", "partial", "privileged"))
        if sec == "restricted":
            values["podSecurityContext"] = {"runAsNonRoot": True, "fsGroup": 2000, "seccompProfile": {"type": "RuntimeDefault"}}
            values["securityContext"] = {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 1000,
            }
        elif sec == "partial":
            values["securityContext"] = {"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
        elif sec == "privileged":
            values["securityContext"] = {"privileged": True}
        stype = rng.choices(("ClusterIP", "NodePort", "LoadBalancer"), weights=(6, 2, 2))[0]
        values["service"] = {"type": stype, "port": rng.choice((80, 80, 8080, 3000, 443, 9090))}
        ingress = values.setdefault("ingress", {})
        ing = rng.choice(("off", "off", "plain", "tls"))
        if ing != "off":
            ingress["enabled"] = True  # type: ignore[index]
            ingress["className"] = rng.choice(("", "nginx"))  # type: ignore[index]
            host = f"{name}.example.com"
            ingress["hosts"] = [{"host": host, "paths": [{"path": "/", "pathType": "Prefix"}]}]  # type: ignore[index]
            if ing == "tls":
                ingress["tls"] = [{"secretName": f"{name}-tls", "hosts": [host]}]  # type: ignore[index]
        if rng.random() < 0.4:
            values["resources"] = {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}
        if rng.random() < 0.2:
            values["autoscaling"] = {**values.get("autoscaling", {}), "enabled": True, "maxReplicas": rng.choice((5, 10))}  # type: ignore[dict-item]
        if rng.random() < 0.15:
            values["readinessProbe"] = {"httpGet": {"path": "/ready", "port": "http"}, "timeoutSeconds": 10, "periodSeconds": 10}
        return values, f"security={sec} ingress={ing} service={stype}"

    def prepare(self, *, refresh: bool = False) -> None:
        _write_bench_config(self.pitfall_config)
        self.render_script.write_text(HELM_RENDER_SCRIPT, encoding="utf-8")
        peers_checkov = _venv_bin(PEER_VENVS["checkov"], "checkov")
        self.wrapper.write_text(
            HELM_WRAPPER_SCRIPT.format(
                python=shlex.quote(self.python),
                render=shlex.quote(str(self.render_script)),
                corpus=shlex.quote(str(self.root)),
                checkov=shlex.quote(str(peers_checkov)),
            ),
            encoding="utf-8",
        )
        self.wrapper.chmod(0o755)
        want = self._want()
        if not refresh and self.root.is_dir() and _stamp_matches(self.stamp, want) and self.file_count() == self.CHARTS:
            return
        helm = self._helm()
        print(f"creating {self.CHARTS} charts -> {self.root} ...", flush=True)
        rng = random.Random(self.SEED)
        words = _K8sGenerator.WORDS
        tmp = Path(tempfile.mkdtemp(prefix=f"corpus-{self.name}.", dir=WORK))
        variants: Counter[str] = Counter()
        try:
            for i in range(self.CHARTS):
                name = f"{words[i % len(words)]}-{i:03d}"
                with helm.Chart.create(name, str(tmp)) as chart:
                    defaults = chart.values
                values, variant = self._values(rng, defaults, name)
                variants.update(variant.split())
                values_file = tmp / name / "values.yaml"
                values_file.write_text(f"# generated by bench/run.py (corpus helm): {variant}\n" + to_yaml(values), encoding="utf-8")
                with helm.Chart.load(str(tmp / name)) as chart:  # the edited chart still loads and renders
                    chart.render({}, name="release-name", namespace="default", is_install=True)
            if self.root.exists():
                shutil.rmtree(self.root)
            tmp.rename(self.root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.stamp.write_text(json.dumps({**want, "variants": dict(sorted(variants.items()))}, indent=2) + "\n", encoding="utf-8")

    def file_count(self) -> int:
        return sum(1 for _ in self.root.glob("*/Chart.yaml"))

    def size_text(self) -> str:
        text = f"{self.file_count()} charts"
        try:
            variants = json.loads(self.stamp.read_text(encoding="utf-8")).get("variants") or {}
        except (OSError, ValueError):
            variants = {}
        if variants:
            text += " (" + ", ".join(f"{k} {n}" for k, n in variants.items()) + ")"
        return text

    def commands(self, tools: Tools) -> list[Command]:
        root = str(self.root)

        def pitfall(*extra: str) -> list[str]:
            return [*tools.pitfall, "check", root, "--select", "ALL", "--no-cache", "--format", "json", "--exit-zero", "--config", str(self.pitfall_config), *extra]

        wrapper = [str(self.wrapper)]
        return [
            Command(
                "pitfall (defaults)",
                "pitfall",
                pitfall("--output", os.devnull, "--helm-profiles", "defaults"),
                coverage=(lambda p: pitfall("--output", str(p), "--helm-profiles", "defaults"), _pitfall_counts),
            ),
            Command(
                "pitfall (default profiles)",
                "pitfall",
                pitfall("--output", os.devnull),
                coverage=(lambda p: pitfall("--output", str(p)), _pitfall_counts),
            ),
            Command(
                "render+checkov",
                "checkov",
                wrapper,
                ok_codes=frozenset({0, 1}),  # checkov: 1 = failed checks
                env=CHECKOV_ENV,
                coverage=(lambda p: wrapper + ["--output-file-path", str(_checkov_report_dir(p))], _checkov_counts),
            ),
        ]


# --------------------------------------------------------------------------- real repositories

def _review_module():  # type: ignore[no-untyped-def]
    """bench/review.py, whose ``prepare`` extracts the pinned commits of bench/corpus.toml."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_review", BENCH / "review.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _manifest_section(section: str) -> dict[str, str]:
    """{"owner/name": commit} of one section of bench/corpus.toml."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    path = BENCH / "corpus.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if section not in data:
        raise BenchError(f"{path} has no section [{section}]")
    return dict(data[section])


def _git_work_tree(path: Path) -> Path | None:
    """The folder at or above ``path`` holding a ``.git``, if any."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


# what every repository corpus leaves out when it counts files (pitfall's default excludes)
_COUNT_SKIP = frozenset({".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "__pycache__", "node_modules", "site-packages"})


@dataclass
class Repo:
    """One repository of a repository corpus."""

    name: str  # owner/name
    commit: str
    root: Path
    size: dict[str, int] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.name.split("/", 1)[1]


class RepoCorpus(Corpus):
    """A section of bench/corpus.toml: pinned public repositories, timed one by one.

    The repositories are folders ``<root>/<owner>+<name>`` (``--corpus-root``, default
    ``../corpus`` beside the checkout), made by ``bench/review.py prepare`` (``git archive`` of
    each pinned commit out of a bare mirror): those missing are extracted from ``--mirrors``
    the same way. The root must not lie inside a git work tree: pitfall, ruff and semgrep honour
    the .gitignore files of the work tree around it (this checkout's ignores bench/.work/).
    """

    section = ""
    size_columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.root = BENCH.parent.parent / "corpus"
        self.mirrors = BENCH.parent.parent / ".mirror"
        self.repos: list[Repo] = []

    def configure(self, *, corpus_root: str | None, mirrors: str | None, only_repos: str | None) -> None:
        if corpus_root:
            self.root = Path(corpus_root).expanduser().resolve()
        if mirrors:
            self.mirrors = Path(mirrors).expanduser().resolve()
        pins = _manifest_section(self.section)
        chosen = list(pins)
        if only_repos:
            wanted = [w.strip() for w in only_repos.split(",") if w.strip()]
            chosen = []
            for w in wanted:
                hits = [r for r in pins if w.lower() in (r.lower(), r.split("/", 1)[1].lower(), r.replace("/", "+").lower())]
                if not hits:
                    raise BenchError(f"--only-repos: no repository {w!r} in [{self.section}] of bench/corpus.toml; known: {', '.join(pins)}")
                chosen += [h for h in hits if h not in chosen]
        self.repos = [Repo(r, pins[r], self.root / r.replace("/", "+")) for r in chosen]

    def prepare(self, *, refresh: bool = False) -> None:
        _write_bench_config(WORK / "pitfall-bench.toml")
        tree = _git_work_tree(self.root)
        if tree is not None:
            raise BenchError(
                f"the corpus root {self.root} lies inside the git work tree {tree}: pitfall, ruff and semgrep "
                "would honour its .gitignore files; extract the repositories elsewhere (--corpus-root)"
            )
        missing = [r for r in self.repos if not r.root.is_dir()]
        if refresh:
            raise BenchError(f"--refresh-corpus: corpus {self.name} is not rebuilt by run.py; remove the folders under {self.root} and run again to extract them anew")
        if missing:
            if not self.mirrors.is_dir():
                raise BenchError(
                    f"{', '.join(r.name for r in missing)} not extracted under {self.root} and no mirrors at {self.mirrors}: "
                    "pass --corpus-root (an existing extraction) or --mirrors (bare git folders <owner>+<name>/repo)"
                )
            print(f"extracting {', '.join(r.name for r in missing)} from {self.mirrors} into {self.root} (bench/review.py prepare) ...", flush=True)
            review = _review_module()
            review.prepare(self.mirrors, self.root)  # every pin of bench/corpus.toml not there yet
            still = [r.name for r in missing if not r.root.is_dir()]
            if still:
                raise BenchError(f"could not extract {', '.join(still)} (see above)")
        for repo in self.repos:
            repo.size = self.measure(repo.root)

    def measure(self, root: Path) -> dict[str, int]:
        raise NotImplementedError

    def file_count(self) -> int:
        return sum(next(iter(r.size.values()), 0) for r in self.repos)

    def size_text(self) -> str:
        return f"{len(self.repos)} repositories"

    def commands(self, tools: Tools) -> list[Command]:
        raise BenchError(f"corpus {self.name} is timed repository by repository (commands_for)")

    def commands_for(self, repo: Repo, tools: Tools) -> list[Command]:
        raise NotImplementedError


def _walk_files(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _COUNT_SKIP and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            yield Path(dirpath, name)


def _lines(path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


class RealCorpus(RepoCorpus):
    """The [python] repositories of bench/corpus.toml: pitfall with every rule on against bandit,
    ruff and semgrep on the overlapping checks, each repository timed on its own."""

    name = "real"
    description = "the [python] repositories of bench/corpus.toml, each at its pinned commit"
    section = "python"
    peers = ("bandit", "ruff", "semgrep")
    size_columns = (".py files", "py lines", "YAML/JSON files")

    SEMGREP_RULES = BENCH / "semgrep"

    def measure(self, root: Path) -> dict[str, int]:
        py = lines = other = 0
        for path in _walk_files(root):
            suffix = path.suffix.lower()
            if suffix == ".py":
                py += 1
                lines += _lines(path)
            elif suffix in (".yaml", ".yml", ".json"):
                other += 1
        return {".py files": py, "py lines": lines, "YAML/JSON files": other}

    def commands_for(self, repo: Repo, tools: Tools) -> list[Command]:
        # every tool runs from inside the repository on ".", as a user runs it there
        def pitfall() -> list[str]:
            return [*tools.pitfall, "check", ".", "--select", "ALL", "--no-cache", "--format", "json", "--exit-zero"]

        def bandit_args() -> list[str]:
            return [tools.peer("bandit"), "-r", ".", "-t", StdlibCorpus.BANDIT_TESTS, "-q", "-f", "json"]

        # the second run with no change: its results cache (outside the repository) is filled by
        # the untimed warm-up run
        warm_cache = WORK / "cache" / repo.name.replace("/", "+")
        shutil.rmtree(warm_cache, ignore_errors=True)

        def ruff_args() -> list[str]:
            return [tools.peer("ruff"), "check", ".", "--isolated", "--select", StdlibCorpus.RUFF_SELECT, "--no-cache", "--exit-zero", "--output-format", "json"]

        def semgrep_args() -> list[str]:
            return [tools.peer("semgrep"), "scan", "--config", str(self.SEMGREP_RULES), "--metrics", "off", "--disable-version-check", "--json"]

        return [
            Command(
                "pitfall",
                "pitfall",
                pitfall() + ["--output", os.devnull],
                cwd=repo.root,
                coverage=(lambda p: pitfall() + ["--output", str(p)], _pitfall_counts),
            ),
            Command(
                "pitfall (warm cache)",
                "pitfall",
                [a for a in pitfall() if a != "--no-cache"] + ["--output", os.devnull],
                cwd=repo.root,
                env={"PITFALL_CACHE_DIR": str(warm_cache)},
                warmup=True,
            ),
            Command(
                "bandit",
                "bandit",
                bandit_args() + ["-o", os.devnull],
                ok_codes=frozenset({0, 1}),  # 1 = issues found
                cwd=repo.root,
                coverage=(lambda p: bandit_args() + ["-o", str(p)], _bandit_counts),
            ),
            Command(
                "ruff",
                "ruff",
                ruff_args() + ["--output-file", os.devnull],
                cwd=repo.root,
                coverage=(lambda p: ruff_args() + ["--output-file", str(p)], _ruff_counts),
            ),
            Command(
                "semgrep",
                "semgrep",
                semgrep_args(),  # the JSON report goes to stdout, captured to a temporary file
                ok_codes=frozenset({0, 1}),  # 1 = findings with --error (not given), kept as success
                cwd=repo.root,
                env=SEMGREP_ENV,
                coverage=(lambda p: semgrep_args() + ["--output", str(p)], _semgrep_counts),
            ),
        ]


CHARTS_RENDER_SCRIPT = '''\
"""Render every chart of a repository the way pitfall's "defaults" profile does (bench/run.py,
corpus charts).

    python charts-render.py REPOSITORY OUT

A chart is a folder holding a Chart.yaml, as pitfall's discovery finds them: the folders below a
chart (its subcharts, its templates) are part of it, and the folders pitfall excludes by default
are skipped. Each chart is rendered with its own values.yaml (release "release-name", namespace
"default", an install); each rendered template is written to OUT/<n>-<chart>/<template>,
NOTES.txt and empty output left out. A chart that does not render (a dependency that is not
vendored, a value it requires) is skipped and counted on stderr, as pitfall reports it (LNT002)
and goes on.
"""
import os
import sys
from pathlib import Path

import helm_python as helm

SKIP = {SKIP!r}


def charts(top):
    for dirpath, dirnames, filenames in os.walk(top):
        if "Chart.yaml" in filenames:
            dirnames[:] = []
            yield Path(dirpath)
            continue
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP and not d.endswith(".egg-info") and not os.path.islink(os.path.join(dirpath, d)))


def main():
    top, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    written = rendered = 0
    failed = []
    for n, chart_dir in enumerate(charts(top)):
        try:
            with helm.Chart.load(str(chart_dir)) as chart:
                manifests = chart.render({{}}, name="release-name", namespace="default", is_install=True)
        except Exception as exc:
            failed.append(f"{{chart_dir.relative_to(top)}}: {{type(exc).__name__}}: {{str(exc).splitlines()[0] if str(exc) else ''}}")
            continue
        rendered += 1
        for key, text in sorted(manifests.items()):
            if key.endswith("NOTES.txt") or not text.strip():
                continue
            dst = out / f"{{n:03d}}-{{chart_dir.name}}" / key
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_text(text, encoding="utf-8")
            written += 1
    print(f"charts-render: {{top.name}}: {{rendered}} charts rendered, {{written}} manifests, {{len(failed)}} charts did not render", file=sys.stderr)
    for line in failed:
        print(f"  {{line}}", file=sys.stderr)
    if not written:
        print(f"charts-render: nothing rendered from {{top}}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


# Render the charts of one repository, then checkov on the output, as one command: the
# repository first, extra arguments go to checkov.
CHARTS_WRAPPER_SCRIPT = '''\
#!/bin/sh
# written by bench/run.py (corpus charts): render the charts of repository $1, then run checkov on the output
set -e
repo=$1
shift
out=$(mktemp -d "${{TMPDIR:-/tmp}}/bench-charts-render.XXXXXX")
trap 'rm -rf "$out"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
{python} {render} "$repo" "$out"
set +e
{checkov} -d "$out" --framework kubernetes --quiet --compact -o json "$@"
exit $?
'''


class ChartsCorpus(RepoCorpus):
    """The [charts] repositories of bench/corpus.toml: pitfall against render + checkov (the
    approach of corpus helm), each repository timed on its own."""

    name = "charts"
    description = "the [charts] repositories of bench/corpus.toml, each at its pinned commit"
    section = "charts"
    peers = ("checkov",)
    size_columns = ("charts", "YAML files", "YAML lines")

    def __init__(self) -> None:
        super().__init__()
        self.root = BENCH.parent.parent / "charts"
        self.render_script = WORK / "charts-render.py"
        self.wrapper = WORK / "charts-render-checkov.sh"
        self.python = sys.executable  # the render runs with the bench's interpreter (helm_python)

    def extra_versions(self) -> dict[str, str]:
        return HelmCorpus.extra_versions(self)  # type: ignore[arg-type]

    def _helm(self):  # type: ignore[no-untyped-def]
        return HelmCorpus._helm(self)  # type: ignore[arg-type]

    def prepare(self, *, refresh: bool = False) -> None:
        super().prepare(refresh=refresh)
        self._helm()
        skip = tuple(sorted(_COUNT_SKIP | {"build", "dist"}))
        self.render_script.write_text(CHARTS_RENDER_SCRIPT.format(SKIP=skip), encoding="utf-8")
        self.wrapper.write_text(
            CHARTS_WRAPPER_SCRIPT.format(
                python=shlex.quote(self.python),
                render=shlex.quote(str(self.render_script)),
                checkov=shlex.quote(str(_venv_bin(PEER_VENVS["checkov"], "checkov"))),
            ),
            encoding="utf-8",
        )
        self.wrapper.chmod(0o755)

    def measure(self, root: Path) -> dict[str, int]:
        charts = yaml = lines = 0
        for path in _walk_files(root):
            if path.name == "Chart.yaml":
                charts += 1
            if path.suffix.lower() in (".yaml", ".yml"):
                yaml += 1
                lines += _lines(path)
        return {"charts": charts, "YAML files": yaml, "YAML lines": lines}

    def commands_for(self, repo: Repo, tools: Tools) -> list[Command]:
        def pitfall(*extra: str) -> list[str]:
            return [*tools.pitfall, "check", ".", "--select", "ALL", "--no-cache", "--format", "json", "--exit-zero", *extra]

        # the wrapper takes the repository first; what follows goes to checkov
        wrapper = [str(self.wrapper), str(repo.root)]
        return [
            Command(
                "pitfall",
                "pitfall",
                pitfall("--output", os.devnull),
                cwd=repo.root,
                coverage=(lambda p: pitfall("--output", str(p)), _pitfall_counts),
            ),
            Command(
                "pitfall (defaults)",
                "pitfall",
                pitfall("--output", os.devnull, "--helm-profiles", "defaults"),
                cwd=repo.root,
                coverage=(lambda p: pitfall("--output", str(p), "--helm-profiles", "defaults"), _pitfall_counts),
            ),
            Command(
                "render+checkov",
                "checkov",
                wrapper,
                ok_codes=frozenset({0, 1}),  # checkov: 1 = failed checks
                env=CHECKOV_ENV,
                coverage=(lambda p: wrapper + ["--output-file-path", str(_checkov_report_dir(p))], _checkov_counts),
            ),
        ]


CORPORA: dict[str, type[Corpus]] = {
    "stdlib": StdlibCorpus,
    "k8s": KubernetesCorpus,
    "helm": HelmCorpus,
    "real": RealCorpus,
    "charts": ChartsCorpus,
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


def _semgrep_counts(path: Path) -> tuple[Counter[str], list[str]]:
    doc = _load_json(path)
    counts = Counter((r.get("check_id") or "?").rsplit(".", 1)[-1] for r in doc.get("results", []))
    notes = []
    scanned = (doc.get("paths") or {}).get("scanned")
    if scanned is not None:
        notes.append(f"{len(scanned)} files scanned by semgrep")
    errors = doc.get("errors") or []
    if errors:
        kinds = Counter(e.get("type") if isinstance(e.get("type"), str) else str((e.get("type") or ["?"])[0]) for e in errors)
        notes.append(f"{len(errors)} semgrep errors: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()))
    return counts, notes


def _checkov_counts(path: Path) -> tuple[Counter[str], list[str]]:
    """checkov's ``--output-file-path DIR`` report: DIR/results_json.json."""
    doc = _load_json(_checkov_report_dir(path) / "results_json.json")
    reports = doc if isinstance(doc, list) else [doc]
    counts: Counter[str] = Counter()
    notes = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        for check in (report.get("results") or {}).get("failed_checks") or []:
            counts[check.get("check_id") or "?"] += 1
        summary = report.get("summary") or {}
        if summary:
            notes.append(
                f"{report.get('check_type', '?')}: {summary.get('resource_count', '?')} resources, "
                f"{summary.get('passed', '?')} passed / {summary.get('failed', '?')} failed checks, "
                f"{summary.get('parsing_errors', '?')} parsing errors"
            )
    return counts, notes


# --------------------------------------------------------------------------- running


@dataclass
class Sample:
    label: str
    round: int
    wall_s: float
    maxrss_mb: float  # ru_maxrss from wait4: the largest single process of the tree
    tree_rss_mb: float | None  # sampled sum over the process tree (Linux), a lower bound
    exit_code: int
    tree_pss_mb: float | None = None  # sampled sum of PSS over the tree (shared pages split), a lower bound


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


def _pss_bytes(pid: int) -> int:
    """Proportional set size: each shared page counted as 1/n in each of the n processes mapping
    it (forked workers share the parent's pages until they write them). 0 where unavailable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _session(pid: int) -> int | None:
    """The session id of a process (field 6 of /proc/PID/stat), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(")") + 2 :].split()[3])
    except (OSError, ValueError, IndexError):
        return None


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class TreeSampler(threading.Thread):
    """Polls /proc for the summed RSS (and, every ``pss_every`` polls, PSS) of a process and all
    its descendants: worker pools, Helm renderers, their children.

    The child runs in a session of its own (``start_new_session``), so its session id is its
    pid: a process seen in the tree once still counts after its parent ended and it was
    reparented, as long as it is in that session (the check also guards against a reused pid).
    """

    def __init__(self, pid: int, interval: float = 0.05, pss_every: int = 4) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.pss_every = pss_every
        self.peak = 0
        self.peak_pss = 0
        self.pss_samples = 0
        self.most_processes = 0
        self.known: set[int] = set()
        self.done = threading.Event()
        self.works = os.path.exists(f"/proc/{pid}/task")

    def tree(self) -> set[int]:
        todo = [self.pid, *(p for p in self.known if _session(p) == self.pid)]
        seen: set[int] = set()
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo.extend(_children(p))
        self.known = seen
        return seen

    def run(self) -> None:
        tick = 0
        while not self.done.is_set():
            pids = self.tree()
            self.peak = max(self.peak, sum(_rss_bytes(p) for p in pids))
            self.most_processes = max(self.most_processes, len(pids))
            if self.pss_every and tick % self.pss_every == 0:
                self.peak_pss = max(self.peak_pss, sum(_pss_bytes(p) for p in pids))
                self.pss_samples += 1
            tick += 1
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
            proc = subprocess.Popen(argv, cwd=cmd.cwd, env=_env(cmd.env), stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
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
        # a run shorter than two PSS polls has no PSS figure (the one poll may predate its exec)
        tree_pss_mb=sampler.peak_pss / 1e6 if sampler.works and sampler.pss_samples >= 2 else None,
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
        psss = [s.tree_pss_mb for s in mine if s.tree_pss_mb is not None]
        summary[cmd.label] = {
            "median_s": _median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "median_maxrss_mb": _median([s.maxrss_mb for s in mine]),
            "median_tree_rss_mb": _median(trees) if trees else None,
            "max_tree_rss_mb": max(trees) if trees else None,
            "median_tree_pss_mb": _median(psss) if psss else None,
            "max_tree_pss_mb": max(psss) if psss else None,
            "runs": len(mine),
        }
    return summary


def print_timings(commands: Sequence[Command], summary: dict[str, dict[str, float | None]]) -> None:
    headers = ["tool", "median s", "min s", "max s", "peak RSS MB", "tree RSS MB", "tree PSS MB"]
    rows = []
    for cmd in commands:
        s = summary.get(cmd.label)
        if s is None:
            continue
        tree, pss = s["median_tree_rss_mb"], s.get("median_tree_pss_mb")
        rows.append([
            cmd.label, f"{s['median_s']:.2f}", f"{s['min_s']:.2f}", f"{s['max_s']:.2f}", f"{s['median_maxrss_mb']:.0f}",
            "-" if tree is None else f"{tree:.0f}", "-" if pss is None else f"{pss:.0f}",
        ])
    print(_table(headers, rows, [False, True, True, True, True, True, True]))
    print("  peak RSS = ru_maxrss of the child from wait4 (largest single process of its tree, median over runs)")
    print("  tree RSS = peak of the summed RSS of the child and its descendants, sampled every 50 ms (a lower bound)")
    print("  tree PSS = the same with proportional set sizes (pages shared by forked workers counted once), every 200 ms")

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


def check_targets(targets: Sequence[Target], summary: dict[str, dict[str, float | None]]) -> list[dict[str, object]]:
    """Evaluate each target on the medians; a target whose commands did not run is left out."""
    results: list[dict[str, object]] = []
    for t in targets:
        ours = summary.get(t.ours)
        if ours is None:
            continue
        if t.kind == "speed":
            peer = summary.get(t.peer)
            if peer is None:
                continue
            factor = peer["median_s"] / ours["median_s"] if ours["median_s"] else float("inf")  # type: ignore[operator]
            results.append({
                "target": f"{t.ours} at least {t.value:g}x faster than {t.peer}",
                "measured": f"{factor:.1f}x ({peer['median_s']:.2f} s / {ours['median_s']:.2f} s)",
                "value": factor,
                "met": factor >= t.value,
            })
        elif t.kind == "memory":
            figures = [x for x in (ours["median_maxrss_mb"], ours["median_tree_rss_mb"]) if x is not None]
            peak = max(figures)  # type: ignore[type-var]
            tree = ours["median_tree_rss_mb"]
            results.append({
                "target": f"{t.ours} peak memory under {t.value:g} MB",
                "measured": f"{peak:.0f} MB (peak RSS {ours['median_maxrss_mb']:.0f} MB, tree RSS {'-' if tree is None else f'{tree:.0f}'} MB)",
                "value": peak,
                "met": peak < t.value,  # type: ignore[operator]
            })
    return results


def print_speedups(commands: Sequence[Command], summary: dict[str, dict[str, float | None]]) -> None:
    ours = [c for c in commands if c.tool == "pitfall" and c.label in summary]
    peers = [c for c in commands if c.tool != "pitfall" and c.label in summary]
    if not ours or not peers:
        return
    print()
    print("speed-up on medians: peer wall time / pitfall wall time (\"pitfall is N x faster\")")
    for o in ours:
        for p in peers:
            a, b = summary[o.label]["median_s"], summary[p.label]["median_s"]
            factor = b / a if a else float("inf")  # type: ignore[operator]
            print(f"  {o.label} vs {p.label}: {p.label}/{o.label} = {factor:.1f}x: {o.label} is {factor:.1f}x faster")


def print_targets(results: Sequence[dict[str, object]]) -> None:
    if not results:
        return
    print()
    print("targets:")
    for r in results:
        print(f"  [{'met' if r['met'] else 'NOT MET'}] {r['target']}: {r['measured']}")


def print_counts(label: str, counts: Counter[str], notes: Sequence[str]) -> None:
    total = sum(counts.values())
    print(f"{label}: {total} findings")
    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {code:<14} {n:>6}")
    for note in notes:
        print(f"  {note}")


def _loadavg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except (AttributeError, OSError):
        return None


def _fmt_load(load: tuple[float, float, float] | None) -> str:
    return "n/a" if load is None else " ".join(f"{x:.2f}" for x in load)


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default="stdlib", help=f"which corpus ({', '.join(CORPORA)}; default: stdlib)")
    ap.add_argument("--runs", type=int, default=5, help="rounds; each round runs every command once (default: 5)")
    ap.add_argument("--pitfall", metavar="CMD", help="pitfall command prefix, e.g. 'python -m linter' (default: pitfall installed from this checkout into bench/.work/pitfall-venv)")
    ap.add_argument("--json", metavar="FILE", help="write the raw timings to FILE")
    ap.add_argument("--only", metavar="LABELS", help="comma-separated command labels to run (default: all)")
    ap.add_argument("--no-coverage", action="store_true", help="skip the finding counts (one extra run of each command)")
    ap.add_argument("--refresh-corpus", action="store_true", help="rebuild the corpus copy")
    ap.add_argument("--corpus-root", metavar="DIR", help="corpora real / charts: the folder holding the extracted repositories <owner>+<name> (default: ../corpus, ../charts beside the checkout)")
    ap.add_argument("--mirrors", metavar="DIR", help="corpora real / charts: bare git mirrors <owner>+<name>/repo to extract missing repositories from (default: ../.mirror)")
    ap.add_argument("--only-repos", metavar="NAMES", help="corpora real / charts: comma-separated repositories (owner/name, name or owner+name) to time (default: all of the section)")
    ap.add_argument("--upgrade-peers", action="store_true", help="pip install --upgrade the peer tools")
    args = ap.parse_args(argv)
    if args.corpus not in CORPORA:
        ap.error(f"unknown corpus {args.corpus!r}; known: {', '.join(CORPORA)}")
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if not issubclass(CORPORA[args.corpus], RepoCorpus) and (args.corpus_root or args.mirrors or args.only_repos):
        ap.error("--corpus-root, --mirrors and --only-repos are for the corpora real and charts")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    corpus = CORPORA[args.corpus]()
    WORK.mkdir(parents=True, exist_ok=True)
    if isinstance(corpus, RepoCorpus):
        corpus.configure(corpus_root=args.corpus_root, mirrors=args.mirrors, only_repos=args.only_repos)

    pitfall_cmd = shlex.split(args.pitfall) if args.pitfall else [str(ensure_pitfall())]
    tools = Tools(pitfall=pitfall_cmd, peers=ensure_peers(corpus.peers, upgrade=args.upgrade_peers))
    corpus.prepare(refresh=args.refresh_corpus)
    if isinstance(corpus, RepoCorpus):
        return run_repos(args, corpus, tools)

    commands = corpus.commands(tools)
    if args.only:
        wanted = {x.strip() for x in args.only.split(",") if x.strip()}
        unknown = wanted - {c.label for c in commands}
        if unknown:
            raise BenchError(f"--only: unknown labels {sorted(unknown)}; known: {[c.label for c in commands]}")
        commands = [c for c in commands if c.label in wanted]

    versions = {"pitfall": tool_version(tools.pitfall)}
    for name, exe in tools.peers.items():
        versions[name] = tool_version([str(exe)], env=PEER_ENV.get(name))
    versions.update(corpus.extra_versions())
    n_files = corpus.file_count()
    cores = os.cpu_count() or 1

    print(f"corpus:   {corpus.name}: {corpus.description}")
    print(f"          {corpus.root} ({corpus.size_text()})")
    load_before = _loadavg()
    print(f"machine:  {cores} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}, load average {_fmt_load(load_before)}")
    for name, v in versions.items():
        print(f"{name + ':':<9} {v}")
    for cmd in commands:
        env = "".join(f"{k}={shlex.quote(v)} " for k, v in (cmd.env or {}).items())
        print(f"  {cmd.label}: {env}{shlex.join(cmd.argv)}")
    print(f"rounds:   {args.runs} (interleaved: {', '.join(c.label for c in commands)})")
    print(flush=True)

    width = max(20, *(len(c.label) for c in commands))
    samples: list[Sample] = []
    stderr_seen: dict[str, str] = {}
    for r in range(1, args.runs + 1):
        for cmd in commands:
            sample, stderr = run_once(cmd, r)
            samples.append(sample)
            if stderr and cmd.label not in stderr_seen:
                stderr_seen[cmd.label] = stderr
            print(f"  round {r}/{args.runs}  {cmd.label:<{width}} {sample.wall_s:7.2f} s  {sample.maxrss_mb:6.0f} MB", flush=True)
    print()

    load_after = _loadavg()
    summary = summarize(commands, samples)
    print_timings(commands, summary)
    target_results = check_targets(corpus.targets, summary)
    if corpus.targets:
        print_speedups(commands, summary)
        print_targets(target_results)
    print(f"\nload average (1, 5, 15 min): {_fmt_load(load_before)} before, {_fmt_load(load_after)} after the timed rounds")
    if load_after is not None and load_after[1] > cores * 1.1:
        print(f"  warning: the 5-minute load average exceeded the {cores} cores: other work competed for the CPU")

    if args.json:
        doc = {
            "corpus": corpus.name,
            "corpus_root": str(corpus.root),
            "files": n_files,
            "cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": versions,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "commands": {c.label: c.argv for c in commands},
            "samples": [asdict(s) for s in samples],
            "summary": summary,
        }
        if target_results:
            doc["targets"] = target_results
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


def _select(commands: list[Command], only: str | None) -> list[Command]:
    if not only:
        return commands
    wanted = {x.strip() for x in only.split(",") if x.strip()}
    unknown = wanted - {c.label for c in commands}
    if unknown:
        raise BenchError(f"--only: unknown labels {sorted(unknown)}; known: {[c.label for c in commands]}")
    return [c for c in commands if c.label in wanted]


def _report_name(label: str) -> str:
    return label.replace(" ", "-").replace("(", "").replace(")", "")


def run_repos(args: argparse.Namespace, corpus: RepoCorpus, tools: Tools) -> int:
    """Corpora real / charts: each repository timed on its own (interleaved rounds), its table
    printed, then one summary table over the repositories."""
    versions = {"pitfall": tool_version(tools.pitfall)}
    for name, exe in tools.peers.items():
        versions[name] = tool_version([str(exe)], env=PEER_ENV.get(name))
    versions.update(corpus.extra_versions())
    cores = os.cpu_count() or 1
    load_start = _loadavg()
    print(f"corpus:   {corpus.name}: {corpus.description}")
    print(f"          {corpus.root} ({corpus.size_text()}: {', '.join(r.name for r in corpus.repos)})")
    print(f"machine:  {cores} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}, load average {_fmt_load(load_start)}")
    for name, v in versions.items():
        print(f"{name + ':':<9} {v}")
    print(f"rounds:   {args.runs} per repository, interleaved")
    print(flush=True)

    rows: list[dict[str, object]] = []
    stderr_seen: dict[str, str] = {}
    all_commands: list[Command] = []
    for repo in corpus.repos:
        commands = _select(corpus.commands_for(repo, tools), args.only)
        if not all_commands:
            all_commands = commands
        size = ", ".join(f"{n:,} {k}" for k, n in repo.size.items())
        print(f"=== {repo.name} @ {repo.commit[:12]}: {size}")
        print(f"    {repo.root}")
        for cmd in commands:
            env = "".join(f"{k}={shlex.quote(v)} " for k, v in (cmd.env or {}).items())
            where = f"(in {cmd.cwd.name}) " if cmd.cwd else ""
            print(f"  {cmd.label}: {where}{env}{shlex.join(cmd.argv)}")
        load_before = _loadavg()
        print(f"  load average before: {_fmt_load(load_before)}", flush=True)
        width = max(20, *(len(c.label) for c in commands))
        for cmd in commands:
            if cmd.warmup:
                run_once(cmd, 0)
                print(f"  warm-up    {cmd.label} (untimed)", flush=True)
        samples: list[Sample] = []
        for r in range(1, args.runs + 1):
            for cmd in commands:
                sample, stderr = run_once(cmd, r)
                samples.append(sample)
                if stderr and f"{repo.short}: {cmd.label}" not in stderr_seen:
                    stderr_seen[f"{repo.short}: {cmd.label}"] = stderr
                tree = "" if sample.tree_rss_mb is None else f"  tree {sample.tree_rss_mb:6.0f} MB"
                print(f"  round {r}/{args.runs}  {cmd.label:<{width}} {sample.wall_s:7.2f} s  {sample.maxrss_mb:6.0f} MB{tree}", flush=True)
        load_after = _loadavg()
        summary = summarize(commands, samples)
        print()
        print_timings(commands, summary)
        for cmd in commands:
            s = summary[cmd.label]
            if cmd.tool == "pitfall" and s["max_tree_rss_mb"] is not None:
                pss = s["max_tree_pss_mb"]
                print(f"  {cmd.label}: peak memory of the whole process tree, max over {s['runs']} runs: "
                      f"{s['max_tree_rss_mb']:.0f} MB RSS sum, {'-' if pss is None else f'{pss:.0f}'} MB PSS sum")
        print(f"  load average (1, 5, 15 min): {_fmt_load(load_before)} before, {_fmt_load(load_after)} after")
        counts_by_label: dict[str, dict[str, int]] = {}
        if not args.no_coverage:
            reports = WORK / "reports" / corpus.name / repo.name.replace("/", "+")
            reports.mkdir(parents=True, exist_ok=True)
            print("\n  finding counts (one extra run of each command, reports under " + str(reports.relative_to(BENCH.parent)) + "):")
            for cmd in commands:
                if cmd.coverage is None:
                    continue
                build, parse = cmd.coverage
                path = reports / (_report_name(cmd.label) + ".json")
                _, stderr = run_once(cmd, 0, argv=build(path))
                if stderr and f"{repo.short}: {cmd.label}" not in stderr_seen:
                    stderr_seen[f"{repo.short}: {cmd.label}"] = stderr
                counts, notes = parse(path)
                counts_by_label[cmd.label] = dict(counts)
                top = ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12])
                more = f", ... {len(counts) - 12} more rules" if len(counts) > 12 else ""
                print(f"  {cmd.label}: {sum(counts.values())} findings ({top}{more})")
                for note in notes[:4]:
                    print(f"    {note}")
        print(flush=True)
        rows.append({
            "repository": repo.name,
            "commit": repo.commit,
            "path": str(repo.root),
            "size": repo.size,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
            "commands": {c.label: {"argv": c.argv, "cwd": str(c.cwd) if c.cwd else None} for c in commands},
            "samples": [asdict(s) for s in samples],
            "summary": summary,
            "findings": counts_by_label,
        })

    print_repo_summary(corpus, all_commands, rows, args.runs)
    load_end = _loadavg()
    print(f"\nload average (1, 5, 15 min): {_fmt_load(load_start)} at the start, {_fmt_load(load_end)} at the end")
    if load_end is not None and load_end[2] > cores * 1.1:
        print(f"  warning: the 15-minute load average exceeded the {cores} cores: other work competed for the CPU")

    if args.json:
        doc = {
            "corpus": corpus.name,
            "corpus_root": str(corpus.root),
            "cores": cores,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "versions": versions,
            "runs": args.runs,
            "loadavg_start": load_start,
            "loadavg_end": load_end,
            "repositories": rows,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"\nraw timings written to {args.json}")

    if stderr_seen:
        print("\nstderr printed by the tools (first run per repository and tool that printed any; the runs still succeeded):")
        for label, text in stderr_seen.items():
            lines = text.splitlines()
            print(f"--- {label} ({len(lines)} lines)")
            print("\n".join(lines[:15]))
            if len(lines) > 15:
                print(f"... {len(lines) - 15} more lines")
    return 0


def print_repo_summary(corpus: RepoCorpus, commands: Sequence[Command], rows: Sequence[dict[str, object]], runs: int) -> None:
    """One line per repository: size, median wall time of each command, pitfall/peer ratios,
    pitfall's peak tree memory, load average."""
    ours = [c.label for c in commands if c.tool == "pitfall"]
    peers = [c.label for c in commands if c.tool != "pitfall"]
    headers = ["repository", *corpus.size_columns, *(f"{c} s" for c in (*ours, *peers))]
    headers += [f"{o}/{p}" if len(ours) > 1 else f"pitfall/{p}" for o in ours for p in peers]
    headers += [f"{o} tree MB" for o in ours] + ["load before", "load after"]
    table: list[list[str]] = []
    shorts = Counter(str(row["repository"]).split("/", 1)[1] for row in rows)
    for row in rows:
        summary = row["summary"]
        size = row["size"]
        assert isinstance(summary, dict) and isinstance(size, dict)
        name = str(row["repository"])
        short = name.split("/", 1)[1]
        cells = [short if shorts[short] == 1 else name, *(f"{size.get(k, 0):,}" for k in corpus.size_columns)]
        cells += [f"{summary[label]['median_s']:.2f}" if label in summary else "-" for label in (*ours, *peers)]
        for o in ours:
            for p in peers:
                if o in summary and p in summary and summary[p]["median_s"]:
                    cells.append(f"{summary[o]['median_s'] / summary[p]['median_s']:.2f}x")
                else:
                    cells.append("-")
        for o in ours:
            s = summary.get(o) or {}
            rss, pss = s.get("max_tree_rss_mb"), s.get("max_tree_pss_mb")
            cells.append("-" if rss is None else f"{rss:.0f}" + ("" if pss is None else f" ({pss:.0f})"))
        cells += [_fmt_load(row["loadavg_before"]), _fmt_load(row["loadavg_after"])]  # type: ignore[arg-type]
        table.append(cells)
    print(f"=== summary: corpus {corpus.name}, median wall time over {runs} round(s) per repository")
    print(_table(headers, table, [False, *([True] * (len(headers) - 3)), False, False]))
    print("  ratios on the medians: below 1 means pitfall is faster")
    print("  tree MB: peak summed RSS of pitfall's whole process tree (its pool workers and Helm renderers), max over the rounds;")
    print("  in parentheses the same with PSS (pages the forked workers share with the parent counted once)")


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
