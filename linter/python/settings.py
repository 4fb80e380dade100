"""Module-level settings: the ``setting`` alternative of a Python rule's ``match``.

A configuration module (a Django settings module, a ``celeryconfig``, a gunicorn configuration)
is plain Python whose module-level names are the settings. A ``setting`` alternative names such
names and judges each value assigned to them at import time: in the module body and in its
module-level ``if``/``try``/``with``/loop blocks, never inside a function or class.

.. code-block:: yaml

    match:
      - setting: [CACHES]
        entries: true                      # each entry of the dict value: `{alias}` is its key
        where:
          - {key: BACKEND, equals: ["django.core.cache.backends.redis.RedisCache"]}
          - {in: [OPTIONS], key: socket_timeout, is: missing}
        unless-where:
          - {key: LOCATION, is: local-address}

Only what is in sight is judged: a setting the module changes after assigning it (``NAME[...] =``
on an entry, ``NAME.update(...)``, ``NAME += ...``, unpacking, a function that assigns into it or
declares it ``global``) is not judged at all; a ``key`` condition reads a dict display whose keys
are all literal strings (or ``dict(k=v)``) and is false on anything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import libcst as cst

from linter.python import tree
from linter.python.conditions import Condition, predicate as condition_predicate
from linter.python.visitor import Context, Resolver, Visitor, find_arg, literal
from linter.python.statements import module_statements, top_statements
from linter.core.model import Placeholders, Rule

# --------------------------------------------------------------------------- what the module assigns


def root_name(node: cst.BaseExpression) -> str | None:
    """``DATABASES`` for ``DATABASES``, ``DATABASES["default"]["OPTIONS"]``, ``DATABASES.update``."""
    while isinstance(node, (cst.Subscript, cst.Attribute)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def entry_key(target: cst.Subscript) -> cst.BaseExpression | None:
    """The key of ``NAME[<literal string>]``."""
    if len(target.slice) != 1 or not isinstance(target.slice[0].slice, cst.Index):
        return None
    key = target.slice[0].slice.value
    ok, value = literal(key)
    return key if ok and isinstance(value, str) else None


Assignment = tuple[int, cst.BaseExpression, cst.CSTNode]  # (module statement index, value, target)
Entry = tuple[int, cst.BaseExpression, cst.BaseExpression]  # (module statement index, key expression, entry value)


class ModuleSettings:
    """The module-level assignments of a configuration module, read once per module."""

    def __init__(self, module: cst.Module) -> None:
        self.assigned: dict[str, list[Assignment]] = {}
        self.changed: set[str] = set()  # names changed after assignment (subscripts, methods, augmented)
        # entries added one by one: `DATABASES["replica"] = {...}`
        self.added: dict[str, list[Entry]] = {}
        self.star_import = False
        for i, small in module_statements(module):
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    self._target(i, target.target, small.value)
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                self._target(i, small.target, small.value)
            elif isinstance(small, cst.AugAssign):
                name = root_name(small.target)
                if name:
                    self.changed.add(name)
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                func = small.value.func
                if isinstance(func, cst.Attribute):
                    name = root_name(func.value)
                    if name:
                        self.changed.add(name)  # DATABASES["default"].update(...), CACHES.setdefault(...)
            elif isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                self.star_import = True
        # names changed in a module-level function (or a function nested in one) too:
        # `def configure(): DATABASES["default"] = ...`, `global CACHES`
        for stmt in module.body:
            if isinstance(stmt, cst.FunctionDef):
                for function in _functions(stmt):
                    for small in top_statements(function.body.body if isinstance(function.body, cst.IndentedBlock) else ()):
                        if isinstance(small, cst.Assign):
                            for t in small.targets:
                                if not isinstance(t.target, cst.Name):
                                    name = root_name(t.target)
                                    if name:
                                        self.changed.add(name)
                        elif isinstance(small, cst.Global):
                            self.changed.update(n.name.value for n in small.names)

    def _target(self, i: int, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.assigned.setdefault(target.value, []).append((i, value, target))
            return
        key = entry_key(target) if isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) else None
        if key is not None:
            assert isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name)
            self.added.setdefault(target.value.value, []).append((i, key, value))
            return
        elements = target.elements if isinstance(target, (cst.Tuple, cst.List)) else [target]
        for el in elements:
            name = root_name(el.value if isinstance(el, cst.BaseElement) else el)
            if name:
                self.changed.add(name)  # unpacked, or an attribute/subscript we cannot follow

    def values(self, name: str) -> list[Assignment]:
        return self.assigned.get(name, [])

    def entries(self, name: str) -> Iterator[Entry]:
        """The items of each dict display assigned to ``name`` (spreads skipped), then the entries
        assigned one by one."""
        for i, value, _ in self.values(name):
            if isinstance(value, cst.Dict):
                for el in value.elements:
                    if isinstance(el, cst.DictElement):
                        yield i, el.key, el.value
        yield from self.added.get(name, [])


def _functions(node: cst.CSTNode) -> Iterator[cst.FunctionDef]:
    """The functions of a subtree, the node itself included."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.FunctionDef):
            yield current
        stack.extend(tree.children(current))


def module_settings(context: Context) -> ModuleSettings:
    """The module's settings, read on first use and kept with the context."""
    found: ModuleSettings | None = getattr(context, "_module_settings", None)
    if found is None:
        found = ModuleSettings(context.module)
        context._module_settings = found  # type: ignore[attr-defined]
    return found


def dict_items(node: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    """The string-keyed items of a dict display (or ``dict(k=v)``); None when it is not one or
    when a key cannot be seen (a ``**`` spread, a computed key)."""
    if isinstance(node, cst.Dict):
        items: dict[str, cst.BaseExpression] = {}
        for el in node.elements:
            if not isinstance(el, cst.DictElement):
                return None
            ok, key = literal(el.key)
            if not (ok and isinstance(key, str)):
                return None
            items[key] = el.value
        return items
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "dict":
        items = {}
        for arg in node.args:
            if arg.keyword is None:
                return None
            items[arg.keyword.value] = arg.value
        return items
    return None


def alias(node: cst.BaseExpression, context: Context) -> str:
    """An entry's key as the message names it: the literal string, else its source text."""
    ok, value = literal(node)
    return value if ok and isinstance(value, str) else context.code(node)


# --------------------------------------------------------------------------- local addresses

# a host on this machine: none (a local socket), the loopback names, a Unix socket path
LOCAL_HOST = re.compile(r"^(?:|localhost|127\.0\.0\.1|::1|\[::1\]|/.*)$", re.I)
# a URL to this machine, a Unix socket URL or path
LOCAL_URL = re.compile(r"^(?:[a-z+]+://(?:[^@/]*@)?(?:localhost|127\.0\.0\.1|\[::1\])(?:[:/?]|$)|unix://|/)", re.I)


def local_address(text: str) -> bool:
    """A literal address on this machine: a loopback host name, a URL to one, a Unix socket."""
    return bool(LOCAL_HOST.match(text) or LOCAL_URL.match(text))


def _local(value: cst.BaseExpression) -> bool:
    """``is: local-address``: a literal string whose every ``;``/``,``-separated part is local,
    or a list or tuple display of such strings (not empty)."""
    if isinstance(value, (cst.List, cst.Tuple)):
        parts: list[str] = []
        for el in value.elements:
            if isinstance(el, cst.StarredElement):
                return False
            ok, text = literal(el.value)
            if not (ok and isinstance(text, str)):
                return False
            parts.append(text)
    else:
        ok, text = literal(value)
        if not (ok and isinstance(text, str)):
            return False
        parts = [p.strip() for p in re.split(r"[;,]", text)] if re.search(r"[;,]", text) else [text]
    return bool(parts) and all(local_address(p) for p in parts)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class SettingCondition:
    condition: Condition
    path: tuple[str, ...]  # `in`: the nested dicts to descend through before reading `key`


@dataclass(frozen=True, slots=True)
class Alternative:
    names: tuple[str, ...]
    entries: bool
    where: tuple[SettingCondition, ...]
    unless_where: tuple[SettingCondition, ...]
    message: str | None


def _compile(specs: Sequence[dict[str, Any]]) -> tuple[SettingCondition, ...]:
    out: list[SettingCondition] = []
    for spec in specs:
        path = tuple(spec.get("in", ()))
        plain = {k: v for k, v in spec.items() if k not in ("in", "value", "only-keywords")}
        out.extend(SettingCondition(c, path) for c in Condition.compile(plain))
        if "only-keywords" in spec:
            negate = bool(spec.get("not"))
            out.append(SettingCondition(Condition(None, None, None, "only-keywords", frozenset(spec["only-keywords"]), negate), path))
    return tuple(out)


def _predicate(cond: Condition, status: str, value: cst.BaseExpression | None, resolver: Resolver) -> bool:
    if cond.predicate == "local-address":
        return value is not None and _local(value)
    if cond.predicate == "only-keywords":  # a call passing no keyword outside these
        return isinstance(value, cst.Call) and all(a.keyword is None or a.keyword.value in cond.operand for a in value.args)
    return condition_predicate(cond, status, value, resolver)


def _holds(sc: SettingCondition, value: cst.BaseExpression, resolver: Resolver) -> tuple[bool, cst.BaseExpression | None]:
    """Whether a condition holds on a setting's value (or entry), and the value it found."""
    cond = sc.condition
    if cond.arg is not None:  # an argument of the call the value is
        if not isinstance(value, cst.Call):
            return False, None
        status, arg = find_arg(value, cond.arg, cond.position)
        if status == "unknown":
            return False, None
        found: list[cst.BaseExpression] = [arg] if arg is not None else []
    elif cond.key is None and not sc.path:
        found = [value]
    else:
        items = dict_items(value)
        for step in sc.path:
            if items is None:
                return False, None
            if step not in items:
                items = {}
                break
            items = dict_items(items[step])
        if items is None:
            return False, None
        found = [items[k] for k in cond.key or () if k in items]
    if not found:
        result = _predicate(cond, "missing", None, resolver)
        if cond.negate:
            if cond.predicate not in ("missing", "present", "unset"):
                return False, None
            return not result, None
        return result, None
    candidates = found
    if cond.predicate == "regex":  # a list or tuple display: any element
        candidates = [e.value for v in found for e in (v.elements if isinstance(v, (cst.List, cst.Tuple)) else [cst.Element(v)])]
    hit = next((v for v in candidates if _predicate(cond, "present", v, resolver)), None)
    if cond.negate:
        return hit is None, None
    return hit is not None, (None if cond.predicate in ("missing", "unset") else hit)


# --------------------------------------------------------------------------- the visitor


class SettingVisitor(Visitor):
    """Runs the ``setting`` alternatives of one rule over a module (a subclass per rule)."""

    ALTERNATIVES: ClassVar[tuple[Alternative, ...]] = ()

    def visit_Module(self, node: cst.Module) -> None:
        settings = module_settings(self.context)
        names = dict.fromkeys(name for alt in self.ALTERNATIVES for name in alt.names)
        for name in names:
            if name in settings.changed:
                continue
            alternatives = [alt for alt in self.ALTERNATIVES if name in alt.names]
            # in the order of the module, each value (or entry) judged by the alternatives in turn
            if any(alt.entries for alt in alternatives):
                for i, key, entry in settings.entries(name):
                    fmt = {"name": name, "alias": alias(key, self.context)}
                    for alt in alternatives:
                        if alt.entries:
                            self._judge(alt, i, entry, dict(fmt))
            if not all(alt.entries for alt in alternatives):
                for i, value, _ in settings.values(name):
                    for alt in alternatives:
                        if not alt.entries:
                            self._judge(alt, i, value, {"name": name})

    def _judge(self, alt: Alternative, i: int, value: cst.BaseExpression, fmt: dict[str, str]) -> None:
        resolver = self.context.resolver
        report: cst.BaseExpression = value
        for sc in alt.where:
            ok, found = _holds(sc, value, resolver)
            if not ok:
                return
            if found is not None:
                report = found
        if alt.unless_where and all(_holds(sc, value, resolver)[0] for sc in alt.unless_where):
            return
        fmt["value"] = self.context.code(report)
        message = alt.message.format_map(Placeholders(fmt)) if alt.message else None
        self.report(report, message, at=(i, -1), **fmt)


def visitor_for(rule: Rule) -> type[Visitor] | None:
    """The visitor that runs a rule's ``setting`` alternatives, or None when it has none. A rule
    whose alternatives mix ``setting`` with ``call``/``assign``/... is refused (TypeError)."""
    spec = rule.matcher.get("match")
    if spec is None:
        return None
    alternatives = spec if isinstance(spec, list) else [spec]
    settings = [m for m in alternatives if "setting" in m]
    if not settings:
        return None
    if len(settings) != len(alternatives):
        raise TypeError("a rule's `match` alternatives are all `setting` or none")
    compiled = tuple(
        Alternative(
            names=tuple(m["setting"]),
            entries=bool(m.get("entries")),
            where=_compile(m.get("where", ())),
            unless_where=_compile(m.get("unless-where", ())),
            message=m.get("message"),
        )
        for m in settings
    )
    names = tuple(sorted({n for alt in compiled for n in alt.names}))
    return type(f"Setting{rule.id}", (SettingVisitor,), {"ALTERNATIVES": compiled, "TRIGGERS": names})
