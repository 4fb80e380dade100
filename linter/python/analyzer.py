"""Python analyzer: libcst, one parse per file, every Python rule in one batched visit.

Names resolve through the file's real imports (aliases, ``from x import y as z``,
``import a.b as c``, imports in ``try``/``if`` blocks and function bodies,
``importlib.import_module("x")``) and through instances bound to local, ``self.`` and
module-level names (``s = requests.Session(); s.get(u)`` resolves to
``requests.Session().get``). Resolution is a cheap statement-level pass of our own;
libcst metadata (positions) is computed only for files that have findings.
"""

from __future__ import annotations

import ast
import re
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from linter import core
from linter.core.model import Edit, Finding, Fix, Placeholders, Region, Rule, load_reference
from linter.python import evidence, targets
from linter.python.conditions import Condition, predicate
from linter.python.tree import Batch, child_fields, children, field_nodes
from linter.python.visitor import BUILTINS, Context, Report, Resolver, Visitor, expand_braces, find_arg

if TYPE_CHECKING:  # types only: the index is imported when a run builds one
    from linter.core.config import Settings
    from linter.python.incremental import ParseMemo
    from linter.python.index import ProjectIndex


# --------------------------------------------------------------------------- patterns

def _root(pattern: str) -> str:
    return re.split(r"[.(]", pattern, maxsplit=1)[0]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    kind: str  # "call" | "assign" | "name" | "decorator"
    conditions: tuple[Condition, ...]
    report: str
    message: str | None = None  # this alternative's own message (else the rule's)
    unless: Any = None  # ``unless: module:function``: (call node, Context) -> True vetoes the hit
    inside_if: re.Pattern[str] | None = None  # ``unless-inside-if``: a name in an enclosing `if` test vetoes
    vetoes: tuple[Veto, ...] = ()  # the other ``unless-*`` keys: each (call node, Context) -> True vetoes the hit
    unless_where: tuple[Condition, ...] = ()  # ``unless-where``: the hit is vetoed when all of these hold


Veto = Callable[[cst.Call, "Context"], bool]


def _in_dict(arg: str, key: str) -> Veto:
    return lambda call, ctx: evidence.dict_may_hold(call, ctx, arg, key, find_arg)


def _vetoes(match: dict[str, Any]) -> tuple[Veto, ...]:
    """The ``unless-*`` keys of a match alternative (but ``unless``, ``unless-inside-if`` and
    ``unless-where``), each a question about the rest of the module (``linter.python.evidence``)."""
    out: list[Veto] = []
    if "unless-given-elsewhere" in match:
        given: str = match["unless-given-elsewhere"]
        out.append(lambda call, ctx: evidence.given_elsewhere(call, ctx, given))
    if "unless-receiver" in match:
        spec = match["unless-receiver"]
        assigned = tuple(spec.get("assigned", ()))
        plain = tuple(n for p in spec["mounted-except"] for n in expand_braces(p)) if "mounted-except" in spec else None
        out.append(lambda call, ctx: evidence.receiver_changed(call, ctx, assigned, plain))
    if match.get("unless-unpacked"):
        out.append(lambda call, ctx: evidence.unpacked(call, ctx))
    for dict_arg, dict_key in (match.get("unless-in-dict") or {}).items():
        out.append(_in_dict(dict_arg, dict_key))
    if "unless-arg-mentions" in match:
        spec = match["unless-arg-mentions"]
        mentioned, where, pattern = spec["arg"], spec.get("position"), re.compile(spec["regex"])
        out.append(lambda call, ctx: evidence.arg_mentions(call, ctx, mentioned, where, pattern))
    if "unless-url" in match:
        spec = match["unless-url"]
        url, at, kind, follow = spec["arg"], spec.get("position"), spec["is"], bool(spec.get("follow-names"))
        out.append(lambda call, ctx: evidence.url_is(call, ctx, url, at, kind, follow))
    if "unless-module-matches" in match:
        found = re.compile(match["unless-module-matches"])
        out.append(lambda call, ctx: evidence.module_matches(ctx, found))
    if "unless-module-lacks" in match:
        needed = re.compile(match["unless-module-lacks"])
        out.append(lambda call, ctx: not evidence.module_matches(ctx, needed))
    return tuple(out)


def _requirements(pattern: str) -> list[frozenset[bytes]]:
    """What every match of ``pattern`` needs in the text, as a conjunction of disjunctions:
    each set holds strings one of which must occur (lookaheads count: they look at the text
    too). Derived from the pattern as the ``re`` module's own parser reads it (a fast path of
    the pre-filter: a file missing them is not searched); empty when nothing is certain, or
    when that parser is not what this code knows (the pattern is then always searched)."""
    try:
        return _parsed_requirements(pattern)
    except Exception:  # pragma: no cover - a Python whose re internals differ
        return []


def _parsed_requirements(pattern: str) -> list[frozenset[bytes]]:
    try:
        from re import _constants as c, _parser as sre  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_constants as c  # type: ignore[no-redef]
        import sre_parse as sre  # type: ignore[no-redef]
    parsed = sre.parse(pattern)
    if parsed.state.flags & c.SRE_FLAG_IGNORECASE:
        return []

    def of(items: Any) -> list[frozenset[bytes]]:
        reqs: list[frozenset[bytes]] = []
        run: list[str] = []

        def flush() -> None:
            if len(run) >= 2:
                reqs.append(frozenset({"".join(run).encode("utf-8", "surrogatepass")}))
            run.clear()

        for op, av in items:
            if op is c.LITERAL:
                run.append(chr(av))
                continue
            flush()
            if op is c.SUBPATTERN:
                if not av[1] & c.SRE_FLAG_IGNORECASE:
                    reqs.extend(of(av[3]))
            elif op is c.ASSERT:
                reqs.extend(of(av[1]))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
                reqs.extend(of(av[2]))
            elif op is c.BRANCH:
                branches = [of(b) for b in av[1]]
                if all(branches):
                    best = [max(b, key=lambda req: min(map(len, req))) for b in branches]
                    reqs.append(frozenset().union(*best))
        flush()
        return reqs

    return of(parsed)


class _Check:
    """One pattern of a pre-filter and the literals a text must hold for it to match (see
    ``_requirements``). Filters share a check per pattern (``checks``), and the answer about the
    last text asked is kept: the analyzer asks the pre-filter and each visitor's gate about the
    same file."""

    __slots__ = ("_reqs", "_rx", "_last")

    def __init__(self, pattern: str) -> None:
        self._reqs = tuple(_requirements(pattern))
        self._rx = re.compile(pattern.encode("utf-8"), re.M)
        self._last: tuple[bytes | None, bool] = (None, False)

    def search(self, data: bytes) -> bool:
        last = self._last
        if last[0] is data:
            return last[1]
        found = True
        for req in self._reqs:  # loops, not generators: this runs for every statement of a file
            for literal in req:
                if literal in data:
                    break
            else:
                found = False
                break
        if found:
            found = self._rx.search(data) is not None
        self._last = (data, found)  # one assignment: a thread reading it sees a text with its own answer
        return found


class _Filter:
    """Does a text contain any of ``words`` or match any of ``patterns``? Each pattern is searched
    on its own, and only when the text holds what the pattern requires (see ``_requirements``):
    one alternation of them all defeats the regular-expression engine's literal search and was
    the pre-filter's main cost."""

    __slots__ = ("_words", "_checks")

    def __init__(self, words: Iterable[str], patterns: Iterable[str], checks: dict[str, _Check] | None = None) -> None:
        shared = checks if checks is not None else {}
        self._words = tuple(sorted({w.encode("utf-8") for w in words}))
        self._checks: list[_Check] = []
        for pattern in sorted(set(patterns)):
            if pattern not in shared:
                shared[pattern] = _Check(pattern)
            self._checks.append(shared[pattern])

    def search(self, data: bytes) -> bool:
        for word in self._words:
            if word in data:
                return True
        for check in self._checks:
            if check.search(data):
                return True
        return False


def _regexes(value: str | tuple[str, ...] | None) -> tuple[str, ...]:
    """A visitor's ``TRIGGER_REGEX`` or ``CHUNK_REGEX``: one pattern, or several (any of them)."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class PythonRuleSet:
    """Python rules compiled once per process: pattern indexes and the pre-filter."""

    def __init__(self, rules: Sequence[Rule], settings: Settings | None = None) -> None:
        from linter.python.settings import visitor_for as setting_visitor_for  # it builds on this module

        self.rules = [r for r in rules if r.target == "python"]
        self.settings = settings
        self.exact: dict[tuple[str, str], list[CompiledRule]] = {}
        self.any_attr: dict[tuple[str, str], list[CompiledRule]] = {}
        self.visitors: list[tuple[Rule, type[Visitor]]] = []
        # per visitor (same order): its own trigger regex; a file that misses it skips the visitor
        self._gates: list[_Filter | None] = []
        # a selected visitor reads the project-wide signature index (linter/python/index.py)
        self.needs_index = False
        roots: dict[str, set[str]] = {}  # imported module -> a name right after it that must appear
        ends: dict[str, set[str]] = {}  # imported module -> the last names of its patterns
        words: set[str] = set()
        patterns: list[str] = []  # visitors' TRIGGER_REGEX
        chunk_patterns: list[str] = []  # the same, CHUNK_REGEX where a visitor has one
        self.globs: list[tuple[str, re.Pattern[str], CompiledRule]] = []  # (kind, regex, rule) of patterns with `*`
        whole_file: set[str] = set()
        checks: dict[str, _Check] = {}  # the filters' patterns, one check each
        always = False
        for rule in self.rules:
            setting_visitor = setting_visitor_for(rule)  # `setting` alternatives: linter.python.settings
            if rule.matcher.get("visitor") or setting_visitor is not None:
                cls = setting_visitor or load_reference(rule.matcher["visitor"])
                if not (isinstance(cls, type) and issubclass(cls, Visitor)):
                    raise TypeError(f"{rule.matcher['visitor']} is not a linter.python.visitor.Visitor")
                self.visitors.append((rule, cls))
                if cls.TRIGGERS is None and cls.TRIGGER_REGEX is None:
                    always = True
                    self._gates.append(None)
                else:
                    words.update(cls.TRIGGERS or ())
                    regexes = _regexes(cls.TRIGGER_REGEX)
                    patterns.extend(regexes)
                    chunk_patterns.extend(_regexes(cls.CHUNK_REGEX) or regexes)
                    self._gates.append(_Filter(cls.TRIGGERS or (), regexes, checks))
                self.needs_index = self.needs_index or cls.NEEDS_INDEX
                continue
            spec = rule.matcher["match"]
            for match in spec if isinstance(spec, list) else [spec]:
                kind = next(k for k in ("call", "assign", "name", "decorator", "env-write") if k in match)
                option = lambda key, rule=rule: self.option(rule, key)  # noqa: E731
                conds = tuple(c for cond in match.get("where", ()) for c in Condition.compile(cond, option))
                unless = load_reference(match["unless"]) if match.get("unless") else None
                inside_if = re.compile(match["unless-inside-if"]) if match.get("unless-inside-if") else None
                unless_where = tuple(c for cond in match.get("unless-where", ()) for c in Condition.compile(cond, option))
                compiled = CompiledRule(
                    rule, kind, conds, match.get("report", "node"), match.get("message"), unless, inside_if, _vetoes(match), unless_where
                )
                literals = _trigger_literals(conds)
                for pattern in match[kind]:
                    for p in expand_braces(pattern):
                        if kind == "env-write" or targets.is_glob(p):  # an environment variable; a glob (linter.python.targets)
                            word = p if kind == "env-write" else targets.glob_words(p)
                            if kind == "env-write":
                                self.exact.setdefault((kind, p), []).append(compiled)
                            else:
                                self.globs.append((kind, targets.glob_regex(p), compiled))
                                whole_file.add(word)  # `*` may be any method: no statement-level trigger
                            words.add(word)
                            always = always or not word
                        elif p.startswith("*."):
                            attr = p[2:]
                            self.any_attr.setdefault((kind, attr), []).append(compiled)
                            # a method on any receiver: the quoted literal it must be called with is the
                            # cheaper trigger, else `.attr`
                            if literals:
                                found = [rf"[\"']{re.escape(lit)}[\"']" for lit in literals]
                            else:
                                found = [rf"\.{re.escape(attr)}\b"]
                            patterns.extend(found)
                            chunk_patterns.extend(found)
                        else:
                            self.exact.setdefault((kind, p), []).append(compiled)
                            root = _root(p)
                            if root in BUILTINS:
                                words.add(root)  # a builtin is never imported: the name itself is the trigger
                            else:
                                roots.setdefault(root, set()).update(_segments(p))
                                ends.setdefault(root, set()).add(_last_name(p))
        self._always = always
        self._whole_file = _Filter(whole_file, ())  # a file holding one is not reduced (see `analyze`)
        self._prefilter = _Filter(words, patterns, checks)
        self._chunk_prefilter = _Filter(words, chunk_patterns, checks)
        # a pattern rooted at a module can only match in a file that imports the module (or names
        # it in a string: importlib) AND mentions the name that follows it (`requests` + `get`)
        self.root_names = frozenset(roots)
        self._roots = _NameRegexes(roots)
        # a whole file that can match a pattern names its last name (`create_engine` of
        # `sqlalchemy.engine.create_engine`): its call, its import or the assignment of an alias
        # spells it. A statement may name only an earlier one (`self.s = requests.Session()`,
        # which a later `self.s.get` needs): `_roots` asks statements about any of them
        self._ends = _NameRegexes(ends)
        self.names_used = bool(self.exact or self.any_attr or self.globs)
        self.env_writes = any(kind == "env-write" for kind, _ in self.exact)

    def option(self, rule: Rule, key: str) -> Any:
        """A rule option: the user's ``rule-options`` value, else the global setting of that name
        (``max-timeout``), else the rule's own default."""
        settings = self.settings
        if settings is not None:
            if key in settings.options_for(rule.id):
                return settings.options_for(rule.id)[key]
            attr = key.replace("-", "_")
            if hasattr(settings, attr):
                return getattr(settings, attr)
        return rule.option(key)

    def imported_name_patterns(self, data: bytes) -> list[re.Pattern[bytes]]:
        """The name regexes of the rule roots this file imports."""
        return [rx for r in _imported_roots(data) if (rx := self._roots.get(r)) is not None]

    def relevant(self, chunk: bytes, roots: Sequence[re.Pattern[bytes]]) -> bool:
        """Whether a part of a file (a statement) passes the pre-filter on its own."""
        if self._chunk_prefilter.search(chunk):
            return True
        return any(r.search(chunk) for r in roots)

    def wants(self, data: bytes) -> bool:
        """Cheap text pre-filter: False means no rule can fire, so the file is not parsed."""
        if self._always:
            return True
        if self._prefilter.search(data):
            return True
        if self._ends:
            for root in _imported_roots(data):
                names = self._ends.get(root)
                if names is not None and names.search(data):
                    return True
        return False


_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from[ \t]+([\w.]+)|import[ \t]+([\w.]+(?:[ \t]*(?:as[ \t]+\w+)?[ \t]*,[ \t]*[\w.]+)*))", re.M)
_QUOTED_MODULE = re.compile(rb"(?:import_module|__import__)\(\s*[\"']([\w.]+)[\"']")


def _imported_roots(data: bytes) -> set[bytes]:
    """Top-level modules a file imports (statements anywhere, importlib/__import__ strings)."""
    found: set[bytes] = set()
    for m in _IMPORT_LINE.finditer(data):
        if m.group(1):
            found.add(m.group(1).split(b".")[0])
        else:
            for part in m.group(2).split(b","):
                found.add(part.strip().split(b".")[0].split()[0] if part.strip() else b"")
    for m in _QUOTED_MODULE.finditer(data):
        found.add(m.group(1).split(b".")[0])
    return found


class _NameRegexes:
    """``imported module -> a regex of whole names``, each compiled when first asked for (a run
    over one file compiles those of the modules it imports)."""

    __slots__ = ("_names", "_compiled")

    def __init__(self, names: Mapping[str, AbstractSet[str]]) -> None:
        self._names = {root.encode(): sorted(ns) for root, ns in names.items()}
        self._compiled: dict[bytes, re.Pattern[bytes]] = {}

    def __bool__(self) -> bool:
        return bool(self._names)

    def get(self, root: bytes) -> re.Pattern[bytes] | None:
        rx = self._compiled.get(root)
        if rx is None:
            names = self._names.get(root)
            if names is None:
                return None
            rx = self._compiled[root] = _whole_words(names)
        return rx


def _whole_words(names: Iterable[str]) -> re.Pattern[bytes]:
    """A regex of any of ``names`` as a whole word."""
    return re.compile(rb"\b(?:" + "|".join(re.escape(n) for n in names).encode() + rb")\b")


def _pattern_names(pattern: str) -> list[str]:
    """The names of a pattern: ``requests.Session().get`` -> ``requests``, ``Session``, ``get``."""
    return [p for p in re.split(r"[.()]", pattern) if p]


def _last_name(pattern: str) -> str:
    """The last name of a pattern: ``requests.Session().get`` -> ``get``."""
    return _pattern_names(pattern)[-1]


def _segments(pattern: str) -> set[str]:
    """The names after the root module: ``requests.Session().get`` -> ``Session``, ``get``.

    A file (or a statement) that can match the pattern mentions at least one of them: the name
    right after the module where it calls it, the method where it calls it on an instance
    held elsewhere (``self.session.get``)."""
    parts = _pattern_names(pattern)
    return set(parts[1:]) or {parts[0]}


def _trigger_literals(conds: Sequence[Condition]) -> list[str]:
    """Non-empty string literals one condition requires: the file must contain one of them."""
    for cond in conds:
        if cond.predicate == "equals" and not cond.negate:
            values = [v for _, v in cond.operand]
            if values and all(isinstance(v, str) and v for v in values):
                return values
    return []


# --------------------------------------------------------------------------- scopes


class _ScopeTracker(cst.BatchableCSTVisitor):
    """Keeps the resolver's scope stack in step with the traversal; runs first in the batch."""

    def __init__(self, resolver: Resolver, context: Context) -> None:
        super().__init__()
        self.resolver = resolver
        self.functions = context.functions

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.resolver.stack.append(self.resolver.scope_for(node, self.resolver.scope))
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.resolver.stack.pop()
        self.functions.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.resolver.stack.append(self.resolver.scope_for(node, self.resolver.scope))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.resolver.stack.pop()


class _Declarative(cst.BatchableCSTVisitor):
    """All declarative rules (call / assign / name) in one visitor."""

    def __init__(self, rules: PythonRuleSet, context: Context) -> None:
        super().__init__()
        self.rules = rules
        self.ctx = context
        self.resolver = context.resolver
        self._skip: set[int] = set()  # Name nodes that are not references
        self._in_import = 0
        # the tests of the enclosing `if`s (replaced by the names they read when first asked);
        # None marks a function's start
        self._ifs: list[cst.BaseExpression | frozenset[str] | None] = []

    # -- the `if`s around a node, within its function (`unless-inside-if`)
    def visit_If(self, node: cst.If) -> None:
        self._ifs.append(node.test)

    def leave_If(self, original_node: cst.If) -> None:
        self._ifs.pop()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._ifs.pop()

    def _guarded(self, pattern: re.Pattern[str]) -> bool:
        for i in range(len(self._ifs) - 1, -1, -1):
            names = self._ifs[i]
            if names is None:
                return False
            if not isinstance(names, frozenset):
                names = self._ifs[i] = _names_in(names)
            if any(pattern.search(name) for name in names):
                return True
        return False

    # -- contexts where a Name is not a reference
    def visit_Import(self, node: cst.Import) -> None:
        self._in_import += 1

    def leave_Import(self, original_node: cst.Import) -> None:
        self._in_import -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._in_import += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._in_import -= 1

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._skip.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self._skip.add(id(node.name))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._skip.add(id(node.name))
        self._ifs.append(None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._skip.add(id(node.name))

    # -- matchers
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        candidates: list[CompiledRule] = []
        qual = self.resolver.resolve(func) if isinstance(func, (cst.Name, cst.Attribute, cst.Call)) else None
        if qual is not None:
            candidates.extend(self.rules.exact.get(("call", qual), ()))
        if isinstance(func, cst.Attribute):
            candidates.extend(self.rules.any_attr.get(("call", func.attr.value), ()))
        if qual is not None and self.rules.globs:
            candidates.extend(compiled for kind, rx, compiled in self.rules.globs if kind == "call" and rx.match(qual))
        for compiled in _once(candidates):
            self._check(compiled, node, node, qual)
        if self.rules.env_writes:
            for key, key_node, value in targets.called_environment(node, self.resolver.resolve):
                for compiled in self.rules.exact.get(("env-write", key), ()):
                    self._check(compiled, key_node, targets.as_assignment(value), key, anchor=node)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        """``decorator`` patterns: a bare ``@x`` (no parentheses) is a call of ``x`` with no arguments."""
        expr = node.decorator
        if not isinstance(expr, (cst.Name, cst.Attribute)):
            return  # ``@x(...)`` is a call: ``call`` patterns see it
        qual = self.resolver.resolve(expr)
        candidates = list(self.rules.exact.get(("decorator", qual), ())) if qual else []
        if isinstance(expr, cst.Attribute):
            candidates.extend(self.rules.any_attr.get(("decorator", expr.attr.value), ()))
        for compiled in _once(candidates):
            self._check(compiled, expr, cst.Call(func=expr), qual, anchor=node)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self.rules.env_writes:
            for key, key_node, value in targets.assigned_environment(node, self.resolver.resolve):
                for compiled in self.rules.exact.get(("env-write", key), ()):
                    self._check(compiled, key_node, targets.as_assignment(value), key, anchor=node)
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Name):
                self._skip.add(id(t))  # the name being bound is no reference to what it is bound to
            if not isinstance(t, cst.Attribute):
                continue
            self._skip.add(id(t))
            candidates: list[CompiledRule] = []
            qual = self.resolver.resolve(t)
            if qual is not None:
                candidates.extend(self.rules.exact.get(("assign", qual), ()))
            candidates.extend(self.rules.any_attr.get(("assign", t.attr.value), ()))
            for compiled in candidates:
                self._check(compiled, t, node, qual)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._skip.add(id(node.attr))
        if self._in_import or id(node) in self._skip:
            return
        qual = self.resolver.resolve(node)
        candidates = list(self.rules.exact.get(("name", qual), ())) if qual else []
        candidates.extend(self.rules.any_attr.get(("name", node.attr.value), ()))
        for compiled in _once(candidates):
            self._check(compiled, node, node, qual)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._skip.add(id(node.target))

    def visit_Name(self, node: cst.Name) -> None:
        if self._in_import or id(node) in self._skip:
            return
        qual = self.resolver.resolve(node)
        if qual and qual != node.value:
            for compiled in self.rules.exact.get(("name", qual), ()):
                self._check(compiled, node, node, qual)

    # -- conditions
    def _check(self, compiled: CompiledRule, node: cst.CSTNode, owner: cst.CSTNode, qual: str | None, anchor: cst.CSTNode | None = None) -> None:
        report_node: cst.CSTNode = node
        fix_node: cst.CSTNode | None = node
        fmt: dict[str, str] = {"qualname": qual or ""}
        for cond in compiled.conditions:
            ok, found = self._holds(cond, owner)
            if not ok:
                return
            if found is not None and cond.predicate not in ("missing", "unset"):
                report_node = found
                fix_node = found
                fmt["value"] = self.ctx.code(found)
            if isinstance(cond.arg, str):
                fmt["arg"] = cond.arg
            if cond.predicate == "above":
                fmt["limit"] = f"{cond.operand:g}"
            if cond.predicate == "host" and found is not None:
                fmt.update(targets.address_fields(found, self.ctx.code))
        if compiled.unless is not None and isinstance(owner, cst.Call) and compiled.unless(owner, self.ctx):
            return
        if compiled.vetoes and isinstance(owner, cst.Call) and any(veto(owner, self.ctx) for veto in compiled.vetoes):
            return
        if compiled.unless_where and all(self._holds(cond, owner)[0] for cond in compiled.unless_where):
            return
        if compiled.inside_if is not None and self._guarded(compiled.inside_if):
            return
        if isinstance(owner, cst.Call):
            fmt["callee"] = self.ctx.code(owner.func)
            if compiled.report == "callee":
                report_node = owner.func
            elif compiled.report == "call":
                report_node = owner
            elif compiled.report == "node" and report_node is node:
                report_node = owner
        elif isinstance(owner, cst.Assign):
            fmt["target"] = self.ctx.code(node)
            fmt.setdefault("value", self.ctx.code(owner.value))
            if compiled.report == "node":
                report_node = owner
        fix_kind = compiled.rule.fix.kind if compiled.rule.fix else None
        if fix_kind == "add-kwarg":
            fix_node = owner
        if anchor is not None:  # a bare decorator: the call is synthetic, report and fix nothing else
            if report_node is owner or report_node is node:
                report_node = anchor
            fix_node = None
        message = None
        if compiled.message:
            try:
                message = compiled.message.format_map(Placeholders(fmt))
            except (ValueError, IndexError):
                message = compiled.message
        top, member = self.ctx.where
        self.ctx.reports.append(Report(compiled.rule, report_node, fmt, fix_kind, fix_node, message, top, member))

    def _holds(self, cond: Condition, owner: cst.CSTNode) -> tuple[bool, cst.BaseExpression | None]:
        if cond.arg is None:
            value = owner.value if isinstance(owner, cst.Assign) else None
            status = "present" if value is not None else "missing"
        elif isinstance(owner, cst.Call):
            status, value = find_arg(owner, cond.arg, cond.position, ignore_case=cond.ignore_case)
            if status == "unknown" and cond.read_kwargs and isinstance(cond.arg, str) and evidence.kwargs_lack(owner, self.ctx, cond.arg):
                status, value = find_arg(owner, cond.arg, cond.position, ignore_case=cond.ignore_case, kwargs_seen=True)
        else:
            return False, None
        if status == "unknown":
            return False, None
        if cond.key is not None:
            return self._holds_entry(cond, cond.key, owner, value)
        if value is not None and cond.item is not None:
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) > cond.item:
                el = value.elements[cond.item]
                if isinstance(el, cst.StarredElement):
                    return False, None
                value = el.value
            else:
                return False, None
        result = self._predicate(cond, status, value)
        if cond.negate:
            if status != "present" and cond.predicate not in ("missing", "present", "unset"):
                return False, None
            result = not result
        return result, value if status == "present" else None

    def _holds_entry(self, cond: Condition, keys: tuple[str, ...], owner: cst.CSTNode, value: cst.BaseExpression | None) -> tuple[bool, cst.BaseExpression | None]:
        """A ``key`` condition: the predicate on the dict argument's entries for the key (any of
        them holds), or on the key's absence when the dict is seen to have none."""
        pairs = evidence.dict_entries(value, owner, self.ctx) if value is not None and isinstance(owner, cst.Call) else None
        if pairs is None:
            return False, None  # no dict passed, or one we cannot see
        values = [v for k, v in pairs if k in keys]
        found: cst.BaseExpression | None = None
        if values:
            found = next((v for v in values if self._predicate(cond, "present", v)), None)
            result = found is not None
        else:
            result = self._predicate(cond, "missing", None)
        if cond.negate:
            if not values and cond.predicate not in ("missing", "present", "unset"):
                return False, None
            return not result, None
        return result, found

    def _predicate(self, cond: Condition, status: str, value: cst.BaseExpression | None) -> bool:
        return predicate(cond, status, value, self.resolver)


def _names_in(expr: cst.BaseExpression) -> frozenset[str]:
    """The variable and attribute names an expression reads (``not self.verify_tls`` -> verify_tls, self)."""
    names: set[str] = set()
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, cst.Attribute):
            names.add(node.attr.value)
            stack.append(node.value)
        else:
            stack.extend(children(node))
    return frozenset(names)


def _once(candidates: list[CompiledRule]) -> Iterator[CompiledRule]:
    """Each compiled alternative once: one that lists both ``ssl.wrap_socket`` and
    ``*.wrap_socket`` is a candidate twice for ``ssl.wrap_socket(...)``."""
    seen: set[int] = set()
    for compiled in candidates:
        if id(compiled) not in seen:
            seen.add(id(compiled))
            yield compiled


# --------------------------------------------------------------------------- entry point


#: libcst's native parser recurses once per operand of a chain (`a and b and ...`, `"a" "b" ...`,
#: `elif` after `elif`), in C: CPython accepts 10,000 operands that overflow an 8 MiB stack. The
#: parse runs on a thread whose stack holds what the size cap admits (reserved, not committed).
_PARSE_STACK = 1 << 30
#: libcst's own visit and code generation recurse in Python, a few frames per level of a chain:
#: what they need for such a chain, on the same thread (the plain implementation only)
_PLAIN_RECURSION = 1 << 17

_T = TypeVar("_T")


def _on_deep_stack(work: Callable[[], _T], recursion: int = 0) -> _T:
    """``work()`` on a thread with a stack deep enough for any file under the size cap
    (``recursion``: the interpreter's recursion limit while it runs, when that is higher)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(work())
        except BaseException as exc:  # handed to the caller as it is
            outcome.append(exc)

    previous = threading.stack_size(_PARSE_STACK)
    limit = sys.getrecursionlimit()
    try:
        thread = threading.Thread(target=run, name="pitfall-parse", daemon=True)
        if recursion > limit:
            sys.setrecursionlimit(recursion)  # the calling thread waits for it
        thread.start()
    finally:
        threading.stack_size(previous)
    try:
        thread.join()
    finally:
        sys.setrecursionlimit(limit)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]  # type: ignore[no-any-return]


# what generated code says of itself: "DO NOT EDIT", "Code generated" (Go's convention, which protoc
# and gRPC's Python plugins follow in substance) and `@generated`; not Sphinx's "autogenerated file" (a
# conf.py its project edits)
_GENERATED = re.compile(r"\bdo not edit\b|@generated\b|\bcode generated\b", re.I)
_DOCSTRING_START = re.compile(r"[rRuUbB]{0,2}(\"\"\"|\'\'\'|\"|\')")


def generated(text: str) -> bool:
    """Whether a module says it is generated (``exclude-generated``): a marker in the comments
    before its first statement, or in its docstring; only the first 4 KiB are read."""
    head = text[:4096]
    lines = head.splitlines(keepends=True)
    said: list[str] = []
    at = 0
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        said.append(line)
        at += len(line)
    rest = head[at:]
    start = _DOCSTRING_START.match(rest)
    if start is not None:
        quote = start.group(1)
        end = rest.find(quote, start.end())
        said.append(rest[start.end() : end if end >= 0 else len(rest)])
    return _GENERATED.search("".join(said)) is not None


def parse_module(text: str) -> cst.Module:
    """``libcst.parse_module`` on a thread with a stack deep enough for any file under the size cap."""
    return _on_deep_stack(lambda: cst.parse_module(text))


_NESTING_LIMIT = re.compile(r"too many|nested too deeply|too deeply nested|maximum recursion")


def _parse_any_version(text: str) -> cst.Module | None:
    """libcst's parse of a text the running interpreter rejected; None when it is no Python 3 either."""
    try:
        return parse_module(text)
    except Exception:  # ParserSyntaxError, RecursionError...
        return None


class NotAnalysed(Exception):
    """A file CPython parses but the analyzer cannot: a notice for the user, not a finding."""


class ParseError(Exception):
    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def analyze(
    path: str, text: str, ruleset: PythonRuleSet, *, encoded: bytes | None = None, index: ProjectIndex | None = None, memo: ParseMemo | None = None
) -> list[Finding]:
    """All Python findings for one file. Raises ParseError when the file does not parse.

    ``index``: the project's signature index (an input like the text; None: this file only).
    ``memo``: the language server's parse memo: libcst parses only the statements changed since
    the last version of ``path`` (``linter.python.incremental``; not under ``PITFALL_NO_FAST_PATHS``).
    """
    data = encoded if encoded is not None else text.encode("utf-8", "surrogatepass")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # the text has no BOM either (decoded as utf-8-sig); line 1 is a line like any other
    # CPython's own parser (in C, fast) first: it reports syntax errors for every file, and its
    # nesting limits keep pathological input away from libcst's native parser, which would
    # overflow its stack on it
    tree: ast.Module | None
    newer: cst.Module | None = None
    try:
        with warnings.catch_warnings():  # CPython's SyntaxWarnings are about the scanned code: not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(data, path)
    except SyntaxError as exc:
        # syntax newer than the running interpreter (PEP 695 `type X = ...`, PEP 701 f-strings,
        # PEP 758 `except A, B:`): libcst's grammar covers Python 3.0 to 3.14 whatever runs it;
        # input over CPython's nesting limits never reaches it
        newer = None if _NESTING_LIMIT.search(exc.msg or "") else _parse_any_version(text)
        if newer is None:
            raise ParseError(f"syntax error: {exc.msg}", max(1, exc.lineno or 1), max(1, exc.offset or 1)) from None
        tree = None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ParseError(f"cannot parse: {exc}", 1, 1) from None
    fast = core.FAST_PATHS
    if not ruleset.rules or (fast and not ruleset.wants(data)):
        return []
    gates = ruleset._gates
    active = [(rule, cls) for (rule, cls), gate in zip(ruleset.visitors, gates) if not fast or gate is None or gate.search(data)]
    dropped: set[int] = set()
    if fast and tree is not None and all(cls.LOCAL for _, cls in active) and not ruleset._whole_file.search(data):
        text, dropped = _reduce(text, tree, ruleset, data)
    try:
        if newer is not None:
            module = newer
        elif memo is not None and fast:
            module = memo.parse(path, text, parse_module)
        else:
            module = parse_module(text)
    except (cst.ParserSyntaxError, RecursionError) as exc:
        # CPython parsed it: valid Python that libcst cannot read (20,000 implicitly joined
        # strings), a limit of the analyzer and no fault in the file
        detail = exc.message if isinstance(exc, cst.ParserSyntaxError) else "nesting too deep"
        raise NotAnalysed(f"valid Python that the analyzer cannot parse ({detail})") from None
    resolver = Resolver(module)
    context = Context(module, resolver, path, index, text)
    visitors: list[cst.BatchableCSTVisitor] = []
    if ruleset.names_used:
        visitors.append(_Declarative(ruleset, context))
    visitors.extend(cls(rule, context) for rule, cls in active)
    if not fast:
        positions = _on_deep_stack(lambda: _walk_plain(module, visitors, context), _PLAIN_RECURSION)
        return [_finding(path, r, positions, context) for r in context.reports]
    batch = Batch([_ScopeTracker(resolver, context), *visitors])
    batch.enter(module)
    for i, stmt in enumerate(module.body):
        context.where = (i, -1)
        if isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            _walk_class(batch, stmt, context)
        else:
            batch.walk(stmt)
    context.where = (-1, -1)
    batch.exit(module)
    if not context.reports:
        return []
    wanted: dict[int, set[int] | None] = {}
    for r in context.reports:
        if r.member < 0:
            wanted[r.top] = None
        elif wanted.get(r.top, set()) is not None:
            wanted.setdefault(r.top, set()).add(r.member)  # type: ignore[union-attr]
    positions = _positions(module, tree, dropped, wanted)
    if any(r.node not in positions or (r.fix_node is not None and r.fix_node not in positions) for r in context.reports):
        positions = _positions(module)  # a visitor reported a node outside the statement it was in
    return [_finding(path, r, positions, context) for r in context.reports]


def _walk_plain(module: cst.Module, visitors: Sequence[cst.BatchableCSTVisitor], context: Context) -> Mapping[cst.CSTNode, CodeRange]:
    """The walk without shortcuts: libcst's own batched visit of the whole module, then the
    positions of the whole module from its ``PositionProvider`` when there are reports. Before
    any visitor sees a node, the resolver enters its scope and ``context.where`` moves to it;
    both are restored after every visitor has left it."""
    resolver = context.resolver
    where: dict[int, tuple[int, int]] = {}
    for i, stmt in enumerate(module.body):
        where[id(stmt)] = (i, -1)
        if isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for j, member in enumerate(stmt.body.body):
                where[id(member)] = (i, j)

    def before(node: cst.CSTNode) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            resolver.stack.append(resolver.scope_for(node, resolver.scope))
            if isinstance(node, cst.FunctionDef):
                context.functions.append(node)
        at = where.get(id(node))
        if at is not None:
            context.where = at

    def after(node: cst.CSTNode) -> None:
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            resolver.stack.pop()
            if isinstance(node, cst.FunctionDef):
                context.functions.pop()
        at = where.get(id(node))
        if at is not None:
            context.where = (at[0], -1) if at[1] >= 0 else (-1, -1)

    cst.visit_batched(module, visitors, before_visit=before, after_leave=after)
    if not context.reports:
        return {}
    return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


class _PositionSink:
    __slots__ = ("_computed",)

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, Any] = {}


def _walk_class(batch: Batch, node: cst.ClassDef, context: Context) -> None:
    """``batch.walk(node)`` in the same order, keeping ``context.where`` on the class-body
    statement being walked (positions are then generated for that statement only, not for
    the whole class)."""
    top = context.where[0]
    block = node.body
    batch.enter(node)
    for field_name in child_fields(cst.ClassDef):
        value = getattr(node, field_name)
        if value is not block:
            for child in field_nodes(value):
                batch.walk(child)
            continue
        batch.enter(block)
        for inner in child_fields(type(block)):
            for j, child in enumerate(field_nodes(getattr(block, inner))):
                context.where = (top, j if inner == "body" else -1)
                batch.walk(child)
        context.where = (top, -1)
        batch.exit(block)
    batch.exit(node)


def _positions(module: cst.Module, tree: ast.Module | None = None, dropped: AbstractSet[int] = frozenset(), wanted: dict[int, set[int] | None] | None = None) -> Any:
    """Syntactic positions of the nodes of the module-level statements in ``wanted`` (index ->
    None for the whole statement, or the indexes of the class-body statements of a class).

    ``MetadataWrapper.resolve(PositionProvider)`` generates the code of the whole module and
    then rebuilds the tree in a full visit; here the provider's codegen state is driven
    directly, and only over the statements that hold findings, each started at its own line
    (taken from CPython's tree of the same text); in a class, only over the methods that hold
    them. The wrapper is the fallback should libcst's internals change.
    """
    try:
        from libcst.metadata.position_provider import PositionProvidingCodegenState

        sink = _PositionSink()

        def state_at(line: int, indent: str | None = None) -> Any:
            state = PositionProvidingCodegenState(
                default_indent=module.default_indent, default_newline=module.default_newline, provider=sink  # type: ignore[arg-type]
            )
            if indent is not None:
                state.increase_indent(indent)
            state.line = line
            return state

        firsts = _statement_starts(module.body, tree.body, dropped) if tree is not None and wanted is not None else None
        if firsts is None:
            state = PositionProvidingCodegenState(
                default_indent=module.default_indent, default_newline=module.default_newline, provider=sink  # type: ignore[arg-type]
            )
            module._codegen(state)
            return sink._computed
        for i in sorted(t for t in (wanted or {}) if t >= 0):
            stmt, (line, first) = module.body[i], firsts[i]
            members = (wanted or {}).get(i)
            if members and isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock) and isinstance(first, ast.ClassDef):
                inner = _statement_starts(stmt.body.body, first.body, frozenset())
                if inner is not None:
                    indent = stmt.body.indent if stmt.body.indent is not None else module.default_indent
                    for j in sorted(members):
                        stmt.body.body[j]._codegen(state_at(inner[j][0], indent))
                    continue
            stmt._codegen(state_at(line))
        return sink._computed
    except (ImportError, TypeError, AttributeError, IndexError):  # pragma: no cover - a libcst without these internals
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _statement_starts(body: Sequence[cst.BaseStatement], tree_body: Sequence[ast.stmt], dropped: AbstractSet[int]) -> list[tuple[int, ast.stmt]] | None:
    """(first line of its code, leading lines included; CPython's first statement in it) for
    each libcst statement of a body, matched with CPython's statements of the same body
    (``dropped``: indexes of CPython statements libcst did not get, see ``_reduce``)."""
    statements = [s for i, s in enumerate(tree_body) if i not in dropped]
    starts: list[tuple[int, ast.stmt]] = []
    k = 0
    for stmt in body:
        if k >= len(statements):
            return None
        first = statements[k]
        line = first.lineno
        for deco in getattr(first, "decorator_list", ()):
            line = min(line, deco.lineno)
        if isinstance(stmt, cst.SimpleStatementLine):
            k += len(stmt.body)
        else:
            k += 1
        # libcst's statements are simple lines or compound statements, both with leading_lines
        if not isinstance(stmt, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            raise AttributeError(f"{type(stmt).__name__} has no leading_lines")  # as before: _positions falls back
        starts.append((line - len(stmt.leading_lines), first))
    return starts if k == len(statements) else None


_COMPOUND = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _root_aliases(tree: ast.Module, ruleset: PythonRuleSet) -> set[str]:
    """Module-level names bound to a rule root (``from urllib.request import urlopen as get``,
    ``SESSION = requests.Session()``): a statement that uses one of them must be kept."""
    roots = ruleset.root_names
    names: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, ast.Import):
            for a in stmt.names:
                if a.name.split(".")[0] in roots:
                    names.add(a.asname or a.name.split(".")[0])
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.module and not stmt.level and stmt.module.split(".")[0] in roots:
                names.update(a.asname or a.name for a in stmt.names)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
            used = {n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name)}
            if used & names or used & roots:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(stmt, (ast.If, ast.Try, ast.With)) or type(stmt).__name__ == "TryStar":
            for field_name in ("body", "orelse", "finalbody", "handlers"):
                for sub in getattr(stmt, field_name, ()):
                    stack.extend(sub.body if isinstance(sub, ast.ExceptHandler) else [sub])
    names.discard("*")
    return names


def _span(node: ast.stmt) -> tuple[int, int]:
    start = node.lineno
    for deco in getattr(node, "decorator_list", ()):
        start = min(start, deco.lineno)
    return start, node.end_lineno or node.lineno


def _reduce(text: str, tree: ast.Module, ruleset: PythonRuleSet, data: bytes) -> tuple[str, set[int]]:
    """Blank out the definitions no rule can fire in, before libcst parses the file.

    libcst's parse is the dominant cost, and large files (test suites) mention a trigger in a
    few functions only. A module-level ``def``/``class`` whose own text passes none of the
    pre-filter's tests is replaced by empty lines (a method of a kept class by ``pass``), so
    line and column numbers stay exact. Module-level statements that are not definitions
    (imports, assignments, ``if``/``try`` blocks: name resolution needs them) are always
    kept. Used only when every active visitor declares ``LOCAL`` (its findings depend on
    statements that contain its triggers). Returns the text and the indexes (in
    ``tree.body``) of the statements blanked out.
    """
    lines = text.splitlines(keepends=True)
    dropped: set[int] = set()
    if len(lines) < 200:
        return text, dropped  # small files: not worth it
    roots = ruleset.imported_name_patterns(data)
    aliases = _root_aliases(tree, ruleset)
    if aliases:
        roots.append(_whole_words(sorted(aliases)))
    out = list(lines)
    changed = False

    def relevant(start: int, end: int) -> bool:
        chunk = "".join(lines[start - 1 : end]).encode("utf-8", "surrogatepass")
        return ruleset.relevant(chunk, roots)

    def blank(start: int, end: int, keep_pass: bool) -> None:
        for i in range(start - 1, min(end, len(out))):
            line = lines[i]
            out[i] = line[len(line.rstrip("\r\n")) :] or "\n"
        if keep_pass:
            first = lines[start - 1]
            indent = first[: len(first) - len(first.lstrip())]
            out[start - 1] = f"{indent}pass" + (first[len(first.rstrip("\r\n")) :] or "\n")

    for index, stmt in enumerate(tree.body):
        # only definitions are skipped: module-level `if`/`try` blocks hold imports and bindings
        if not isinstance(stmt, _COMPOUND):
            continue
        start, end = _span(stmt)
        if not relevant(start, end):
            blank(start, end, False)
            dropped.add(index)
            changed = True
        elif isinstance(stmt, ast.ClassDef):
            for sub in stmt.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name != "__init__":
                    s2, e2 = _span(sub)
                    if not relevant(s2, e2):
                        blank(s2, e2, True)
                        changed = True
    return ("".join(out) if changed else text), dropped


def _region(positions: Any, node: cst.CSTNode) -> Region:
    rng = positions[node]
    return Region(rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1)


def _finding(path: str, report: Report, positions: Any, context: Context) -> Finding:
    rule = report.rule
    region = _region(positions, report.node)
    try:
        message = report.message or rule.message.format_map(Placeholders(report.fmt))
    except (ValueError, IndexError):
        message = rule.message
    fix = _fix(report, positions, context) if rule.fix else None
    anchor = report.fmt.get("qualname") or type(report.node).__name__
    return Finding(rule.id, path, region, message, rule.severity, fix=fix, fingerprint=anchor)


_KWARG = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.+)", re.S)


def _position_of(matcher: Any, name: str) -> int | None:
    """The ``position`` the rule's conditions give the argument ``name`` (it may be passed
    positionally), when all of them agree on one; else None (look for the keyword only)."""
    found: set[int | None] = set()
    stack = [matcher]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("arg") == name:
                pos = item.get("position")
                found.add(pos if isinstance(pos, int) and not isinstance(pos, bool) else None)
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return found.pop() if len(found) == 1 else None


def _fix(report: Report, positions: Any, context: Context) -> Fix | None:
    spec = report.rule.fix
    if spec is None or report.fix_node is None:
        return None
    node = report.fix_node
    if spec.kind == "add-kwarg":
        if not isinstance(node, cst.Call):
            return None
        m = _KWARG.fullmatch(spec.text.strip())
        if m is not None:
            # the argument may be there already (`max_tries=None` is unset too): set it, never add it twice
            name, value = m.group(1), m.group(2).strip()
            status, present = find_arg(node, name, _position_of(report.rule.matcher, name))
            if status == "present":
                if present is None or present not in positions:
                    return None
                return Fix(spec.title, spec.applicability, (Edit(_region(positions, present), value),))
        last = node.args[-1] if node.args else None
        if last is not None and isinstance(last.value, cst.GeneratorExp) and not last.value.lpar:
            return None  # `f(x for x in y)`: an argument after it would be a syntax error
        if node.args:
            end = _region(positions, node.args[-1])  # the Arg: its value's parentheses included
            edit = Edit(Region(end.end_line, end.end_column, end.end_line, end.end_column), ", " + spec.text)
        else:
            whole = _region(positions, node)
            edit = Edit(Region(whole.end_line, whole.end_column - 1, whole.end_line, whole.end_column - 1), spec.text)
    elif spec.kind in ("set-kwarg", "replace"):
        edit = Edit(_region(positions, node if spec.kind == "set-kwarg" else report.node), spec.text)
    else:
        return None
    return Fix(spec.title, spec.applicability, (edit,))
