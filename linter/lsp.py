"""``pitfall lsp``: the language server (pygls v2) around the pure core.

didOpen/didChange start a lint of the document on a thread (one lint of a document at a time; of
the versions that arrive meanwhile only the newest is linted next), linted
from the in-memory text with ``engine.lint_text`` in a worker process (:mod:`linter.core.workers`:
a unit that crashes or runs over ``unit-timeout``/``unit-memory`` is an ``LNT001`` diagnostic and
the server lives on) and published as diagnostics; the
1-based, end-exclusive ``Region`` becomes a 0-based LSP range here and only here (in the
client's position encoding). A file inside a Helm chart (a template, ``_helpers.tpl``,
``values.yaml``) renders its whole chart after a pause in typing (``CHART_DEBOUNCE``), with the unsaved text of
every open file of the chart in place of the file on disk (``helm.OVERRIDES``); the findings are
published on each file of the chart they land on. Suppressed findings are not published. Code
actions: the finding's fix (a YAML manifest's computed after its lint, :mod:`linter.kubernetes.yamlfix`; a
chart's hint edits ``values.yaml``), and an ``ignore`` directive for its line. Settings come from the workspace
root and are reloaded when a watched config file changes; an invalid config is shown to the
user and the server goes on with the default settings.

Hostile input: a document over ``max-file-size`` (UTF-8 bytes, the CLI's cap) is not linted; it
gets one information diagnostic saying so. Each lint runs on its own thread with a rule set of
its own, so a long one never holds up another document (manifests and charts still take turns);
a document gets one lint at a time, and of the versions that arrive meanwhile only the newest
is linted. Every request is answered: one whose params do not fit its type gets InvalidParams
(-32602), a message that is not a request InvalidRequest (-32600), a body that is not JSON a
parse error (pygls would log these and leave the client waiting).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest, JsonRpcParseError
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import PositionCodec
from pygls.workspace.position_codec import ServerTextPosition

from linter import __version__
from linter.core.config import Settings, load_settings
from linter.core.discover import PYTHON_SUFFIXES, YAML_SUFFIXES, chart_root, display_path, unit_kind
from linter.report.docs import rule_url
from linter.core.engine import RuleSet, build_ruleset
from linter.core.model import Finding, Region
from linter.core.packs import PackError
from linter.core.suppress import DIRECTIVE
from linter.core.workers import Request, Workers
from linter.kubernetes.yamlfix import attach as yaml_fixes

# seconds of quiet typing before a lint starts: none for a document (a lint under way and the
# newest version waiting for it are all there is, so typing never queues lints up); a chart
# renders every template, so it waits for a pause
DEBOUNCE = 0.0
CHART_DEBOUNCE = 0.3
CONFIG_FILES = ("pyproject.toml", ".pitfall.toml")
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning, "note": lsp.DiagnosticSeverity.Information}
LANGUAGE_SUFFIX = {"python": ".py", "yaml": ".yaml", "json": ".json"}
UNSUPPRESSIBLE = frozenset({"LNT001", "LNT003"})  # parse errors and unused directives: no directive silences them
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # LSP line breaks: \n, \r\n, \r


@dataclass(frozen=True, slots=True)
class Entry:
    """One published diagnostic and the code actions computed from the same text."""

    diagnostic: lsp.Diagnostic
    # (title, preferred, edits, the document they edit: None for the diagnostic's own)
    actions: tuple[tuple[str, bool, tuple[lsp.TextEdit, ...], str | None], ...]


@dataclass(frozen=True, slots=True)
class Snapshot:
    uri: str
    path: str  # file system path, or a made-up name for an unsaved document
    version: int | None
    text: str


def _position(lines: Sequence[str], line: int, column: int, codec: PositionCodec) -> lsp.Position:
    """1-based code-point (line, column) -> 0-based LSP position in the client's units."""
    return codec.position_to_client_units(lines, ServerTextPosition(max(line - 1, 0), max(column - 1, 0)))


def _range(lines: Sequence[str], r: Region, codec: PositionCodec) -> lsp.Range:
    return lsp.Range(_position(lines, r.line, r.column, codec), _position(lines, r.end_line, r.end_column, codec))


def _ignore_edit(lines: Sequence[str], f: Finding, codec: PositionCodec) -> lsp.TextEdit | None:
    """``  # pitfall: ignore[ID]`` at the end of the finding's line, or ``, ID`` in the directive already there."""
    if not 0 < f.region.line <= len(lines):
        return None
    content = lines[f.region.line - 1].rstrip("\r\n")
    if content.rstrip().endswith("\\"):
        return None  # a comment after a line continuation would break the code
    m = DIRECTIVE.search(content)
    if m and m.group("kind") == "ignore" and m.group("codes") is not None:
        col, text = m.end("codes"), (", " if m.group("codes").strip() else "") + f.rule_id
    else:
        col, text = len(content), f"  # pitfall: ignore[{f.rule_id}]"
    at = _position(lines, f.region.line, col + 1, codec)
    return lsp.TextEdit(lsp.Range(at, at), text)


def to_entries(
    findings: Sequence[Finding], text: str, codec: PositionCodec, other: Callable[[str], tuple[str, str] | None] | None = None
) -> list[Entry]:
    """Diagnostics (and their code actions) for the unsuppressed findings of one file.
    ``other(path)``: (uri, text) of another file a fix edits (a chart's values.yaml), or None
    when it cannot be edited safely from here."""
    lines = _LINE.findall(text)
    out = []
    for f in findings:
        if f.suppression is not None:
            continue
        diag = lsp.Diagnostic(
            range=_range(lines, f.region, codec),
            message=f.message,
            severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Warning),
            code=f.rule_id,
            code_description=lsp.CodeDescription(href=rule_url(f.rule_id)),
            source="pitfall",
            tags=[lsp.DiagnosticTag.Unnecessary] if f.rule_id == "LNT003" else None,
        )
        actions: list[tuple[str, bool, tuple[lsp.TextEdit, ...], str | None]] = []
        if f.fix is not None and f.fix.edits:
            title = f"Fix: {f.fix.title}" + (" (unsafe)" if f.fix.applicability == "unsafe" else "")
            target = None if f.fix.path is None or other is None else other(f.fix.path)
            if f.fix.path is None:
                edits = tuple(lsp.TextEdit(_range(lines, e.region, codec), e.text) for e in f.fix.edits)
                actions.append((title, f.fix.applicability == "safe", edits, None))
            elif target is not None:
                target_lines = _LINE.findall(target[1])
                edits = tuple(lsp.TextEdit(_range(target_lines, e.region, codec), e.text) for e in f.fix.edits)
                actions.append((title, f.fix.applicability == "safe", edits, target[0]))
        ignore = None if f.rule_id in UNSUPPRESSIBLE else _ignore_edit(lines, f, codec)
        if ignore is not None:
            actions.append((f"Ignore {f.rule_id} on this line", False, (ignore,), None))
        out.append(Entry(diag, tuple(actions)))
    return out


@dataclass(frozen=True, slots=True)
class Rejected:
    """A message that could not be read (malformed or ill-typed params). A request is answered
    with ``error`` instead of being dropped, so the client never waits for ever; a notification
    or response (``error`` None) is only logged."""

    id: int | str | None
    error: lsp.ResponseError | None


def _rejection(data: Any, exc: Exception | None) -> Rejected:
    """What to answer to the message ``data`` that failed to structure (or is no JSON-RPC object)."""
    if not isinstance(data, dict) or ("id" not in data and "method" in data):
        return Rejected(None, None if isinstance(data, dict) else JsonRpcInvalidRequest().to_response_error())
    raw_id = data.get("id")
    msg_id = raw_id if isinstance(raw_id, (int, str)) and not isinstance(raw_id, bool) else None
    method = data.get("method")
    if "method" not in data and msg_id is not None and data.get("jsonrpc") == "2.0":
        return Rejected(None, None)  # a broken response to one of our requests: nothing to answer
    if msg_id is None or not isinstance(method, str) or data.get("jsonrpc") != "2.0":
        return Rejected(msg_id, JsonRpcInvalidRequest().to_response_error())
    detail = f"{JsonRpcInvalidParams.MESSAGE}: {method}: {_why_invalid(exc)}" if exc is not None else JsonRpcInvalidParams.MESSAGE
    return Rejected(msg_id, lsp.ResponseError(code=JsonRpcInvalidParams.CODE, message=detail))


def _why_invalid(exc: BaseException | None) -> str:
    """A one-line reason from cattrs' nested validation errors."""
    cause = exc.__cause__ if exc is not None and exc.__cause__ is not None else exc
    try:
        from cattrs import transform_error

        reasons = transform_error(cause) if cause is not None else []  # type: ignore[arg-type]
    except Exception:
        reasons = []
    text = "; ".join(reasons[:3]) if reasons else (str(cause) if cause is not None else "")
    return text[:500] or "malformed parameters"


class PitfallProtocol(LanguageServerProtocol):
    """pygls' protocol, except that no request goes unanswered.

    pygls structures each message inside ``json.loads`` (``structure_message`` is the
    ``object_hook``); when the params do not fit the method's type it raises
    ``JsonRpcInvalidParams`` there, and its reading loop only logs it: the request gets no
    response. Here such a request becomes a :class:`Rejected` that ``handle_message`` answers
    with -32602 (InvalidParams), or -32600 (InvalidRequest) when the id or method is bad; a
    body that is no JSON-RPC object, and a request after shutdown, get -32600 as well."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            # Not raised: this may be a dict nested in the message (the hook sees those first),
            # and raising would drop the whole message unanswered. The enclosing message then
            # fails to structure in turn and is answered.
            return _rejection(data, exc)

    def handle_message(self, message: Any) -> None:
        if not isinstance(message, Rejected) and not hasattr(message, "jsonrpc"):
            message = _rejection(message, None)  # a JSON array, string or number, or an object without "jsonrpc"
            if message.error is None:
                message = Rejected(None, JsonRpcInvalidRequest().to_response_error())
        if isinstance(message, Rejected):
            if message.error is not None:
                self.answer_error(message.id, message.error)
            return
        method = getattr(message, "method", None)
        msg_id = getattr(message, "id", None)
        if self._shutdown and method is not None and msg_id is not None and method != "exit":
            error = lsp.ResponseError(code=JsonRpcInvalidRequest.CODE, message="Invalid Request: the server is shutting down")
            self.answer_error(msg_id, error)
            return
        super().handle_message(message)

    def answer_error(self, msg_id: int | str | None, error: lsp.ResponseError) -> None:
        """An error response; with ``"id": null`` when the request's id could not be read (the
        attrs message would leave the member out, and JSON-RPC requires it)."""
        if msg_id is not None:
            self._send_response(msg_id, None, error)
            return
        body: dict[str, Any] = {"code": error.code, "message": error.message}
        if error.data is not None:
            body["data"] = error.data
        self._send_data({"jsonrpc": "2.0", "id": None, "error": body})


def _resolved(path: str | None) -> str:
    return str(Path(path).resolve()) if path else ""


def _over_limit(text: str, limit: int) -> Entry | None:
    """The "not analysed" diagnostic for a document over ``max-file-size`` (UTF-8 bytes, as
    the CLI counts them on disk), or None. Linting a huge buffer takes minutes and gigabytes."""
    if len(text) <= limit // 4:
        return None  # at most 4 bytes a code point: certainly under
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    message = (
        f"pitfall: not analysed: {size} bytes is over the max-file-size limit of {limit} bytes "
        "(raise `max-file-size` in the configuration to lint this file)"
    )
    start = lsp.Position(0, 0)
    diag = lsp.Diagnostic(range=lsp.Range(start, start), message=message, severity=lsp.DiagnosticSeverity.Information, source="pitfall")
    return Entry(diag, ())


def _key(d: lsp.Diagnostic) -> tuple[Any, ...]:
    r = d.range
    return (str(d.code), r.start.line, r.start.character, r.end.line, r.end.character, d.message)


class PitfallServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("pitfall", __version__, protocol_cls=PitfallProtocol)
        self.root = Path.cwd()
        self.settings = Settings(root=str(self.root))
        self.ruleset: RuleSet | None = None
        self.config_error: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.timers: dict[str, threading.Timer] = {}
        # Compiled rules are not shared between threads: each lint checks out a rule set of its
        # own (a clone of self.ruleset, compiled on first use and kept for the next lint), so a
        # long lint never holds up another document. Manifests and charts still go one at a
        # time: the Kubernetes checks keep module-level one-object caches
        # (kubernetes/pss.py, kubernetes/certificates.py) that are not safe across threads.
        self.state_lock = threading.Lock()
        self.idle: list[tuple[RuleSet, RuleSet]] = []  # (source, clone) ready for a lint
        self.kube_lock = threading.Lock()
        self.running: set[str] = set()  # keys with a lint under way
        self.pending: dict[str, Callable[[], None]] = {}  # key -> the newest work waiting for it
        self.published: dict[str, tuple[int | None, list[Entry]]] = {}  # uri -> (version, entries)
        self.chart_uris: dict[str, set[str]] = {}  # chart root -> uris published for it
        # the analyses run in worker processes (linter/core/workers.py): a unit that crashes native
        # code or runs over its budget is a finding, and the server lives on
        self.workers: Workers | None = None

    # ------------------------------------------------------------------ settings

    def load(self) -> None:
        try:
            self.settings = load_settings(cwd=self.root)
            self.ruleset, self.config_error = build_ruleset(self.settings), None
        except PackError as exc:
            self.settings = Settings(root=str(self.root))
            try:
                self.ruleset = build_ruleset(self.settings)
                self.config_error = f"pitfall: invalid configuration, using the default settings: {exc}"
            except PackError as lock_error:  # the pack lock refuses even the built-in packs
                self.ruleset = RuleSet(self.settings, [], [], [])
                self.config_error = f"pitfall: not linting: {lock_error}"
        old, self.workers = self.workers, Workers(self.ruleset) if self.ruleset.rules else None
        if old is not None:
            old.close()
        if self.workers is not None:  # the first process starts while the client initialises
            threading.Thread(target=self.workers.prestart, name="pitfall-prestart", daemon=True).start()

    def close(self) -> None:
        """End the worker processes (the server is shutting down)."""
        workers, self.workers = self.workers, None
        if workers is not None:
            workers.close()

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A body that is not JSON: answered with a parse error (id null), as JSON-RPC asks."""
        if isinstance(error, json.JSONDecodeError) or (isinstance(error, UnicodeDecodeError)):
            protocol = self.protocol
            if isinstance(protocol, PitfallProtocol):
                protocol.answer_error(None, JsonRpcParseError().to_response_error())
        super().report_server_error(error, source)

    def message(self, text: str, kind: lsp.MessageType = lsp.MessageType.Error, show: bool = False) -> None:
        if show:
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=text))
        self.window_log_message(lsp.LogMessageParams(type=kind, message=text))

    # ------------------------------------------------------------------ scheduling

    def later(self, key: str, work: Callable[[], None], delay: float = DEBOUNCE) -> None:
        """Run ``work`` on a timer thread once ``key`` has been quiet for ``delay`` seconds."""
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        timer = threading.Timer(delay, self.run_key, (key, work))
        timer.daemon = True
        self.timers[key] = timer
        timer.start()

    def run_key(self, key: str, work: Callable[[], None] | None) -> None:
        """Run ``work`` for ``key`` unless a lint of ``key`` is under way: then it waits, and
        only the newest waiting work runs when that one ends (older versions are dropped)."""
        with self.state_lock:
            if key in self.running:
                self.pending[key] = work  # type: ignore[assignment]
                return
            self.running.add(key)
        while work is not None:
            self.guarded(work)
            with self.state_lock:
                work = self.pending.pop(key, None)
                if work is None:
                    self.running.discard(key)

    def drop(self, key: str) -> None:
        """Forget the debounce timer and any waiting work of ``key`` (the document closed)."""
        timer = self.timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        with self.state_lock:
            self.pending.pop(key, None)

    def checkout(self, ruleset: RuleSet) -> RuleSet:
        """A rule set equal to ``ruleset`` that no other thread is using."""
        with self.state_lock:
            for i, (source, clone) in enumerate(self.idle):
                if source is ruleset:
                    del self.idle[i]
                    return clone
        return RuleSet(ruleset.settings, ruleset.packs, ruleset.active_packs, ruleset.rules, ruleset.index)

    def checkin(self, source: RuleSet, clone: RuleSet) -> None:
        with self.state_lock:
            if source is self.ruleset:  # else the settings were reloaded meanwhile: let it go
                self.idle = [(s, c) for s, c in self.idle if s is self.ruleset][-3:] + [(source, clone)]

    def guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:  # never let one file take the server down
            self.on_loop(self.message, f"pitfall: internal error while linting: {type(exc).__name__}: {exc}")

    def on_loop(self, fn: Callable[..., None], *args: Any) -> None:
        if self.loop is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:  # the loop closed in between: the server is exiting
                pass

    def schedule(self, uri: str, *, changed: bool = False) -> None:
        """Lint an open document after the debounce delay. A chart file renders its whole chart,
        with the unsaved text of every open file of the chart in place of the file on disk."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        fs_path = to_fs_path(uri)
        suffix = Path(doc.filename or "").suffix.lower()
        if fs_path is not None and suffix in YAML_SUFFIXES | {".tpl"}:
            chart = chart_root(Path(fs_path))
            if chart is not None:
                open_docs = {
                    _resolved(p): (u, d.version, d.source)
                    for u, d in self.workspace.text_documents.items()
                    if (p := to_fs_path(u)) is not None
                }
                self.later(f"chart:{chart}", lambda: self.lint_chart(chart, open_docs), CHART_DEBOUNCE)
                return
        if suffix not in PYTHON_SUFFIXES | YAML_SUFFIXES:
            if fs_path is not None or doc.language_id not in LANGUAGE_SUFFIX:
                return
            suffix = LANGUAGE_SUFFIX[doc.language_id]  # an unsaved buffer: go by its language
        path = fs_path if fs_path is not None else f"{doc.filename or 'untitled'}{suffix}"
        snap = Snapshot(uri, path, doc.version, doc.source)
        self.later(uri, lambda: self.lint_document(snap))

    # ------------------------------------------------------------------ linting (timer threads)

    def lint_document(self, snap: Snapshot) -> None:
        ruleset = self.ruleset
        if ruleset is None:
            return
        doc = self.workspace.text_documents.get(snap.uri)
        if doc is None or doc.version != snap.version:
            return  # closed or changed since: a newer lint is scheduled
        too_big = _over_limit(snap.text, ruleset.settings.max_file_size)
        if too_big is not None:
            self.on_loop(self.publish, snap.uri, snap.version, [too_big])
            return
        rel = display_path(Path(snap.path), Path(ruleset.settings.root)) if os.path.isabs(snap.path) else snap.path
        workers = self.workers
        if workers is None:
            return
        findings: Sequence[Finding] = workers.lint(Request("text", rel, snap.text)).findings
        if unit_kind(Path(rel)) == "yaml" and findings:  # YAML fixes are computed where they are used
            mine = self.checkout(ruleset)
            try:
                with self.kube_lock:
                    findings = yaml_fixes(rel, snap.text, findings, mine)
            finally:
                self.checkin(ruleset, mine)
        entries = to_entries(findings, snap.text, self.workspace.position_codec)
        self.on_loop(self.publish, snap.uri, snap.version, entries)

    def lint_chart(self, chart: Path, open_docs: dict[str, tuple[str, int | None, str]]) -> None:
        """Render ``chart`` with the unsaved text of its open files (``open_docs``: real path ->
        uri, version, text) and publish the findings on every file of it."""
        ruleset = self.ruleset
        if ruleset is None:
            return
        root = Path(ruleset.settings.root)
        top = _resolved(str(chart)).rstrip(os.sep) + os.sep
        unsaved = {path: text for path, (_, _, text) in open_docs.items() if path.startswith(top) and _differs(path, text)}
        workers = self.workers
        if workers is None:
            return
        result = workers.lint(Request("chart", display_path(chart, root), str(chart.resolve()), unsaved or None))
        by_file: dict[str, list[Finding]] = {}
        for f in result.findings:
            by_file.setdefault(f.path, []).append(f)
            # a verified values hint is also shown on the values.yaml line it names
            key = dict(f.properties).get("pitfall/values-key")
            where = next((r for r in f.related if key and r.region is not None and r.message == f"value `{key}`"), None)
            if where is not None and where.region is not None and f.suppression is None:  # (next() picked one with a region)
                shown = replace(f, path=where.path, region=where.region, severity="note", message=f"{f.message} ({f.path}:{f.region.line})", related=())
                by_file.setdefault(where.path, []).append(shown)
        out: dict[str, tuple[int | None, list[Entry]]] = {}
        for rel, findings in by_file.items():
            path = Path(rel) if os.path.isabs(rel) else root / rel
            if not path.is_file():
                continue
            uri, version, text = open_docs.get(_resolved(str(path))) or (from_fs_path(str(path)) or "", None, None)
            if text is None:
                text = path.read_text(encoding="utf-8", errors="replace")
            out[uri] = (version, to_entries(findings, text, self.workspace.position_codec, other=lambda p: self._on_disk(root, p)))
        for note in result.notifications:
            self.on_loop(self.message, f"pitfall: {note.message}", lsp.MessageType.Warning)
        self.on_loop(self.publish_chart, str(chart), out)

    def _on_disk(self, root: Path, rel: str) -> tuple[str, str] | None:
        """(uri, text) of a file a chart fix edits, as the chart was rendered from it (disk); None
        when it is open with unsaved changes (the fix's positions would be wrong there)."""
        path = Path(rel) if os.path.isabs(rel) else root / rel
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        uri = from_fs_path(str(path)) or ""
        doc = self.workspace.text_documents.get(uri)
        if doc is not None and doc.source != text:
            return None
        return uri, text

    # ------------------------------------------------------------------ publishing (event loop)

    def publish(self, uri: str, version: int | None, entries: list[Entry]) -> None:
        doc = self.workspace.text_documents.get(uri)
        if doc is None or doc.version != version:
            return  # closed, or changed since: a newer lint is already scheduled
        self.published[uri] = (version, entries)
        diagnostics = [e.diagnostic for e in entries]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version))

    def publish_chart(self, chart: str, files: dict[str, tuple[int | None, list[Entry]]]) -> None:
        for uri in self.chart_uris.get(chart, set()) - set(files):
            self.clear(uri)
        for uri, (version, entries) in files.items():
            self.published[uri] = (version, entries)
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[e.diagnostic for e in entries]))
        self.chart_uris[chart] = set(files)

    def clear(self, uri: str) -> None:
        self.published.pop(uri, None)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    def code_actions(self, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        if params.context.only and not any(k in (lsp.CodeActionKind.QuickFix, lsp.CodeActionKind.Empty) for k in params.context.only):
            return []
        uri = params.text_document.uri
        doc = self.workspace.text_documents.get(uri)
        version, entries = self.published.get(uri, (None, []))
        if doc is None or (version is not None and doc.version != version):
            return []  # stale: the edits would land in the wrong place
        wanted = {_key(d) for d in params.context.diagnostics}
        chosen = [e for e in entries if _key(e.diagnostic) in wanted]
        if not chosen and not wanted:  # no diagnostics given: those on the requested lines
            first, last = params.range.start.line, params.range.end.line
            chosen = [e for e in entries if e.diagnostic.range.start.line <= last and e.diagnostic.range.end.line >= first]
        out = []
        for e in chosen:
            for title, preferred, edits, target in e.actions:
                out.append(
                    lsp.CodeAction(
                        title=title,
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[e.diagnostic],
                        is_preferred=preferred or None,
                        edit=lsp.WorkspaceEdit(changes={target or uri: list(edits)}),
                    )
                )
        return out


def _differs(path: str, text: str) -> bool:
    """Whether an open document's text is not the file's on disk (an unsaved edit)."""
    try:
        return Path(path).read_text(encoding="utf-8") != text
    except (OSError, UnicodeDecodeError):
        return True


def _workspace_root(ls: PitfallServer) -> Path:
    root = ls.workspace.root_path
    if not root:
        for folder in ls.workspace.folders.values():
            root = to_fs_path(folder.uri)
            if root:
                break
    return Path(root) if root else Path.cwd()


def create_server() -> PitfallServer:
    server = PitfallServer()

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: PitfallServer, params: lsp.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.root = _workspace_root(ls)
        ls.load()

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: PitfallServer, params: lsp.InitializedParams) -> None:
        if ls.config_error:
            ls.message(ls.config_error, show=True)
        if get_capability(ls.client_capabilities, "workspace.did_change_watched_files.dynamic_registration", False):
            watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
            options = lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
            registration = lsp.Registration(id="pitfall-config", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES, register_options=options)
            ls.client_register_capability(lsp.RegistrationParams(registrations=[registration]))

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PitfallServer, params: lsp.DidOpenTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PitfallServer, params: lsp.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, changed=True)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PitfallServer, params: lsp.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PitfallServer, params: lsp.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.drop(uri)
        ls.clear(uri)

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: PitfallServer, params: lsp.DidChangeWatchedFilesParams) -> None:
        if not any(c.uri.rsplit("/", 1)[-1] in CONFIG_FILES for c in params.changes):
            return
        ls.load()
        if ls.config_error:
            ls.message(ls.config_error, show=True)
        for uri in list(ls.workspace.text_documents):
            ls.schedule(uri)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix]))
    def code_action(ls: PitfallServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        return ls.code_actions(params)

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: PitfallServer, params: Any = None) -> None:
        for key in list(ls.timers):
            ls.drop(key)
        ls.close()

    return server


def serve() -> int:
    """Serve on stdio until the client says exit. Stray output (a Helm backend writing to
    fd 1) cannot corrupt the JSON-RPC stream: the protocol gets a private copy of stdout and
    fd 1 goes to stderr."""
    stdin = sys.stdin.buffer
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server = create_server()
    try:
        server.start_io(stdin, out)
    finally:
        server.close()
    return 0
