#!/usr/bin/env python3
"""Interactive latency: the editor (``pitfall lsp`` over stdio) and the pre-commit hook.

    python bench/latency.py lsp                       # a generated 1,000-line Python file
    python bench/latency.py lsp --file some/module.py --edits 40
    python bench/latency.py hook --repo ../corpus/ansible+ansible --file lib/ansible/module_utils/urls.py

``lsp`` starts ``python -m linter lsp`` in a temporary folder holding a copy of the file, opens
it, then makes ``--edits`` edits one at a time (a changed line, as typing does), each after a
quiet pause, and times each from the ``didChange`` notification to the ``publishDiagnostics``
of that version (the server's debounce included). It prints the median, p95 and maximum.

``hook`` times what the pre-commit hook runs on one changed file: ``pitfall check FILE`` in the
repository, a new process each time (as the hook starts one), with the results cache warm (the
file itself is changed before each run, so it is analysed again) and with ``--no-cache``; medians
of ``--runs``. A benchmark, not a test: the machine's load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def generated_module(lines: int = 1000) -> str:
    """A service module of about ``lines`` lines: HTTP calls with and without timeouts, classes,
    retries, plain code."""
    out = ["import asyncio", "import requests", "import httpx", "", "TIMEOUT = 5", ""]
    i = 0
    while len(out) < lines:
        out += [
            f"class Client{i}:",
            f'    """Client number {i}."""',
            "",
            "    def __init__(self, base):",
            "        self.base = base",
            "        self.session = requests.Session()",
            "",
            f"    def fetch_{i}(self, path, params=None):",
            "        url = f'{self.base}/{path}'",
            "        response = self.session.get(url, params=params, timeout=TIMEOUT)",
            "        response.raise_for_status()",
            "        return response.json()",
            "",
            f"    def post_{i}(self, path, body):",
            "        return requests.post(self.base + path, json=body)",
            "",
            f"    async def stream_{i}(self, path):",
            "        async with httpx.AsyncClient(timeout=10) as client:",
            "            return await client.get(self.base + path)",
            "",
            f"def helper_{i}(values):",
            "    total = 0",
            "    for value in values:",
            "        if value % 2:",
            "            total += value",
            "    return total",
            "",
        ]
        i += 1
    return "\n".join(out[:lines]) + "\n"


class Server:
    def __init__(self, root: Path) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "linter", "lsp"], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.cond = threading.Condition()
        self.diagnostics: dict[tuple[str, int | None], float] = {}
        self.responses: dict[int, Any] = {}
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            msg = json.loads(out.read(length or 0))
            now = time.perf_counter()
            with self.cond:
                if msg.get("method") == "textDocument/publishDiagnostics":
                    p = msg["params"]
                    self.diagnostics[(p["uri"], p.get("version"))] = now
                elif "id" in msg and "method" in msg:
                    self.send({"id": msg["id"], "result": None})
                elif "id" in msg:
                    self.responses[msg["id"]] = msg
                self.cond.notify_all()

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        ident = self.next_id
        self.send({"id": ident, "method": method, "params": params})
        with self.cond:
            self.cond.wait_for(lambda: ident in self.responses, timeout=60)
        return self.responses.get(ident)

    def wait_version(self, uri: str, version: int, timeout: float = 30) -> float | None:
        with self.cond:
            self.cond.wait_for(lambda: (uri, version) in self.diagnostics, timeout=timeout)
            return self.diagnostics.get((uri, version))

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.send({"method": "exit"})
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()


def lsp(args: argparse.Namespace) -> None:
    text = Path(args.file).read_text(encoding="utf-8") if args.file else generated_module(args.lines)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = root / "module.py"
        path.write_text(text, encoding="utf-8")
        server = Server(root)
        try:
            server.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}})
            server.send({"method": "initialized", "params": {}})
            uri = path.as_uri()
            server.send({"method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}})
            if server.wait_version(uri, 1, timeout=60) is None:
                raise SystemExit("no diagnostics for the opened document within 60 s")
            lines = text.split("\n")
            samples = []
            for n in range(args.edits):
                version = n + 2
                row = (n * 37) % max(1, len(lines) - 1)
                lines[row] = lines[row] + f"  # edit {n}"
                changed = "\n".join(lines)
                time.sleep(args.pause)
                start = time.perf_counter()
                server.send({"method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": changed}]}})
                done = server.wait_version(uri, version)
                if done is None:
                    raise SystemExit(f"no diagnostics for version {version} within 30 s")
                samples.append(done - start)
        finally:
            server.close()
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    print(f"lsp: {len(text.splitlines())} lines, {len(samples)} edits; load {_load()}")
    print(f"  diagnostics after an edit: median {1000 * statistics.median(samples):.0f} ms, p95 {1000 * p95:.0f} ms, max {1000 * samples[-1]:.0f} ms")


def hook(args: argparse.Namespace) -> None:
    repo = Path(args.repo).resolve()
    target = repo / args.file
    original = target.read_bytes()
    pitfall = [sys.executable, "-m", "linter"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cache = Path(tempfile.mkdtemp(prefix="pitfall-latency-cache-"))
    env["PITFALL_CACHE_DIR"] = str(cache)
    results: dict[str, list[float]] = {"warm cache": [], "--no-cache": []}
    try:
        subprocess.run([*pitfall, "check", args.file, "--exit-zero"], cwd=repo, env=env, capture_output=True, check=False)
        for n in range(args.runs):
            for label, extra in (("warm cache", []), ("--no-cache", ["--no-cache"])):
                target.write_bytes(original + f"\n# change {n} {label}\n".encode())
                start = time.perf_counter()
                proc = subprocess.run([*pitfall, "check", args.file, "--exit-zero", *extra], cwd=repo, env=env, capture_output=True, check=False)
                results[label].append(time.perf_counter() - start)
                if proc.returncode not in (0, 1):
                    raise SystemExit(proc.stderr.decode(errors="replace"))
    finally:
        target.write_bytes(original)
        shutil.rmtree(cache, ignore_errors=True)
    print(f"hook: `pitfall check {args.file}` in {repo.name}, {args.runs} runs; load {_load()}")
    for label, times in results.items():
        print(f"  {label}: median {1000 * statistics.median(times):.0f} ms (min {1000 * min(times):.0f}, max {1000 * max(times):.0f})")


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="command", required=True)
    a = sub.add_parser("lsp")
    a.add_argument("--file", help="a Python file to edit (default: a generated one)")
    a.add_argument("--lines", type=int, default=1000)
    a.add_argument("--edits", type=int, default=30)
    a.add_argument("--pause", type=float, default=0.6, help="seconds of quiet before each edit")
    h = sub.add_parser("hook")
    h.add_argument("--repo", required=True)
    h.add_argument("--file", required=True, help="the changed file, relative to --repo")
    h.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    if args.command == "lsp":
        lsp(args)
    else:
        hook(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
