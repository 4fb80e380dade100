"""What the rest of a module says about one call: the evidence the ``unless-*`` vetoes of the
declarative Python matcher read (and the ``read-kwargs`` and ``key`` parts of its conditions).

Each function answers one question a rule author asks in YAML (``docs/writing-rules.md``): is
the option passed to the same callee elsewhere in the function, is the receiver given a
default elsewhere, may a ``**`` dict or a dict argument hold a key, what does a dict argument
set, is a URL plain ``http://`` or on this host. The scans of the module they need are made
once per module and kept in :class:`Evidence`, which the analyzer's ``Context`` owns.

This module imports nothing of the analyzer at run time (the analyzer imports it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import libcst as cst

from linter import core
from linter.python import tree
from linter.python.addresses import arg_value, is_loopback, template, url_host_port

if TYPE_CHECKING:
    from linter.python.visitor import Context

Function = cst.FunctionDef | cst.Lambda
Pairs = list[tuple[str | None, cst.BaseExpression]]


def _scan(root: cst.CSTNode, enter: Callable[[cst.CSTNode], None], leave: Callable[[cst.CSTNode], None] | None = None) -> None:
    """Every node under ``root`` (itself included) in source order: ``enter`` before its
    children, ``leave`` after them. Read-only; no recursion, so any depth libcst parses."""
    stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            if leave is not None:
                leave(node)
            continue
        enter(node)
        if leave is not None:
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(tree.children(node)))


class Evidence:
    """The module-wide scans of one module, each made when first asked for."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._functions: dict[int, Function | None] | None = None
        self._siblings: dict[int, list[cst.Call]] = {}
        self._receivers: dict[tuple[tuple[str, ...], tuple[str, ...] | None], frozenset[str]] = {}

    def enclosing_function(self, call: cst.Call) -> Function | None:
        """The innermost ``def`` or ``lambda`` around ``call``; None at module level."""
        if self._functions is None:
            found: dict[int, Function | None] = {}
            stack: list[Function | None] = [None]

            def enter(node: cst.CSTNode) -> None:
                if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                    stack.append(node)
                elif isinstance(node, cst.Call):
                    found[id(node)] = stack[-1]

            def leave(node: cst.CSTNode) -> None:
                if isinstance(node, (cst.FunctionDef, cst.Lambda)):
                    stack.pop()

            _scan(self.ctx.module, enter, leave)
            self._functions = found
        return self._functions.get(id(call))

    def calls_in_same_function(self, call: cst.Call) -> list[cst.Call] | None:
        """Every call of the ``def`` the walk is in (its decorators and defaults included; lambdas
        and classes in it belong to it, a nested ``def`` does not), scanned once per ``def``;
        None for module-level code. ``call`` is where the walk is (``Context.functions``)."""
        functions = self.ctx.functions
        if not functions:
            return None
        function = functions[-1]
        cached = self._siblings.get(id(function))
        if cached is None:
            cached = []
            stack: list[cst.CSTNode] = [function]
            while stack:
                node = stack.pop()
                if isinstance(node, cst.Call):
                    cached.append(node)
                elif isinstance(node, cst.FunctionDef) and node is not function:
                    continue
                stack.extend(tree.children(node))
            self._siblings[id(function)] = cached
        return cached

    def changed_receivers(self, assigned: tuple[str, ...], mounted_except: tuple[str, ...] | None) -> frozenset[str]:
        """Receivers (as written: ``session``, ``self.http``) that the module gives one of the
        ``assigned`` attributes (``s.request = functools.partial(s.request, timeout=5)``) or,
        when ``mounted_except`` is not None, an adapter through ``s.mount(prefix, adapter)``
        other than a call of one of those classes. One walk of the module, only when its text
        can hold either (a fast path: always under ``PITFALL_NO_FAST_PATHS``)."""
        key = (assigned, mounted_except)
        cached = self._receivers.get(key)
        if cached is not None:
            return cached
        ctx = self.ctx
        parts = []
        if mounted_except is not None:
            parts.append(r"\.\s*mount\b")
        if assigned:
            parts.append(r"\.\s*(?:" + "|".join(re.escape(a) for a in assigned) + r")\b[\s\\]*=(?!=)")
        found: set[str] = set()
        plain = frozenset(mounted_except or ())
        resolver = ctx.resolver

        def enter(node: cst.CSTNode) -> None:
            if isinstance(node, cst.Call):
                func = node.func
                if mounted_except is None or not (isinstance(func, cst.Attribute) and func.attr.value == "mount") or len(node.args) < 2:
                    return
                adapter = node.args[1].value
                if isinstance(adapter, cst.Call) and isinstance(adapter.func, (cst.Name, cst.Attribute)):
                    if resolver.resolve(adapter.func, resolver.module_scope) in plain:
                        return  # a plain adapter adds retries or pool sizes, not the option
                name = _receiver_key(func.value, ctx)
                if name:
                    found.add(name)
            elif isinstance(node, cst.Assign):
                for target in node.targets:
                    t = target.target
                    if isinstance(t, cst.Attribute) and t.attr.value in assigned:
                        name = _receiver_key(t.value, ctx)
                        if name:
                            found.add(name)

        if parts and (re.search("|".join(parts), ctx.source) or not core.FAST_PATHS):
            _scan(ctx.module, enter)
        cached = self._receivers[key] = frozenset(found)
        return cached


def _receiver_key(node: cst.BaseExpression, ctx: Context) -> str | None:
    if isinstance(node, (cst.Name, cst.Attribute)):
        return ctx.code(node)
    return None


# --------------------------------------------------------------------------- unless-given-elsewhere


def _positional(call: cst.Call) -> list[cst.BaseExpression]:
    return [a.value for a in call.args if a.keyword is None and not a.star]


def given_elsewhere(call: cst.Call, ctx: Context, arg: str) -> bool:
    """The same function also calls the same callee (as written) passing ``arg`` by keyword, or
    more positional arguments than this call, as a variable: the code chooses when to pass it
    (``if timeout is not None: create_connection(a, timeout)`` then ``create_connection(a)``).
    Module-level code and literal values do not count."""
    group = ctx.evidence.calls_in_same_function(call)
    if group is None:
        return False
    callee = ctx.code(call.func)
    mine = len(_positional(call))
    for other in group:
        if other is call or ctx.code(other.func) != callee:
            continue
        given = [a.value for a in other.args if a.keyword is not None and a.keyword.value == arg]
        given += _positional(other)[mine:]
        if any(isinstance(v, cst.Name) and v.value not in ("None", "True", "False") for v in given):
            return True
    return False


# --------------------------------------------------------------------------- unless-receiver


def receiver_changed(call: cst.Call, ctx: Context, assigned: tuple[str, ...], mounted_except: tuple[str, ...] | None) -> bool:
    """The method's receiver is given a default elsewhere in the module (see
    ``Evidence.changed_receivers``)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    key = _receiver_key(func.value, ctx)
    return key is not None and key in ctx.evidence.changed_receivers(assigned, mounted_except)


# --------------------------------------------------------------------------- dicts seen to lack a key


def string_key(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


def _dict_without(value: cst.BaseExpression, key: str, ctx: Context) -> bool:
    """``value`` is a dict display or a ``dict(...)`` call whose keys are all visible, ``key`` not
    among them."""
    if isinstance(value, cst.Dict):
        for el in value.elements:
            if not isinstance(el, cst.DictElement):
                return False  # `{**other}`
            name = string_key(el.key)
            if name is None or name == key:
                return False
        return True
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and ctx.resolver.resolve(value.func) == "dict":
        for a in value.args:
            if a.star or (a.keyword is None and not (len(value.args) == 1 and _dict_without(a.value, key, ctx))):
                return False
            if a.keyword is not None and a.keyword.value == key:
                return False
        return True
    return False


def _references(root: cst.CSTNode, name: str) -> list[cst.Name]:
    """Every ``Name`` node spelling ``name`` under ``root`` except attribute and keyword names."""
    found: list[cst.Name] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            if node.value == name:
                found.append(node)
            continue
        children = list(tree.children(node))
        if isinstance(node, cst.Attribute):
            children = [c for c in children if c is not node.attr]
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            children = [c for c in children if c is not node.keyword]
        stack.extend(children)
    return found


def _store_targets(root: cst.CSTNode) -> list[cst.BaseExpression]:
    """The expressions written to under ``root``: assignment, ``for``, ``with ... as``, walrus and ``del`` targets."""
    out: list[cst.BaseExpression] = []
    stack: list[cst.CSTNode] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Assign):
            out.extend(t.target for t in node.targets)
        elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del)):
            out.append(node.target)
        elif isinstance(node, cst.AsName):
            out.append(node.name)  # type: ignore[arg-type]
        stack.extend(tree.children(node))
    return out


_READ_ONLY = frozenset({"get", "pop", "popitem", "copy", "items", "keys", "values", "clear", "__getitem__", "__contains__"})


def _local_dict_without(function: Function, name: str, key: str, ctx: Context, passed: cst.Name | None = None) -> bool:
    """``name`` is bound once in ``function`` (not a parameter) to a dict display or ``dict(...)``
    without ``key``, and every other use of it is one we can see through: a read, a ``**name``,
    a store under another literal key, an ``update``/``setdefault`` without ``key``. Anything
    else (another binding, passing the dict on, a computed key) may add the key. ``passed``: the
    reference that hands the dict to the call being checked, a read too."""
    if not isinstance(function, cst.FunctionDef):
        return False  # a lambda binds nothing but its parameters
    params = function.params
    for p in (*params.posonly_params, *params.params, *params.kwonly_params, params.star_arg, params.star_kwarg):
        if isinstance(p, cst.Param) and p.name.value == name:
            return False
    body = function.body
    refs = _references(body, name)
    if not refs:
        return False
    seen: set[int] = {id(passed)} if passed is not None else set()
    definitions = 0
    stores: set[int] = set()
    for target in _store_targets(body):
        for sub in [target, *(el.value for el in getattr(target, "elements", ()))]:
            if isinstance(sub, cst.Subscript) and isinstance(sub.value, cst.Name) and sub.value.value == name:
                stores.add(id(sub))
    stack: list[cst.CSTNode] = [body]
    while stack:
        node = stack.pop()
        stack.extend(tree.children(node))
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Name) and t.value == name for t in targets):
                if len(targets) != 1 or node.value is None or not _dict_without(node.value, key, ctx):
                    return False
                definitions += 1
                seen.add(id(targets[0]))
        elif isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and node.value.value == name:
            index = node.slice[0].slice if len(node.slice) == 1 else None
            literal_key = string_key(index.value) if isinstance(index, cst.Index) else None
            if literal_key == key or (id(node) in stores and literal_key is None):
                return False
            seen.add(id(node.value))
        elif isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Name) and node.func.value.value == name:
            method = node.func.attr.value
            if method == "update":
                for a in node.args:
                    if a.star or (a.keyword is None and not _dict_without(a.value, key, ctx)):
                        return False
                    if a.keyword is not None and a.keyword.value == key:
                        return False
            elif method == "setdefault":
                first = node.args[0] if node.args else None
                literal_key = string_key(first.value) if first is not None and first.keyword is None else None
                if literal_key is None or literal_key == key:
                    return False
            elif method not in _READ_ONLY:
                return False
            seen.add(id(node.func.value))
        elif isinstance(node, cst.Arg) and node.star == "**" and isinstance(node.value, cst.Name) and node.value.value == name:
            seen.add(id(node.value))
        elif isinstance(node, cst.StarredDictElement) and isinstance(node.value, cst.Name) and node.value.value == name:
            seen.add(id(node.value))
    return definitions == 1 and all(id(r) in seen for r in refs)


def kwargs_lack(call: cst.Call, ctx: Context, key: str) -> bool:
    """Every ``**`` dict the call forwards is seen never to get ``key``: a dict display or
    ``dict(...)`` written inline, or a name bound once to one in the same function and used
    only in ways we can see through (``read-kwargs``). A parameter, an attribute, a call result
    or a dict handed to other code may hold it."""
    forwarded = [a.value for a in call.args if a.star == "**"]
    if not forwarded:
        return False
    function = ctx.evidence.enclosing_function(call)
    for value in forwarded:
        if isinstance(value, cst.Name):
            if function is None or not _local_dict_without(function, value.value, key, ctx):
                return False
        elif not _dict_without(value, key, ctx):
            return False
    return True


def dict_may_hold(call: cst.Call, ctx: Context, arg: str, key: str, find: Callable[[cst.Call, str, int | None], tuple[str, cst.BaseExpression | None]]) -> bool:
    """``unless-in-dict``: the dict passed as keyword ``arg`` may hold ``key``. Not passed: it
    does not. A dict display or ``dict(...)`` without the key, inline or bound once in the same
    function (``connect_args = {"sslmode": "require"}``), does not; anything else may."""
    status, value = find(call, arg, None)
    if status == "missing":
        return False
    if value is None:
        return True  # `**kwargs` may hold the dict
    if isinstance(value, cst.Name):
        function = ctx.evidence.enclosing_function(call)
        return function is None or not _local_dict_without(function, value.value, key, ctx, passed=value)
    return not _dict_without(value, key, ctx)


# --------------------------------------------------------------------------- `key`: what a dict argument sets


def _entries(value: cst.BaseExpression) -> Pairs:
    """The (key, value) pairs of a dict display (``None`` for a key that is not a literal string)."""
    if not isinstance(value, cst.Dict):
        return []
    return [(string_key(el.key), el.value) for el in value.elements if isinstance(el, cst.DictElement)]


def _scope_pairs(scope: cst.CSTNode, name: str) -> Pairs:
    """Every key written to the dict ``name`` in ``scope`` that we can see: ``name = {...}``,
    ``name["key"] = value`` and ``name.update({...})``. Nested functions and classes are not
    searched (they bind their own names)."""
    pairs: Pairs = []
    stack: list[cst.CSTNode] = list(tree.children(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        stack.extend(tree.children(node))
        if isinstance(node, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Name) and target.value == name and node.value is not None:
                    pairs.extend(_entries(node.value))
                elif (
                    isinstance(target, cst.Subscript)
                    and isinstance(target.value, cst.Name)
                    and target.value.value == name
                    and len(target.slice) == 1
                    and isinstance(target.slice[0].slice, cst.Index)
                    and node.value is not None
                ):
                    pairs.append((string_key(target.slice[0].slice.value), node.value))
        elif (
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "update"
            and isinstance(node.func.value, cst.Name)
            and node.func.value.value == name
        ):
            for a in node.args:
                if a.keyword is None and not a.star:
                    pairs.extend(_entries(a.value))
    return pairs


def dict_entries(value: cst.BaseExpression, call: cst.Call, ctx: Context) -> Pairs | None:
    """What a dict argument is seen to set: a dict display written in the call, or every key
    written to the name it passes in the same function (at module level: the module's own
    statements). None when we cannot see it (a parameter bound elsewhere, a call result, a lambda)."""
    if isinstance(value, cst.Dict):
        return _entries(value)
    if not isinstance(value, cst.Name):
        return None
    function = ctx.evidence.enclosing_function(call)
    if isinstance(function, cst.Lambda):
        return None
    return _scope_pairs(function.body if function is not None else ctx.module, value.value)


# --------------------------------------------------------------------------- unless-url


def _url_is(node: cst.BaseExpression | None, kind: str) -> bool:
    text = template(node)
    if text is None:
        return False
    if kind == "plain-http":
        return text[:7].lower() == "http://"
    hp = url_host_port(text)
    return hp is not None and is_loopback(hp.host)


def url_is(call: cst.Call, ctx: Context, arg: str, position: int | None, kind: str, follow_names: bool) -> bool:
    """``unless-url``: the URL argument (a literal or a template whose literal part decides)
    is ``plain-http`` (written as ``http://...``: no TLS) or ``loopback`` (its host is this
    machine). ``follow_names``: a name the module binds to such a URL counts too."""
    url = arg_value(call, arg, position)
    if url is None:
        return False
    if _url_is(url, kind):
        return True
    if not follow_names or not isinstance(url, cst.Name):
        return False
    stack: list[cst.CSTNode] = [ctx.module]
    while stack:
        node = stack.pop()
        stack.extend(tree.children(node))
        if isinstance(node, (cst.Assign, cst.AnnAssign)) and node.value is not None:
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            if any(isinstance(t, cst.Name) and t.value == url.value for t in targets) and _url_is(node.value, kind):
                return True
    return False


# --------------------------------------------------------------------------- the others


def unpacked(call: cst.Call, ctx: Context) -> bool:
    """``unless-unpacked``: the call unpacks ``*args`` or ``**kwargs``, which may hold anything.
    (Its signature is the ``unless`` hook protocol's, which every veto here extends.)"""
    return any(a.star for a in call.args)


def arg_mentions(call: cst.Call, ctx: Context, arg: str, position: int | None, pattern: re.Pattern[str]) -> bool:
    """``unless-arg-mentions``: the argument's source text matches (a URI built by an f-string,
    a concatenation or a helper that names the option)."""
    value = arg_value(call, arg, position)
    return value is not None and pattern.search(ctx.code(value)) is not None


def module_matches(ctx: Context, pattern: re.Pattern[str]) -> bool:
    """The module's text matches. In a large file, definitions that mention no rule's names may
    have been blanked (a fast path): evidence there is missed, and the call reported."""
    return pattern.search(ctx.source) is not None
