"""``pitfall lsp``: the language server (pygls v2) around the pure core.

didOpen/didChange are debounced per document (a ``threading.Timer``, like Fixit), linted
from the in-memory text with ``engine.lint_text`` and published as diagnostics; the
1-based, end-exclusive ``Region`` becomes a 0-based LSP range here and only here (in the
client's position encoding). Files inside a Helm chart are linted by rendering the chart
from disk, on open and on save. Suppressed findings are not published. Code actions: the
finding's fix, and an ``ignore`` directive for its line. Settings come from the workspace
root and are reloaded when a watched config file changes; an invalid config is shown to the
user and the server goes on with the default settings.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types as lsp
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import PositionCodec
from pygls.workspace.position_codec import ServerTextPosition

from . import __version__
from .config import Settings, load_settings
from .discover import PYTHON_SUFFIXES, YAML_SUFFIXES, Unit, chart_root, display_path
from .docs import rule_url
from .engine import RuleSet, build_ruleset, lint_text, read_and_lint
from .model import Finding, Region
from .packs import PackError
from .suppress import DIRECTIVE

DEBOUNCE = 0.3  # seconds of quiet typing before a document is linted
CONFIG_FILES = ("pyproject.toml", ".pitfall.toml")
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning, "note": lsp.DiagnosticSeverity.Information}
LANGUAGE_SUFFIX = {"python": ".py", "yaml": ".yaml", "json": ".json"}
UNSUPPRESSIBLE = frozenset({"LNT001", "LNT003"})  # parse errors and unused directives: no directive silences them
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # LSP line breaks: \n, \r\n, \r


@dataclass(frozen=True, slots=True)
class Entry:
    """One published diagnostic and the code actions computed from the same text."""

    diagnostic: lsp.Diagnostic
    actions: tuple[tuple[str, bool, tuple[lsp.TextEdit, ...]], ...]  # (title, preferred, edits)


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


def to_entries(findings: Sequence[Finding], text: str, codec: PositionCodec) -> list[Entry]:
    """Diagnostics (and their code actions) for the unsuppressed findings of one file."""
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
        actions = []
        if f.fix is not None and f.fix.edits:
            title = f"Fix: {f.fix.title}" + (" (unsafe)" if f.fix.applicability == "unsafe" else "")
            edits = tuple(lsp.TextEdit(_range(lines, e.region, codec), e.text) for e in f.fix.edits)
            actions.append((title, f.fix.applicability == "safe", edits))
        ignore = None if f.rule_id in UNSUPPRESSIBLE else _ignore_edit(lines, f, codec)
        if ignore is not None:
            actions.append((f"Ignore {f.rule_id} on this line", False, (ignore,)))
        out.append(Entry(diag, tuple(actions)))
    return out


def _resolved(path: str | None) -> str:
    return str(Path(path).resolve()) if path else ""


def _key(d: lsp.Diagnostic) -> tuple[Any, ...]:
    r = d.range
    return (str(d.code), r.start.line, r.start.character, r.end.line, r.end.character, d.message)


class PitfallServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("pitfall", __version__)
        self.root = Path.cwd()
        self.settings = Settings(root=str(self.root))
        self.ruleset: RuleSet | None = None
        self.config_error: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.timers: dict[str, threading.Timer] = {}
        self.lint_lock = threading.Lock()  # analyzers share compiled rules: one lint at a time
        self.published: dict[str, tuple[int | None, list[Entry]]] = {}  # uri -> (version, entries)
        self.chart_uris: dict[str, set[str]] = {}  # chart root -> uris published for it

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

    def message(self, text: str, kind: lsp.MessageType = lsp.MessageType.Error, show: bool = False) -> None:
        if show:
            self.window_show_message(lsp.ShowMessageParams(type=kind, message=text))
        self.window_log_message(lsp.LogMessageParams(type=kind, message=text))

    # ------------------------------------------------------------------ scheduling

    def later(self, key: str, work: Callable[[], None]) -> None:
        """Run ``work`` on a timer thread once ``key`` has been quiet for DEBOUNCE seconds."""
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        timer = threading.Timer(DEBOUNCE, self.guarded, (work,))
        timer.daemon = True
        self.timers[key] = timer
        timer.start()

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
        """Lint an open document after the debounce delay; a chart file on open and save only
        (the chart is rendered from disk, so unsaved edits would not be seen)."""
        doc = self.workspace.text_documents.get(uri)
        if doc is None:
            return
        fs_path = to_fs_path(uri)
        suffix = Path(doc.filename or "").suffix.lower()
        if fs_path is not None and suffix in YAML_SUFFIXES | {".tpl"}:
            chart = chart_root(Path(fs_path))
            if chart is not None:
                if not changed:
                    open_docs = {_resolved(to_fs_path(u)): (u, d.version) for u, d in self.workspace.text_documents.items()}
                    self.later(f"chart:{chart}", lambda: self.lint_chart(chart, open_docs))
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
        rel = display_path(Path(snap.path), Path(ruleset.settings.root)) if os.path.isabs(snap.path) else snap.path
        with self.lint_lock:
            result = lint_text(rel, snap.text, ruleset)
        entries = to_entries(result.findings, snap.text, self.workspace.position_codec)
        self.on_loop(self.publish, snap.uri, snap.version, entries)

    def lint_chart(self, chart: Path, open_docs: dict[str, tuple[str, int | None]]) -> None:
        ruleset = self.ruleset
        if ruleset is None:
            return
        root = Path(ruleset.settings.root)
        with self.lint_lock:
            result = read_and_lint(Unit("chart", display_path(chart, root), str(chart.resolve())), ruleset)
        by_file: dict[str, list[Finding]] = {}
        for f in result.findings:
            by_file.setdefault(f.path, []).append(f)
        out: dict[str, tuple[int | None, list[Entry]]] = {}
        for rel, findings in by_file.items():
            path = Path(rel) if os.path.isabs(rel) else root / rel
            if not path.is_file():
                continue
            uri, version = open_docs.get(_resolved(str(path))) or (from_fs_path(str(path)) or "", None)
            text = path.read_text(encoding="utf-8", errors="replace")
            out[uri] = (version, to_entries(findings, text, self.workspace.position_codec))
        for note in result.notifications:
            self.on_loop(self.message, f"pitfall: {note.message}", lsp.MessageType.Warning)
        self.on_loop(self.publish_chart, str(chart), out)

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
            for title, preferred, edits in e.actions:
                out.append(
                    lsp.CodeAction(
                        title=title,
                        kind=lsp.CodeActionKind.QuickFix,
                        diagnostics=[e.diagnostic],
                        is_preferred=preferred or None,
                        edit=lsp.WorkspaceEdit(changes={uri: list(edits)}),
                    )
                )
        return out


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
        timer = ls.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
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
        for timer in ls.timers.values():
            timer.cancel()
        ls.timers.clear()

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
    create_server().start_io(stdin, out)
    return 0
