"""Lint in worker processes that may die: the language server's isolation.

A long-lived process (the language server) must not die with a unit that crashes native code,
nor wait without end for one that runs away. ``Workers`` keeps a few persistent processes, each
with the rule set of the server's settings, and sends each lint to one of them:

- a lint that crashes its process (a segfault, the kernel's OOM killer) comes back as an
  ``LNT001`` finding for that unit, and the next lint gets a new process;
- a lint over ``unit-timeout`` is ended by killing its process (it may be stuck in native code,
  where no signal reaches); inside the process the same watchdog as the command line's ends a
  unit over ``unit-timeout`` or ``unit-memory`` with an ``LNT001`` finding;
- the processes end with the server, however it ends (``linter.helm.pool.die_with_parent``: the death
  signal where the kernel offers one, else a thread that watches for re-parenting).

Each process keeps the libcst parse of the last documents it linted
(``linter.python.incremental.ParseMemo``), so an edit re-parses only the statements it changed.
Requests and results cross a pipe (pickled ``UnitResult``); a lint takes one process for its
duration, so ``size`` lints run at once and the others wait for a free process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linter.core.config import Settings
from linter.core.discover import Unit
from linter.core.model import Notification, UnitResult

if TYPE_CHECKING:
    from linter.core.engine import RuleSet
    from linter.python.incremental import ParseMemo

#: seconds a new process may take to start and compile its rules
START_TIMEOUT = 60.0
#: seconds beyond ``unit-timeout`` the server waits before it ends a process whose own watchdog
#: did not answer (it reports over-budget units itself)
GRACE = 2.0


@dataclass(frozen=True)
class Request:
    kind: str  # "text" (an open document) | "chart" (a chart folder, unsaved files in ``overrides``)
    path: str  # the unit's path as reported
    payload: str  # the document's text, or the chart's real path
    overrides: dict[str, str] | None = None


def _serve(conn: Any, parent: int, settings: Settings) -> None:
    """A worker's loop: build the rule set once, then answer requests until the pipe closes."""
    import signal

    from linter.core import engine
    from linter.helm.pool import die_with_parent as _die_with_parent

    _die_with_parent(parent, False)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from linter.python.incremental import ParseMemo

    ruleset = engine.build_ruleset(settings)
    memo = ParseMemo()  # an edit re-parses only the statements it changed
    conn.send("ready")
    # each request parses a document into many short-lived objects: collect the way a run does
    # (the default thresholds made every few edits pay for a scan of the whole rule set)
    with engine.lint_gc(), engine.budgeted_runner(ruleset) as within:
        while True:
            try:
                request: Request = conn.recv()
            except (EOFError, OSError):
                return
            unit = Unit("chart" if request.kind == "chart" else "python", request.path, request.payload)
            result = within(unit, lambda: _answer(request, unit, ruleset, memo))  # called at once, with this unit
            try:
                conn.send(result)
            except (OSError, ValueError):
                return


def _answer(request: Request, unit: Unit, ruleset: RuleSet, memo: ParseMemo) -> UnitResult:
    from linter.core import engine
    from linter.helm.staging import OVERRIDES

    if request.kind != "chart":
        return engine.lint_text(request.path, request.payload, ruleset, memo=memo)
    token = OVERRIDES.set(request.overrides)
    try:
        return engine.read_and_lint(unit, ruleset)
    finally:
        OVERRIDES.reset(token)


class _Process:
    def __init__(self, ctx: Any, settings: Settings) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, os.getpid(), settings), daemon=True, name="pitfall-lint")
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> bool:
        if not self.ready:
            try:
                self.ready = self.conn.poll(START_TIMEOUT) and self.conn.recv() == "ready"
            except (EOFError, OSError):
                self.ready = False
        return self.ready

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.join(5)
        except (OSError, ValueError, AssertionError):
            pass
        try:
            self.conn.close()
        except OSError:
            pass


class Workers:
    """``size`` worker processes, each with a rule set built like ``ruleset`` (from its
    settings; started when first needed)."""

    def __init__(self, ruleset: RuleSet, size: int = 2) -> None:
        self.ruleset = ruleset
        self.settings = ruleset.settings
        self.ctx = multiprocessing.get_context("spawn")  # the server has threads: never fork it
        self.slots = threading.BoundedSemaphore(max(1, size))
        self.lock = threading.Lock()
        self.idle: list[_Process] = []
        self.busy: set[_Process] = set()
        self.closed = False

    def prestart(self) -> None:
        """Start one process now, so the first lint does not wait for it."""
        with self.slots:
            process = self._take()
            if process is not None:
                self._give(process)

    def lint(self, request: Request) -> UnitResult:
        with self.slots:
            process = self._take()
            if process is None:
                return _failed(request, self.ruleset, "its worker process did not start")
            budget = float(self.settings.unit_timeout or 0)
            try:
                process.conn.send(request)
                if budget > 0 and not process.conn.poll(budget + GRACE):
                    self._drop(process)
                    return _failed(request, self.ruleset, f"the analysis took over {budget:g} s (unit-timeout)")
                result: UnitResult = process.conn.recv()
            except (EOFError, OSError, ValueError):
                self._drop(process)
                code = process.process.exitcode
                return _failed(request, self.ruleset, f"the analysis crashed (its process ended with exit code {code})")
            self._give(process)
            return result

    def close(self) -> None:
        with self.lock:
            self.closed = True
            everything = [*self.idle, *self.busy]
            self.idle, self.busy = [], set()
        for process in everything:
            process.kill()

    def _take(self) -> _Process | None:
        with self.lock:
            if self.closed:
                return None
            process = self.idle.pop() if self.idle else None
        if process is None:
            process = _Process(self.ctx, self.settings)
        if not process.wait_ready():
            process.kill()
            return None
        with self.lock:
            self.busy.add(process)
        return process

    def _give(self, process: _Process) -> None:
        with self.lock:
            self.busy.discard(process)
            if self.closed:
                process.kill()
            else:
                self.idle.append(process)

    def _drop(self, process: _Process) -> None:
        with self.lock:
            self.busy.discard(process)
        process.kill()


def _failed(request: Request, ruleset: RuleSet, why: str) -> UnitResult:
    from linter.core.engine import PARSE_ERROR, tool_finding

    message = f"cannot analyse {request.path}: {why}"
    finding = tool_finding(ruleset, PARSE_ERROR, request.path, message)
    return UnitResult(request.path, (finding,), (Notification(message, "error", request.path, PARSE_ERROR),))
