"""The pure core (``lint_unit``) and the runner around it (process pool, sorting).

``lint_unit(kind, path, data, ruleset)`` is a pure function of the unit's bytes: the CLI,
the pre-commit hook, the LSP server, the tests and the process pool all wrap it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from linter.core import clock, suppress
from linter.core.config import Settings
from linter.core.discover import Unit
from linter.core.model import Finding, Notification, Pack, Region, Rule, UnitResult
from linter.core.dependencies import declared_dependencies, wanted_by
from linter.core.packs import LOCK_NAME, check_lock, load_packs, pack_applies, select_rules, with_options


T = TypeVar("T")

if TYPE_CHECKING:  # the pool machinery is imported when a pool runs: a one-file run never pays for it
    from concurrent.futures import ProcessPoolExecutor
    from types import FrameType

    from linter.core.cache import RunCache
    from linter.core.discover import Watch
    from linter.core.packs import Memo
    from linter.kubernetes.analyzer import KubeRuleSet
    from linter.python.analyzer import PythonRuleSet
    from linter.python.incremental import ParseMemo
    from linter.python.index import ProjectIndex

    from linter.helm.unit import PreparedChart  # a chart unit's input of lint_unit

PARSE_ERROR = "LNT001"
CHART_ERROR = "LNT002"
#: the rule target of each unit kind
_TARGETS = {"python": "python", "yaml": "kubernetes", "cert": "file", "chart": "chart"}


@dataclass
class RuleSet:
    """Selected rules of the active packs, compiled once per process."""

    settings: Settings
    packs: list[Pack]
    active_packs: list[Pack]
    rules: list[Rule]
    # the project-wide signature index (linter.python.index.ProjectIndex) that visitors with NEEDS_INDEX
    # read: an input of lint_unit like the unit's bytes, built by `run` before the pool (forked
    # workers inherit it with the rule set, spawned ones get it through the initializer)
    index: ProjectIndex | None = None
    #: for the rule set of test code: the full rule set it was cut from
    parent: RuleSet | None = None
    #: folders of the run that hold a pytest ``conftest.py`` (below the scan root): test trees
    #: whatever their name, an input of lint_unit like the index (see ``test_roots``)
    test_roots: tuple[str, ...] = ()
    #: folders named on the command line (``"a/b/"``, longest first): one that is itself test or
    #: documentation code was asked for, so below it only the test paths under it count
    named: tuple[str, ...] = ()
    #: the results cache of a run (linter.core.cache.RunCache; None: none). ``run`` looks units up in
    #: it and ``read_and_lint`` stores what it analysed; only the CLI sets it, never the LSP server
    cache: RunCache | None = None
    by_id: dict[str, Rule] = field(init=False)
    all_ids: frozenset[str] = field(init=False)
    _python: PythonRuleSet | None = field(init=False, default=None)
    _kubernetes: KubeRuleSet | None = field(init=False, default=None)
    _test_spec: Any = field(init=False, default=None)
    _in_tests: RuleSet | None = field(init=False, default=None)
    _reads_index: tuple[bool, bool] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rules}
        self.all_ids = frozenset(r.id for p in self.packs for r in p.rules)

    def is_test_path(self, path: str) -> bool:
        """Whether ``path`` (relative to the scan root) is test, fixture or documentation code."""
        if self._test_spec is None:
            from linter.core.discover import IgnoreSpec

            patterns = (*self.settings.test_paths, *self.settings.extend_test_paths)
            self._test_spec = IgnoreSpec.from_lines(patterns)
        if not (self.settings.test_paths or self.settings.extend_test_paths):
            return False  # `test-paths = []`: no code is test code
        path = path.replace("\\", "/").removeprefix("./")
        base = next((f for f in self.named if path.startswith(f) and self._test_spec.match_file(f)), "")
        return bool(self._test_spec.match_file(path[len(base) :])) or any(
            path.startswith(root) and len(root) > len(base) for root in self.test_roots
        )

    def for_path(self, path: str) -> RuleSet:
        """The rules that run on ``path``: in test code only those declared ``in-tests``."""
        if self.parent is not None or not self.is_test_path(path):
            return self
        return self.in_tests()

    def in_tests(self) -> RuleSet:
        """The rules that run on test code: those declared ``in-tests``."""
        if self._in_tests is None:
            self._in_tests = RuleSet(self.settings, self.packs, self.active_packs, [r for r in self.rules if r.in_tests], self.index, parent=self)
        self._in_tests.index = self.index
        self._in_tests.test_roots, self._in_tests.named = self.test_roots, self.named
        return self._in_tests

    def reads_index(self) -> tuple[bool, bool]:
        """Whether a selected Python rule reads the signature index: (on code, on test code). A run
        with the results cache takes the answer from it when the rules are the same (a run whose
        units all come from the cache then never compiles them: libcst is not even imported)."""

        if self._reads_index is None:

            def compute() -> tuple[bool, bool]:
                return self.python.needs_index, self.in_tests().python.needs_index

            self._reads_index = self.cache.rule_facts(self, compute) if self.cache is not None else compute()
        return self._reads_index

    @property
    def python(self) -> PythonRuleSet:
        """The compiled Python rules (linter.python.analyzer.PythonRuleSet); libcst is imported on first use,
        so a run over manifests only never pays for it."""
        if self._python is None:
            from linter.python.analyzer import PythonRuleSet

            self._python = PythonRuleSet(self.rules, self.settings)
        return self._python

    @property
    def kubernetes(self) -> KubeRuleSet:
        if self._kubernetes is None:
            from linter.kubernetes.analyzer import KubeRuleSet

            self._kubernetes = KubeRuleSet(self.rules, self.settings)
        return self._kubernetes

    def of(self, target: str) -> list[Rule]:
        return [r for r in self.rules if r.target == target]


def build_ruleset(settings: Settings, *, packs: list[Pack] | None = None, project_root: Path | None = None, memo: Memo | None = None) -> RuleSet:
    """The rules ``settings`` select among the packs whose ``applies-to`` the project satisfies.
    ``memo``: where that answer is kept while the project's manifests are unchanged."""
    if packs is None:
        packs = load_packs([Path(p) for p in settings.packs], dict(settings.pack_versions), config_path=settings.config_path)
    root = project_root or Path(settings.root)
    active = packs
    if any(p.applies_to for p in packs):
        from linter.core.cache import remembered

        def applying(watch: Watch | None) -> list[str]:
            declared = declared_dependencies(root, wanted_by(packs), watch=watch)
            return [p.name for p in packs if pack_applies(p, declared)]

        import packaging

        from linter import __version__

        inputs = [__version__, packaging.__version__, str(root), [[p.name, p.version, list(p.applies_to)] for p in packs]]
        names = set(remembered(memo, "applies.json", inputs, applying) if memo is not None else applying(None))
        active = [p for p in packs if p.name in names]
    lock = root / LOCK_NAME
    if lock.is_file():
        check_lock(lock, active)
    rules = select_rules(
        active,
        select=settings.select,
        extend_select=settings.extend_select,
        ignore=(*settings.ignore, *settings.extend_ignore),
        preview=settings.preview,
    )
    rules = [with_options(r, settings.options_for(r.id)) for r in rules]
    return RuleSet(settings, packs, active, rules)


# --------------------------------------------------------------------------- the pure core


def tool_finding(ruleset: RuleSet, rule_id: str, path: str, message: str, region: Region | None = None, severity: str | None = None) -> Finding:
    rule = ruleset.by_id.get(rule_id)
    return Finding(
        rule_id,
        path,
        region or Region.point(1),
        message,
        severity or (rule.severity if rule else "error"),
        fingerprint=message.split(":", 1)[0],
    )


def decode(data: bytes, *, python: bool = False) -> tuple[str | None, str | None, Region | None]:
    """(text, None, None) or (None, reason, where) for bytes that are not a text file.

    Text is UTF-8; a Python file may declare another encoding (PEP 263), as CPython reads it. A
    Python file whose coding declaration CPython refuses (an unknown or non-text codec, one that
    contradicts a BOM, bytes the declared codec cannot decode) is no text: CPython's own error
    for it has no position (line 0, column -1), so the reason and the line are given here.
    """
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return None, "binary file (contains a NUL byte)", Region.point(line)
    declared = _declared_encoding(data) if python else None
    if isinstance(declared, tuple):
        return declared
    if declared is not None:
        try:
            declared_text = data.decode(declared)
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return None, f"not valid {declared} as its coding declaration says (byte 0x{data[exc.start]:02x} at offset {exc.start})", Region.point(line)
        except LookupError:  # a codec that is not for text ("rot13", "hex")
            return None, f"its coding declaration names {declared!r}, which is not a text encoding", Region.point(_cookie_line(data))
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if declared is not None:
            return declared_text, None, None
        start = exc.start + bom
        line = data.count(b"\n", 0, start) + 1
        return None, f"not valid UTF-8 (byte 0x{data[start]:02x} at offset {start})", Region.point(line)
    return text, None, None


def _cookie_line(data: bytes) -> int:
    """The line (1 or 2) of a Python file's coding declaration."""
    import re

    first = data.split(b"\n", 1)[0]
    return 1 if re.match(rb"^[ \t\f]*#.*?coding[:=]", first.removeprefix(b"\xef\xbb\xbf")) else 2


def _declared_encoding(data: bytes) -> str | tuple[None, str, Region] | None:
    """The encoding a Python file's coding declaration names (None: none, or UTF-8), or the
    (None, reason, where) of a declaration CPython refuses."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        message = exc.msg or ""
        if message.startswith("invalid or missing encoding declaration"):
            return None  # undecodable bytes in the first lines: reported as not valid UTF-8
        if message.startswith("unknown encoding"):
            name = message.split(":", 1)[-1].strip()
            reason = f"unknown encoding {name!r} in its coding declaration"
        else:  # "encoding problem: utf-8": a UTF-8 BOM and a declaration of another encoding
            reason = "a UTF-8 byte order mark and a coding declaration of another encoding"
        return None, reason, Region.point(_cookie_line(data))
    return None if encoding in ("utf-8", "utf-8-sig") else encoding


def lint_unit(
    kind: str,
    path: str,
    data: bytes,
    ruleset: RuleSet,
    *,
    siblings: dict[str, bytes] | None = None,
    chart: PreparedChart | None = None,
    memo: ParseMemo | None = None,
) -> UnitResult:
    """All findings of one file's bytes (suppressions applied). Pure but for the clock: a result
    that a check of a date against the present made says in ``expires`` when it may change.

    ``siblings``: for a certificate unit, the bytes of the private-key files beside it (read by
    the caller, ``read_and_lint``), so the pairing check stays a function of its inputs.
    ``chart``: for a chart unit (``data`` is empty), the chart read and rendered with every value
    set, its findings' values hints checked, by its I/O edge (``_lint_chart``).
    ``memo``: for a Python unit, the language server's parse memo (``linter.python.incremental``):
    the same findings, with only the statements changed since the last version parsed again.
    """
    clock.start()
    result = _lint_unit(kind, path, data, ruleset, siblings=siblings, chart=chart, memo=memo)
    moment = clock.horizon()
    return result if moment is None else replace(result, expires=moment)


def _lint_unit(
    kind: str,
    path: str,
    data: bytes,
    ruleset: RuleSet,
    *,
    siblings: dict[str, bytes] | None,
    chart: PreparedChart | None,
    memo: ParseMemo | None,
) -> UnitResult:
    ruleset = ruleset.for_path(path.rstrip("/") + "/" if kind == "chart" else path)
    settings = ruleset.settings
    findings: list[Finding] = []
    notes: list[Notification] = []
    annotations: dict[int, tuple[tuple[str, str], ...]] = {}
    # in test code only the rules declared `in-tests` run: an analyzer with none there is skipped,
    # and a file it cannot read is no finding (a broken fixture is often broken on purpose)
    analyzed = ruleset.parent is None or bool(ruleset.of(_TARGETS.get(kind, kind)))
    report_errors = PARSE_ERROR in ruleset.by_id

    def cannot(message: str, region: Region | None = None, note: str | None = None) -> None:
        if report_errors:
            findings.append(tool_finding(ruleset, PARSE_ERROR, path, message, region))
            notes.append(Notification(note or message, "error", path, PARSE_ERROR))

    if kind == "chart":
        from linter.helm.unit import analyze as analyze_chart

        if chart is None:
            raise ValueError("a chart unit needs its prepared chart (linter.helm.unit.prepare)")
        analysis = analyze_chart(chart, ruleset)
        if analysis.final:  # an invalid chart: no file a directive could be in was read
            return UnitResult(path, analysis.findings, analysis.notes)
        final = _suppressed_by_file(analysis.findings, analysis.annotations, analysis.text_of, ruleset)
        return UnitResult(path, tuple(sorted(final, key=Finding.sort_key)), analysis.notes)
    if kind == "cert":
        from linter.certs.files import analyze as analyze_cert

        if analyzed:
            findings.extend(analyze_cert(path, data, ruleset, siblings=siblings or {}))
        # PEM tolerates text outside its blocks: `# pitfall: ignore[...]` directives work there
        pem_text = data.decode("utf-8", "replace") if b"\x00" not in data else None
        final = suppress.apply(
            findings, path=path, text=pem_text, python=False, per_file_ignores=settings.per_file_ignores,
            rules=ruleset.by_id, all_ids=ruleset.all_ids,
        )
        return UnitResult(path, tuple(sorted(final, key=Finding.sort_key)), ())
    text, reason, where = decode(data, python=kind == "python")
    if text is None:
        cannot(f"cannot analyse {path}: {reason}", where, f"{path}: {reason}")
        return UnitResult(path, tuple(findings), tuple(notes))
    if kind == "python" and analyzed:
        from linter.python.analyzer import NotAnalysed, ParseError, generated
        from linter.python.analyzer import analyze as analyze_python

        if settings.exclude_generated and generated(text):
            # its findings would be fixed in what generates it (protoc, a client generator)
            return UnitResult(path, (), (), text.count("\n") + 1)
        try:
            findings.extend(analyze_python(path, text, ruleset.python, encoded=data, index=ruleset.index, memo=memo))
        except NotAnalysed as exc:
            notes.append(Notification(f"{path}: not analysed: {exc}", "warning", path))
        except ParseError as exc:
            cannot(f"cannot parse {path}: {exc}", Region.point(exc.line, exc.column))
        except RecursionError:
            cannot(f"cannot parse {path}: nesting too deep")
    elif kind == "yaml" and analyzed:
        from linter.kubernetes.objects import load_manifest

        manifest = load_manifest(text, json_mode=path.endswith(".json"))
        for message, region in manifest.problems:
            cannot(f"{path}: {message}", region)
        if manifest.objects:  # the Kubernetes rules compile on the first file with an object
            errors: list[tuple[str, Region]] = []
            for f, ignores, _ in ruleset.kubernetes.analyze_documents(path, manifest.objects, errors=errors):
                if ignores:
                    annotations[len(findings)] = ignores
                findings.append(f)
            for message, region in errors:
                notes.append(Notification(f"{path}:{region.line}: {message}", "error", path))
    final = suppress.apply(
        findings,
        path=path,
        text=text,
        python=kind == "python",
        per_file_ignores=settings.per_file_ignores,
        rules=ruleset.by_id,
        annotations=annotations,
        all_ids=ruleset.all_ids,
    )
    return UnitResult(path, tuple(sorted(final, key=Finding.sort_key)), tuple(notes), text.count("\n") + 1)


def _suppressed_by_file(
    findings: Sequence[Finding], annotations: dict[int, tuple[tuple[str, str], ...]], text_of: Callable[[str], str | None], ruleset: RuleSet
) -> list[Finding]:
    """Suppressions of a unit whose findings lie in several files (a chart: its templates,
    Chart.yaml), applied file by file with each file's text (``text_of``) and the findings'
    annotations (by index in ``findings``)."""
    out: list[Finding] = []
    by_file: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        by_file.setdefault(f.path, []).append(i)
    for path, idxs in sorted(by_file.items()):
        sub = [findings[i] for i in idxs]
        sub_ann = {j: annotations[i] for j, i in enumerate(idxs) if i in annotations}
        out.extend(
            suppress.apply(
                sub, path=path, text=text_of(path), python=False, per_file_ignores=ruleset.settings.per_file_ignores,
                rules=ruleset.by_id, annotations=sub_ann, all_ids=ruleset.all_ids,
            )
        )
    return out


def lint_text(path: str, text: str, ruleset: RuleSet, *, memo: ParseMemo | None = None) -> UnitResult:
    """In-memory text (the LSP server): kind from the file name."""
    from linter.core.discover import unit_kind

    kind = unit_kind(Path(path)) or "python"
    return lint_unit(kind, path, text.encode("utf-8", "surrogatepass"), ruleset, memo=memo)


# --------------------------------------------------------------------------- the runner

_WORKER: RuleSet | None = None
_PARENT = 0  # the process that runs the pool (its workers end with it)


class OverBudget(BaseException):
    """A unit ran over its time or memory budget (``unit-timeout``, ``unit-memory``); a
    BaseException, so that no ``except Exception`` of an analyzer swallows it."""


def _budget(settings: Settings) -> float:
    return float(getattr(settings, "unit_timeout", 0) or 0)


def _memory_budget(settings: Settings) -> int:
    """Bytes one unit may add to the resident memory (0: none, or no way to measure it here)."""
    mib = int(getattr(settings, "unit_memory", 0) or 0)
    return mib * 1024 * 1024 if mib > 0 and _resident() is not None else 0


def _resident() -> int | None:
    """This process's resident memory in bytes (Linux ``/proc/self/statm``), else None."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _over_budget_result(unit: Unit, ruleset: RuleSet, budget: float, memory: bool = False) -> UnitResult:
    if memory:
        mib = int(getattr(ruleset.settings, "unit_memory", 0) or 0)
        message = f"cannot analyse {unit.path}: the analysis needed over {mib} MiB of memory (unit-memory)"
    else:
        message = f"cannot analyse {unit.path}: the analysis took over {budget:g} s (unit-timeout)"
    f = tool_finding(ruleset, PARSE_ERROR, unit.path, message)
    return UnitResult(unit.path, (f,), (Notification(message, "error", unit.path, PARSE_ERROR),))


class _Watchdog:
    """Ends the unit in progress on the main thread once it is over ``budget`` seconds, or has
    grown the process's resident memory by more than ``memory`` bytes (polled every
    ``POLL`` seconds while a unit runs; 0: no memory limit).

    A timer thread sends SIGALRM to the main thread itself (``pthread_kill``): a process-wide
    alarm (``setitimer``) is delivered to whichever thread the kernel picks, and when that is
    not the main thread, a main thread blocked in a system call (a sleep, a lock, a read) is
    not woken and the unit runs on. The handler raises ``OverBudget`` only while the unit that
    ran over is still armed, so a signal that arrives after the unit finished is ignored.
    """

    POLL = 0.05

    def __init__(self, budget: float, memory: int = 0) -> None:
        import threading

        self.budget = budget
        self.memory = memory
        self.main = threading.main_thread().ident
        self.cond = threading.Condition()
        self.deadline: float | None = None
        self.baseline = 0
        self.armed = False
        self.fired = False
        self.over_memory = False
        self.closed = False
        self.thread = threading.Thread(target=self._watch, name="pitfall-unit-budget", daemon=True)

    def _watch(self) -> None:
        import time

        with self.cond:
            while not self.closed:
                if self.deadline is None:
                    self.cond.wait()
                    continue
                remaining = self.deadline - time.monotonic()
                if remaining > 0 and self.memory:
                    resident = _resident()
                    if resident is not None and resident - self.baseline > self.memory:
                        remaining = 0
                        self.over_memory = True
                if remaining > 0:
                    self.cond.wait(min(remaining, self.POLL) if self.memory else remaining)
                    continue
                self.deadline = None
                self.fired = True
                assert self.main is not None
                signal.pthread_kill(self.main, signal.SIGALRM)

    def arm(self) -> None:
        import time

        with self.cond:
            self.fired = False
            self.over_memory = False
            self.armed = True
            self.baseline = (_resident() or 0) if self.memory else 0
            self.deadline = time.monotonic() + (self.budget if self.budget > 0 else float("inf"))
            self.cond.notify()

    def disarm(self) -> None:
        with self.cond:
            self.armed = False
            self.deadline = None
            self.cond.notify()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.armed = False
            self.deadline = None
            self.cond.notify()

    def alarm(self, signum: int, frame: FrameType | None) -> None:
        if self.armed and self.fired:
            self.armed = False
            raise OverBudget()


@contextlib.contextmanager
def _budgeted(budget: float, memory: int = 0) -> Iterator[_Watchdog | None]:
    """A watchdog that raises ``OverBudget`` in this thread after ``budget`` seconds of one
    unit or ``memory`` bytes more resident memory (None where it cannot: no budget, off the
    main thread, or when someone else uses SIGALRM)."""
    import threading

    if (budget <= 0 and memory <= 0) or not hasattr(signal, "pthread_kill") or threading.current_thread() is not threading.main_thread():
        yield None
        return
    previous = signal.getsignal(signal.SIGALRM)
    if previous not in (signal.SIG_DFL, signal.SIG_IGN, None):
        yield None
        return
    watchdog = _Watchdog(budget, memory)
    signal.signal(signal.SIGALRM, watchdog.alarm)
    watchdog.thread.start()
    try:
        yield watchdog
    finally:
        watchdog.close()
        watchdog.thread.join()
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def budgeted_runner(ruleset: RuleSet) -> Iterator[Callable[[Unit, Callable[[], UnitResult]], UnitResult]]:
    """``within(unit, work)``: ``work()``, the analysis of ``unit``, under the unit budgets of
    ``ruleset`` (``unit-timeout``, ``unit-memory``) where this thread can enforce them; a unit
    over one becomes an LNT001 finding instead of its result."""
    budget = _budget(ruleset.settings)
    with _budgeted(budget, _memory_budget(ruleset.settings)) as watchdog:

        def within(unit: Unit, work: Callable[[], UnitResult]) -> UnitResult:
            if watchdog is None:
                return work()
            try:
                watchdog.arm()
                try:
                    return work()
                finally:
                    watchdog.disarm()
            except OverBudget:
                return _over_budget_result(unit, ruleset, budget, memory=watchdog.over_memory)

        yield within


def _lint_within(units: Sequence[Unit], ruleset: RuleSet, progress: Callable[[int], None] | None = None) -> list[UnitResult]:
    """``read_and_lint`` of each unit, each within its budgets: a unit over one becomes an
    LNT001 finding and the rest goes on."""
    out: list[UnitResult] = []
    with budgeted_runner(ruleset) as within:
        for unit in units:
            out.append(within(unit, lambda: read_and_lint(unit, ruleset)))  # called at once, with this unit
            if progress is not None:
                progress(1)
    return out


_LINT_GC_THRESHOLD = (50_000, 20, 20)


@contextlib.contextmanager
def lint_gc() -> Iterator[None]:
    """Garbage-collector settings for linting many files.

    Parsing allocates millions of short-lived objects (CPython's and libcst's syntax trees, which
    hold no reference cycles); with the default thresholds the collector runs thousands of times
    per run and scans every long-lived object (rules, compiled patterns, modules) each time.
    Freezing what exists before linting and collecting less often made the Python analysis 17%
    faster on the standard library. Forked workers inherit both settings; they are restored when
    the run ends. The language server's lint workers serve under them too.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*_LINT_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _die_with_parent() -> None:
    """In a worker: the kernel kills it when the run's process ends, however it ends (Linux)."""
    from linter.helm.pool import set_pdeathsig

    set_pdeathsig()
    if _PARENT and os.getppid() != _PARENT:  # the run ended before the signal was armed
        os._exit(1)


def _init_worker(settings: Settings, index: ProjectIndex | None = None, roots: tuple[str, ...] = (), named: tuple[str, ...] = ()) -> None:
    global _WORKER
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _WORKER is None or _WORKER.settings != settings:
        _WORKER = build_ruleset(settings)
        gc.freeze()  # a spawned worker: what it just built is long-lived
        gc.set_threshold(*_LINT_GC_THRESHOLD)
    if index is not None:
        _WORKER.index = index
    _WORKER.test_roots, _WORKER.named = roots, named


def conftest_roots(units: Sequence[Unit]) -> tuple[str, ...]:
    """Folders (``"a/b/"``) holding a ``conftest.py`` of the run, the scan root's own excepted
    (a conftest.py there often configures doctests for the whole project)."""
    roots = {u.path[: -len("conftest.py")] for u in units if u.kind == "python" and u.path.endswith("/conftest.py")}
    return tuple(sorted(r for r in roots if r and not r.startswith("/")))


def project_index(units: Sequence[Unit], ruleset: RuleSet, jobs: int = 1, prefetch: Prefetch | None = None) -> ProjectIndex | None:
    """The signature index of the run's Python units (None when no selected rule reads it);
    with ``jobs`` > 1 the files are parsed in that many processes when there is enough to parse.
    ``prefetch``: signatures computed ahead (only those of files whose bytes did not change since
    are taken)."""
    on_code, on_tests = ruleset.reads_index()
    if not on_code:
        return None
    compute = _parallel_signatures(jobs) if jobs > 1 else None
    if prefetch is not None:
        compute = prefetch.compute(compute)

    def callee_only(path: str) -> bool:
        """No rule that reads the index runs on ``path`` (test code, by default)."""
        return not on_tests and ruleset.for_path(path) is not ruleset

    if ruleset.cache is not None:  # the same index, only the files that changed scanned again
        return ruleset.cache.project_index(units, ruleset.settings.max_file_size, compute, callee_only)
    from linter.python.index import index_units

    return index_units(units, max_file_size=ruleset.settings.max_file_size, compute=compute, callee_only=callee_only)


#: below this many bytes to parse, starting processes costs more than parsing in this one
_PARALLEL_INDEX_BYTES = 1 << 18
#: what forked index workers parse: ``(data, path)`` pairs, inherited, never pickled
_INDEX_ITEMS: Sequence[tuple[bytes, str]] = ()


def _init_index_worker() -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _index_span(span: tuple[int, int]) -> list[Any]:
    from linter.python.index import file_signatures

    return [file_signatures(*_INDEX_ITEMS[i]) for i in range(*span)]


def _parallel_signatures(jobs: int) -> Callable[[Sequence[tuple[bytes, str]]], list[Any]]:
    """``index_units``'s ``compute``: the files' signatures parsed by ``jobs`` forked processes
    (contiguous spans, so the answers come back in order); in this process when there is little
    to parse, when the platform cannot fork or when the processes cannot be started."""

    def compute(items: Sequence[tuple[bytes, str]]) -> list[Any]:
        from linter.python.index import compute_serially

        global _INDEX_ITEMS, _PARENT
        import multiprocessing

        total = sum(len(data) for data, _path in items)
        if total < _PARALLEL_INDEX_BYTES or "fork" not in multiprocessing.get_all_start_methods():
            return compute_serially(items)
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        step = max(1, total // (jobs * 6))  # a few spans per process: they end close together
        spans: list[tuple[int, int]] = []
        start, size = 0, 0
        for i, (data, _path) in enumerate(items):
            size += len(data)
            if size >= step:
                spans.append((start, i + 1))
                start, size = i + 1, 0
        if start < len(items):
            spans.append((start, len(items)))
        _PARENT, _INDEX_ITEMS = os.getpid(), items
        try:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=min(jobs, len(spans)), mp_context=ctx, initializer=_init_index_worker) as pool:
                out: list[Any] = []
                for part in pool.map(_index_span, spans):
                    out.extend(part)
                return out
        except (OSError, BrokenProcessPool):  # no processes (EAGAIN, ENOMEM) or one died: parse here
            return compute_serially(items)
        finally:
            _INDEX_ITEMS = ()

    return compute


#: the Python files the prefetch's forked processes index: ``(path, abspath)``, inherited
_PREFETCH_FILES: Sequence[tuple[str, str]] = ()
#: below this many Python files (test code left out), a run does not prefetch signatures
_PREFETCH_MIN_FILES = 16


def _prefetch_share(share: int, shares: int, max_file_size: int, conn: Any) -> None:
    """In a forked process: the signatures of every ``shares``-th file of ``_PREFETCH_FILES``
    from ``share`` on, sent as ``(path, size, hash of the bytes, signatures)``; the bytes' hash
    is the parent's own (a forked process has its hash seed)."""
    from linter.python.index import file_signatures, may_define, read_source

    _init_index_worker()
    out: list[tuple[str, int, int, Any]] = []
    try:
        for path, abspath in _PREFETCH_FILES[share::shares]:
            data = read_source(abspath, max_file_size)
            if data is not None and may_define(data):
                out.append((path, len(data), hash(data), file_signatures(data, path)))
        conn.send(out)
    finally:
        conn.close()


class Prefetch:
    """The signatures of a run's Python files, computed in forked processes while this one
    imports libcst and compiles the rules: the index reads CPython's ``ast`` only, so both go
    on at once. Test code is left out (the index parses it only where a caller can reach it).
    The index takes a file's prefetched signatures when its bytes are those the process read,
    and computes the others as it would have."""

    def __init__(self, files: Sequence[tuple[str, str]], jobs: int, max_file_size: int) -> None:
        import multiprocessing

        global _PREFETCH_FILES, _PARENT
        ctx = multiprocessing.get_context("fork")
        self.children: list[tuple[Any, Any]] = []
        self.found: dict[str, tuple[int, int, Any]] | None = None
        _PARENT, _PREFETCH_FILES = os.getpid(), files
        try:
            for share in range(jobs):
                mine, theirs = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_prefetch_share, args=(share, jobs, max_file_size, theirs), daemon=True, name="pitfall-index")
                process.start()
                theirs.close()
                self.children.append((process, mine))
        except OSError:  # no process (EAGAIN, ENOMEM): the index computes what the others did not
            pass
        finally:
            _PREFETCH_FILES = ()

    @classmethod
    def start(cls, units: Sequence[Unit], ruleset: RuleSet, jobs: int) -> Prefetch | None:
        """A prefetch of ``units``' signatures when they are enough to be worth the processes
        (and the platform can fork); None otherwise. Only ``ruleset``'s settings and test paths
        are read (its rules may not be loaded yet: ``ahead``)."""
        import multiprocessing

        if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return None
        files = [(u.path, u.abspath) for u in units if u.kind == "python" and u.path.endswith(".py") and not ruleset.is_test_path(u.path)]
        if len(files) < _PREFETCH_MIN_FILES:
            return None
        return cls(files, max(1, jobs - 1), ruleset.settings.max_file_size)

    def _collect(self) -> dict[str, tuple[int, int, Any]]:
        if self.found is None:
            self.found = {}
            for process, conn in self.children:
                try:
                    for path, size, digest, sigs in conn.recv():
                        self.found[path] = (size, digest, sigs)
                except (EOFError, OSError, ValueError):  # the process died: its files are computed here
                    pass
            self.close()
        return self.found

    def compute(self, rest: Callable[[Sequence[tuple[bytes, str]]], list[Any]] | None) -> Callable[[Sequence[tuple[bytes, str]]], list[Any]]:
        """``index_units``'s ``compute``: the prefetched signatures, ``rest`` (default: in this
        process) for the files the prefetch did not read as they are now."""

        def compute(items: Sequence[tuple[bytes, str]]) -> list[Any]:
            from linter.python.index import compute_serially

            found = self._collect()
            out: list[Any] = [None] * len(items)
            todo: list[tuple[bytes, str]] = []
            where: list[int] = []
            for k, (data, path) in enumerate(items):
                known = found.get(path)
                if known is not None and known[0] == len(data) and known[1] == hash(data):
                    out[k] = known[2]
                else:
                    todo.append((data, path))
                    where.append(k)
            if todo:
                for k, sigs in zip(where, (rest or compute_serially)(todo)):
                    out[k] = sigs
            return out

        return compute

    def close(self) -> None:
        """End the processes (they are done, or their work is not wanted)."""
        for process, conn in self.children:
            with contextlib.suppress(OSError):
                conn.close()
            if process.is_alive():
                process.kill()
            process.join()
        self.children = []


def _lint_chart(unit: Unit, ruleset: RuleSet) -> UnitResult:
    """A chart unit's I/O edge, as ``read_and_lint`` is a file's: the chart is prepared (read and
    rendered with every value set) and handed to the pure core. ``ruleset``: the rule set for the
    chart's path."""
    from linter.helm.unit import chart_edge, prepare

    with chart_edge(unit, ruleset):
        return lint_unit("chart", unit.path, b"", ruleset, chart=prepare(unit, ruleset))


def read_and_lint(unit: Unit, ruleset: RuleSet) -> UnitResult:
    settings = ruleset.settings
    cache = ruleset.cache
    if ruleset.index is None and unit.kind == "python" and ruleset.reads_index()[0]:
        # called without `run` (the rule-example runner): this unit's index (its imports are
        # followed on disk), for this call only
        ruleset.index = project_index([unit], ruleset)
        try:
            return read_and_lint(unit, ruleset)
        finally:
            ruleset.index = None
    if unit.kind == "chart":
        ruleset = ruleset.for_path(unit.path.rstrip("/") + "/")
        if ruleset.parent is not None and not (ruleset.of("kubernetes") or ruleset.of("chart")):
            return UnitResult(unit.path, ())  # a chart in test code: no rule of its kinds runs there
        if cache is not None:
            chart_rules = ruleset
            return cache.lint_chart(unit, ruleset.parent or ruleset, lambda: _lint_chart(unit, chart_rules))
        return _lint_chart(unit, ruleset)
    from linter.core.discover import Unreadable, read_file

    try:
        data = read_file(unit.abspath, settings.max_file_size)
    except Unreadable as exc:
        if exc.too_big:
            msg = f"{unit.path}: skipped, {exc.reason}"
            return UnitResult(unit.path, (), (Notification(msg, "warning", unit.path),))
        f = tool_finding(ruleset, PARSE_ERROR, unit.path, f"cannot read {unit.path}: {exc.reason}")
        return UnitResult(unit.path, (f,), (Notification(f.message, "error", unit.path, PARSE_ERROR),))
    siblings = None
    if unit.kind == "cert":
        from linter.certs.siblings import read_siblings

        siblings = read_siblings(unit.abspath, settings.max_file_size)
    if cache is not None:  # stored under the hash of the very bytes analysed
        return cache.lint_file(unit, data, ruleset, lambda: lint_unit(unit.kind, unit.path, data, ruleset, siblings=siblings), siblings)
    return lint_unit(unit.kind, unit.path, data, ruleset, siblings=siblings)


def _work(units: Sequence[Unit]) -> list[UnitResult]:
    assert _WORKER is not None
    return _lint_within(units, _WORKER)


def _work_alone(unit: Unit, conn: Any, init: tuple[Any, ...]) -> None:
    """One unit in a process of its own (after a worker died): the result goes down ``conn``."""
    if _WORKER is None:  # spawned, not forked
        _init_worker(*init)
    else:
        _die_with_parent()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert _WORKER is not None
    conn.send(_lint_within([unit], _WORKER)[0])
    conn.close()


def _isolated(units: Sequence[Unit], ruleset: RuleSet, ctx: Any, jobs: int, init: tuple[Any, ...], progress: Callable[[int], None] | None = None) -> dict[str, UnitResult]:
    """Lint each unit in a process of its own, ``jobs`` at a time: a unit that kills its process
    (a native crash, the kernel's OOM killer) becomes an LNT001 finding and nothing else is lost."""
    import time

    budget = _budget(ruleset.settings)
    out: dict[str, UnitResult] = {}
    pending = list(units)
    running: list[tuple[Unit, Any, Any, float]] = []
    while pending or running:
        while pending and len(running) < jobs:
            unit = pending.pop(0)
            receive, send = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_work_alone, args=(unit, send, init), daemon=True)
            process.start()
            send.close()
            running.append((unit, process, receive, time.monotonic()))
        unit, process, receive, started = running.pop(0)
        over = False
        try:
            if budget > 0 and not receive.poll(max(0.0, started + budget - time.monotonic())):
                over = True  # over its budget (even stuck in native code): it ends here
                process.kill()
                result = None
            else:
                result = receive.recv()
        except (EOFError, OSError):
            result = None
        process.join()
        receive.close()
        if over:
            result = _over_budget_result(unit, ruleset, budget)
        elif result is None:
            message = f"cannot analyse {unit.path}: the analysis crashed (its process ended with exit code {process.exitcode})"
            f = tool_finding(ruleset, PARSE_ERROR, unit.path, message)
            result = UnitResult(unit.path, (f,), (Notification(message, "error", unit.path, PARSE_ERROR),))
        out[unit.path] = result
        if progress is not None:
            progress(1)
    return out


def prestart_renderers(units: Sequence[Unit], settings: Settings) -> None:
    """Start the Helm renderer processes a run of ``units`` will use, ahead of time: their
    start-up then overlaps the caller's (loading packs, compiling rules)."""
    charts = sum(1 for u in units if u.kind == "chart")
    helm = settings.helm
    if not charts:
        return
    from linter.helm.pool import prestart
    from linter.helm.tempdirs import own_temp_root

    own_temp_root()  # the run's temporary chart copies: removed however the run ends
    if helm.timeout <= 0 or helm.backend == "helm":
        return
    import multiprocessing

    jobs = _pool_size(settings.jobs, units)
    pooled = _pooled(units, jobs) and "fork" in multiprocessing.get_all_start_methods()
    prestart(min(jobs, charts) if pooled else 1)


def _pooled(units: Sequence[Unit], jobs: int) -> bool:
    # a pool costs ~0.1 s to start: not worth it for a handful of files (the pre-commit case)
    return jobs > 1 and len(units) >= 8


def _pool_size(requested: int, units: Sequence[Unit]) -> int:
    """Workers for a run: ``--jobs`` (default: the cores), never more than the cores or the units
    (`--jobs 1000` for ten files starts no idle workers)."""
    return max(1, min(requested or _cores(), _cores(), len(units)))


def _cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: how much of a YAML or JSON file the parent reads to tell whether the Kubernetes rules are needed
_OBJECT_PROBE = 64 * 1024


def _may_hold_objects(units: Iterable[Unit]) -> bool:
    """Whether one of these YAML or JSON files may hold a Kubernetes object (its first bytes
    write ``apiVersion``): then the parent compiles the Kubernetes rules once for the workers it
    forks. A file that does not say so early (or spells the key with escapes) is analysed all
    the same: its worker compiles the rules itself when it finds an object."""
    from linter.core.discover import Unreadable, read_head

    for unit in units:
        try:
            head = read_head(unit.abspath, _OBJECT_PROBE)
        except Unreadable:
            continue
        if b"apiVersion" in head:
            return True
    return False


def run(
    units: Sequence[Unit],
    ruleset: RuleSet,
    *,
    jobs: int = 0,
    index: ProjectIndex | None = None,
    progress: Callable[[int], None] | None = None,
    context: Sequence[Unit] | None = None,
    prefetch: Prefetch | None = None,
) -> list[UnitResult]:
    """Lint every unit; results come back in the units' order (the output is byte-stable).

    ``index``: a signature index the caller already has (an incremental run); else one is built
    from ``units`` when a selected rule needs it. ``progress``: called in this process with the
    number of units just completed, as they complete (in the pool or not). ``context``: the
    run's whole set of units when ``units`` is a part of it (``conftest.py`` files mark test code);
    a part holds no Python unit, or all of them (the signature index is built from ``units``).
    ``prefetch``: the index's signatures, started before the packs were loaded (``ahead``).
    """
    jobs = _pool_size(jobs, units)
    kinds = {u.kind for u in units}
    ruleset.test_roots = conftest_roots(context if context is not None else units)
    if "python" in kinds and index is None and _pooled(units, jobs) and (ruleset.cache is None or not ruleset.cache.has_index()):
        prefetch = prefetch or Prefetch.start(units, ruleset, jobs)  # the index's parse, while libcst is imported below
    elif prefetch is not None:
        prefetch.close()
        prefetch = None
    try:
        if ruleset.cache is None:
            _compile_for(units, ruleset)  # else only for the units the cache does not answer (`_run`)
        with lint_gc():
            if "python" in kinds and ruleset.reads_index()[0]:
                # first pass: the project's signature index, an input of every unit's analysis
                ruleset.index = index if index is not None else project_index(units, ruleset, jobs if _pooled(units, jobs) else 1, prefetch)
    finally:
        if prefetch is not None:
            prefetch.close()  # done, or its work is not wanted: it ends before any pool forks
    with lint_gc():
        if ruleset.cache is not None:  # units whose inputs did not change come from the cache
            return ruleset.cache.run(units, ruleset, lambda todo: _run(todo, ruleset, jobs, progress), progress)
        return _run(units, ruleset, jobs, progress)


def _compile_for(units: Sequence[Unit], ruleset: RuleSet) -> None:
    """Compile the rules ``units`` need here, before any worker is forked (they inherit them)."""
    kinds = {u.kind for u in units}
    if "python" in kinds:
        ruleset.python
    if "chart" in kinds or ("yaml" in kinds and _may_hold_objects(u for u in units if u.kind == "yaml")):
        ruleset.kubernetes


def ahead(units: Sequence[Unit], settings: Settings, named: tuple[str, ...], load: Callable[[], T]) -> tuple[T, Prefetch | None]:
    """``load()`` (the packs) for a run of ``units`` known before it, and the run's ``prefetch``.

    A run's start-up is serial: the packs are parsed, then the analyzers are imported (libcst
    alone is most of a small repository's run), then the rules compiled. With cores to spare,
    ``load`` runs in a forked child while this process imports the analyzers, and the index's
    signatures are prefetched (forked) meanwhile; the child's value is taken as it is (a child
    that fails leaves ``load`` to this process, which then reports any error)."""
    from linter.core.forked import Forked

    kinds = {u.kind for u in units}
    python = "python" in kinds
    if not (python or "yaml" in kinds or "chart" in kinds) or min(settings.jobs or _cores(), _cores()) < 2:
        return load(), None
    child = Forked.start(load)  # first: the packs are what this process waits for
    probe = RuleSet(settings, [], [], [])  # no rules yet: what is test code is known without them
    probe.named, probe.test_roots = named, conftest_roots(units)
    jobs = _pool_size(settings.jobs, units)
    prefetch = None
    try:
        if python and _pooled(units, jobs):
            prefetch = Prefetch.start(units, probe, jobs)
        if python:
            import linter.python.analyzer  # noqa: F401 - what the child's time is spent beside
        if "chart" in kinds:
            import linter.kubernetes.analyzer  # noqa: F401
        elif "yaml" in kinds:  # each file is read for objects: the reader is imported once here, not in every worker
            import linter.kubernetes.objects  # noqa: F401
        value = child.result() if child is not None else None
        return (value if value is not None else load()), prefetch
    except BaseException:  # invalid packs, Ctrl-C: the run ends here
        if prefetch is not None:
            prefetch.close()
        if child is not None:
            child.cancel()
        raise


def _run(units: Sequence[Unit], ruleset: RuleSet, jobs: int, progress: Callable[[int], None] | None = None) -> list[UnitResult]:
    if ruleset.cache is not None:  # the units the cache did not answer
        prestart_renderers(units, ruleset.settings)
        _compile_for(units, ruleset)
    if not _pooled(units, jobs):
        return _lint_within(units, ruleset, progress)
    with _terminate_as_interrupt():
        return _run_pool(units, ruleset, jobs, progress)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM while the pool runs ends it like Ctrl-C (workers ended, temporary folders
    removed at exit) instead of killing this process alone."""
    import threading

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _batches(files: Sequence[Unit], jobs: int) -> list[list[Unit]]:
    """``files`` in the batches the pool hands out, largest files first: a batch holds up to 16
    files and about an eighth of a worker's share of the bytes, so a large file goes alone, the
    batches that end the run are the smallest, and the workers end together."""
    sized = sorted(((_size(u), u) for u in files), key=lambda p: p[0], reverse=True)
    share = max(1, sum(size for size, _ in sized) // (jobs * 8))
    batches: list[list[Unit]] = []
    batch: list[Unit] = []
    held = 0
    for size, unit in sized:
        batch.append(unit)
        held += size
        if held >= share or len(batch) == 16:
            batches.append(batch)
            batch, held = [], 0
    if batch:
        batches.append(batch)
    return batches


def _size(unit: Unit) -> int:
    """The bytes of a unit's file (0 when it cannot be looked at: reading it will say why)."""
    try:
        return os.stat(unit.abspath).st_size
    except (OSError, ValueError):
        return 0


def _run_pool(units: Sequence[Unit], ruleset: RuleSet, jobs: int, progress: Callable[[int], None] | None = None) -> list[UnitResult]:
    global _WORKER, _PARENT
    import time
    from concurrent.futures import FIRST_COMPLETED, wait

    _PARENT = os.getpid()
    _WORKER = ruleset  # inherited by forked workers; spawned ones rebuild it in the initializer
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    charts = [u for u in units if u.kind == "chart"]
    # charts first and one at a time: they are the longest units
    batches = [[c] for c in charts] + _batches([u for u in units if u.kind != "chart"], jobs)
    init = (ruleset.settings, ruleset.index, ruleset.test_roots, ruleset.named)
    results: dict[str, UnitResult] = {}
    failed: OSError | None = None
    before = set(multiprocessing.active_children())
    try:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker, initargs=init)
    except OSError as exc:
        return _in_process(units, ruleset, exc, progress)
    with pool:
        try:
            try:
                futures = [pool.submit(_work, batch) for batch in batches]  # the first submit starts the workers
            except OSError as exc:  # fork failed (EAGAIN, ENOMEM): the workers it did start would wait forever
                failed, futures = exc, []
                for process in set(multiprocessing.active_children()) - before:
                    process.kill()  # SIGKILL: a child forked while SIGTERM is ours would take it as Ctrl-C
                    process.join()
            # in a worker, an alarm ends a unit over its budget; a batch still running after two
            # budgets has a unit stuck where no alarm reaches (native code): the pool ends, and
            # what is left runs unit by unit below, each killed when over its budget
            budget = _budget(ruleset.settings)
            sizes = {future: len(batch) for future, batch in zip(futures, batches)}
            started: dict[Any, float] = {}
            waiting = list(futures)
            while waiting:
                window = waiting[:jobs]  # those running (batches run in submission order)
                now = time.monotonic()
                for future in window:
                    started.setdefault(future, now)
                timeout = None
                if budget > 0:
                    timeout = max(0.0, min(started[f] + budget * min(sizes[f], 2) + 1.0 for f in window) - now)
                done, _ = wait(window, timeout=timeout, return_when=FIRST_COMPLETED)
                if not done:
                    _end_workers(multiprocessing, pool)
                    for future in waiting:  # batches that finished meanwhile are kept
                        if future.done() and not future.cancelled() and future.exception() is None:
                            results.update((r.path, r) for r in future.result())
                    break
                try:
                    for future in done:
                        for r in future.result():
                            results[r.path] = r
                        if progress is not None:
                            progress(sizes[future])
                except BrokenProcessPool:
                    break  # a worker died: what is left runs unit by unit below
                waiting = [f for f in waiting if f not in done]
        except KeyboardInterrupt:
            # workers ignore SIGINT: end them now rather than wait for their batches
            _end_workers(multiprocessing, pool)
            raise
    if failed is not None:
        return _in_process(units, ruleset, failed, progress)
    left = [u for u in units if u.path not in results]
    if left:
        try:
            results.update(_isolated(left, ruleset, ctx, jobs, init, progress))
        except OSError as exc:  # no process could be started for them
            results.update((r.path, r) for r in _in_process(left, ruleset, exc, progress))
    return [results[u.path] for u in units]


def _end_workers(multiprocessing: Any, pool: ProcessPoolExecutor) -> None:
    for process in multiprocessing.active_children():
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _in_process(units: Sequence[Unit], ruleset: RuleSet, exc: OSError, progress: Callable[[int], None] | None = None) -> list[UnitResult]:
    """Lint ``units`` in this process, after worker processes could not be started; a notice
    (on the first unit's result) says so."""
    results = _lint_within(units, ruleset, progress)
    if results:
        why = exc.strerror or str(exc)
        note = Notification(f"cannot start worker processes ({why}): linted in one process instead", "warning")
        first = results[0]
        results[0] = UnitResult(first.path, first.findings, (note, *first.notifications), first.source_lines)
    return results


def sort_findings(results: Iterable[UnitResult]) -> list[Finding]:
    out = [f for r in results for f in r.findings]
    return sorted(out, key=Finding.sort_key)

