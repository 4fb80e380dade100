"""Celery checks (CEL1xx visitors).

Celery reads its configuration from many places: ``Celery(...)`` keyword arguments,
``app.conf.<setting> = ...``, ``app.conf.update(...)``, a ``celeryconfig`` module or class handed
to ``config_from_object``, and Django settings read with ``namespace="CELERY"``
(``CELERY_TASK_TIME_LIMIT``), beside the old upper-case names (``CELERYD_TASK_TIME_LIMIT``). A
per-file rule sees one of them at a time, so these visitors judge only what the file shows and
step back wherever the file hands the configuration to something it cannot see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import libcst as cst

from linter.python import tree
from linter.python.visitor import Visitor, literal
from linter.python.statements import module_statements, top_statements

_CELERY_CLASSES = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
_TASK_DECORATORS = frozenset({"celery.shared_task", "celery.app.shared_task", "celery.task"})
_TASK_BASES = frozenset({"celery.Task", "celery.app.task.Task", "celery.app.Task"})

# a global time limit somewhere in the file: the new, namespaced and old setting names, the worker's
# command-line options, and task annotations (`{"*": {"time_limit": 60}}`)
_LIMIT_TEXT = re.compile(
    r"(?i)(?<![a-z0-9_])(?:celeryd?_)?task_(?:soft_)?time_limit(?![a-z0-9_])"
    r"|--(?:soft-)?time-limit|task_annotations|CELERYD_(?:SOFT_)?TIME_LIMIT"
)
# methods that read the configuration from somewhere this file does not show
_CONFIG_LOADERS = frozenset({"config_from_object", "config_from_envvar", "config_from_cmdline", "add_defaults"})
_OPAQUE_CELERY_ARGS = frozenset({"config_source", "changes", "loader"})


def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    """Every call in a subtree (nested functions and classes included)."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Call):
            yield current
        stack.extend(tree.children(current))


def _kwarg(call: cst.Call, name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


def _is_none(node: cst.BaseExpression | None) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _local_definitions(module: cst.Module) -> dict[str, cst.CSTNode]:
    """Module-level classes and dict literals by name (configuration objects the file shows)."""
    found: dict[str, cst.CSTNode] = {}
    for stmt in module.body:
        if isinstance(stmt, cst.ClassDef):
            found[stmt.name.value] = stmt
    for _, small in module_statements(module):
        if isinstance(small, cst.Assign) and isinstance(small.value, cst.Dict):
            for target in small.targets:
                if isinstance(target.target, cst.Name):
                    found[target.target.value] = small.value
    return found


# what else a `celeryconfig` module sets beside `broker_url` (a module holding only a URL is not one)
_CONFIG_NAME = re.compile(r"^(?:(?:task|worker|result|beat|broker)_\w+|imports|include|accept_content|timezone|enable_utc)$")


def _name(node: cst.CSTNode) -> str | None:
    return node.value if isinstance(node, cst.Name) else None


def _looks_like_celeryconfig(statements: Iterator[cst.CSTNode]) -> bool:
    for small in statements:
        if isinstance(small, cst.Assign):
            for t in small.targets:
                name = _name(t.target)
                if name and name != "broker_url" and _CONFIG_NAME.match(name):
                    return True
    return False


class TimeLimitNotConfigured(Visitor):
    """CEL101: a Celery application, or the settings module that configures one, with no
    ``task_time_limit``/``task_soft_time_limit``."""

    TRIGGER_REGEX = r"(?m:Celery\(|CELERY_BROKER_URL|^\s*broker_url\s*=)"

    def visit_Module(self, node: cst.Module) -> None:
        text = self.context.source  # the text it was parsed from: `node.code` would generate it again
        if _LIMIT_TEXT.search(text):
            return
        apps = list(self._apps(node))
        if apps:
            if not self._config_hidden(node, [call for _, call in apps]):
                for i, call in apps:
                    self.report(call, at=(i, -1))
            return
        self._settings(node)

    # -- an application whose whole configuration is in this file
    def _apps(self, module: cst.Module) -> Iterator[tuple[int, cst.Call]]:
        for i, small in module_statements(module):
            value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
            if isinstance(value, cst.Call) and self.resolve(value.func) in _CELERY_CLASSES:
                yield i, value

    def _config_hidden(self, module: cst.Module, apps: list[cst.Call]) -> bool:
        for call in apps:
            for arg in call.args:
                if arg.star == "**" or (arg.keyword is not None and arg.keyword.value in _OPAQUE_CELERY_ARGS):
                    return True
        local = _local_definitions(module)
        for call in _calls(module):
            func = call.func
            if not isinstance(func, cst.Attribute):
                continue
            method = func.attr.value
            if method in _CONFIG_LOADERS:
                source = call.args[0].value if call.args and call.args[0].keyword is None and not call.args[0].star else None
                if method == "config_from_object" and isinstance(source, cst.Name) and source.value in local:
                    continue  # a class or dict of this file: the limit would be in sight
                return True
            if method in ("update", "setdefault") and isinstance(func.value, cst.Attribute) and func.value.attr.value == "conf":
                for arg in call.args:
                    if arg.star or (arg.keyword is None and not isinstance(arg.value, cst.Dict)):
                        return True  # `app.conf.update(settings)`: the limit may be in there
        for _, small in module_statements(module):
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    t = target.target
                    if isinstance(t, cst.Attribute) and t.attr.value == "conf":
                        return True  # `app.conf = make_config()`
        return False

    # -- a settings module (Django `CELERY_*` names, or a `celeryconfig` module)
    def _settings(self, module: cst.Module) -> None:
        config_module = _looks_like_celeryconfig(small for _, small in module_statements(module))
        for i, small in module_statements(module):
            if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                break  # settings built on a base module (`from .base import *`) may inherit the limit
            target = self._anchor(small)
            if target is not None and (config_module or _name(target) != "broker_url"):
                # a star import after the settings is a local override file, optional by design
                self.report(target, self._message(target), at=(i, -1))
                return
        local = {stmt.name.value for stmt in module.body if isinstance(stmt, cst.ClassDef)}
        for i, stmt in enumerate(module.body):
            if not isinstance(stmt, cst.ClassDef):
                continue
            # a base class from another module may set the limit (django-configurations, split settings)
            if any(not (isinstance(b.value, cst.Name) and (b.value.value in local or b.value.value == "object")) for b in stmt.bases):
                continue
            body = stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()
            config_class = _looks_like_celeryconfig(top_statements(body))
            for small in top_statements(body):
                target = self._anchor(small)
                if target is not None and (config_class or _name(target) != "broker_url"):
                    self.report(target, self._message(target), at=(i, -1))
                    break

    @staticmethod
    def _anchor(small: cst.CSTNode) -> cst.CSTNode | None:
        if isinstance(small, cst.Assign):
            targets = [t.target for t in small.targets]
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            targets = [small.target]
        else:
            return None
        for t in targets:
            if isinstance(t, cst.Name) and t.value in ("CELERY_BROKER_URL", "broker_url"):
                return t
        return None

    @staticmethod
    def _message(target: cst.CSTNode) -> str:
        if isinstance(target, cst.Name) and target.value.isupper():
            return (
                "Celery settings without `CELERY_TASK_TIME_LIMIT` or `CELERY_TASK_SOFT_TIME_LIMIT`: a task that"
                " hangs holds its worker process forever"
            )
        return "Celery configuration without `task_time_limit` or `task_soft_time_limit`: a task that hangs holds its worker process forever"


# --------------------------------------------------------------------------- CEL102

# settings (new names; `CELERY_` namespaced and old upper-case names normalise to them) whose
# explicit `None` removes a bound Celery has by default
_NONE_UNBOUNDS = {
    "broker_connection_max_retries": "`{name}=None`: the worker retries the broker connection forever and never exits or reports the outage",
    "redis_socket_timeout": "`{name}=None`: reads from the Redis result backend (and its connects) wait forever instead of 120 s",
    "broker_connection_timeout": "`{name}=None`: connecting to the broker has no timeout instead of 4 s",
}
_POLICIES = frozenset({"task_publish_retry_policy", "retry_policy"})
_POLICY_MESSAGE = "`{name}` with `max_retries: None`: sending a task retries forever while the broker is down, blocking the caller"


def _setting(name: str) -> str:
    key = name.lower()
    return key[len("celery_") :] if key.startswith("celery_") else key


def _dict_entries(value: cst.BaseExpression) -> dict[str, cst.BaseExpression] | None:
    if isinstance(value, cst.Dict):
        out: dict[str, cst.BaseExpression] = {}
        for el in value.elements:
            if isinstance(el, cst.DictElement):
                ok, key = literal(el.key)
                if ok and isinstance(key, str):
                    out[key] = el.value
        return out
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and value.func.value == "dict":
        return {a.keyword.value: a.value for a in value.args if a.keyword is not None}
    return None


class UnboundedConnectionSetting(Visitor):
    """CEL102: broker and result-backend settings set to values that wait or retry forever."""

    TRIGGER_REGEX = r"(?i:broker_connection_max_retries|redis_socket_timeout|broker_connection_timeout|retry_policy)"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._functions = 0
        self._guarded = 0  # `if` blocks inside a function around the node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions -= 1

    def visit_If(self, node: cst.If) -> None:
        if self._functions:
            self._guarded += 1

    def leave_If(self, original_node: cst.If) -> None:
        if self._functions:
            self._guarded -= 1

    def _judge(self, name: str, value: cst.BaseExpression) -> None:
        if self._guarded:
            return  # code that turns a bound off only under a condition it checks (a workaround), not configuration
        key = _setting(name)
        if key in _NONE_UNBOUNDS:
            if _is_none(value):
                self.report(value, _NONE_UNBOUNDS[key].format(name=name), name=name)
        elif key in _POLICIES:
            entries = _dict_entries(value)
            if entries is not None and "max_retries" in entries and _is_none(entries["max_retries"]):
                self.report(entries["max_retries"], _POLICY_MESSAGE.format(name=name), name=name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Name):
                self._judge(t.value, node.value)
            elif isinstance(t, cst.Attribute):
                self._judge(t.attr.value, node.value)
            elif isinstance(t, cst.Subscript) and len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index):
                ok, key = literal(t.slice[0].slice.value)
                if ok and isinstance(key, str):
                    self._judge(key, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None and isinstance(node.target, cst.Name):
            self._judge(node.target.value, node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._judge(node.keyword.value, node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        ok, key = literal(node.key)
        if ok and isinstance(key, str):
            self._judge(key, node.value)


# --------------------------------------------------------------------------- CEL103


def _calls_retry(node: cst.CSTNode) -> bool:
    """The body retries with the task's own limit: a ``.retry(...)`` call that does not pass
    ``max_retries`` (a value given there, from the caller, bounds that retry instead)."""
    for c in _calls(node):
        if isinstance(c.func, cst.Attribute) and c.func.attr.value == "retry":
            given = _kwarg(c, "max_retries")
            if given is None or _is_none(given):
                return True
    return False


def _autoretries(value: cst.BaseExpression | None) -> bool:
    if value is None:
        return False
    if isinstance(value, (cst.Tuple, cst.List)) and not value.elements:
        return False
    return not _is_none(value)


class TaskRetriesForever(Visitor):
    """CEL103: a task with ``max_retries=None`` that retries (``autoretry_for`` or ``self.retry``)."""

    TRIGGERS = ("max_retries",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._decorator_calls: set[int] = set()

    def _is_task_decorator(self, call: cst.Call) -> bool:
        qual = self.resolve(call.func)
        if qual in _TASK_DECORATORS or (qual is not None and qual.endswith("Celery().task")):
            return True
        return isinstance(call.func, cst.Attribute) and call.func.attr.value == "task"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for dec in node.decorators:
            call = dec.decorator
            if not (isinstance(call, cst.Call) and self._is_task_decorator(call)):
                continue
            limit = _kwarg(call, "max_retries")
            if limit is None or not _is_none(limit):
                continue
            if _autoretries(_kwarg(call, "autoretry_for")) or _calls_retry(node.body):
                self.report(limit, task=node.name.value)

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._decorator_calls.add(id(node.decorator))  # judged with their function

    def visit_Call(self, node: cst.Call) -> None:
        # `retrying_task = shared_task(autoretry_for=..., max_retries=None)`: a decorator made once
        if id(node) in self._decorator_calls or not self._is_task_decorator(node):
            return
        limit = _kwarg(node, "max_retries")
        if _is_none(limit) and _autoretries(_kwarg(node, "autoretry_for")):
            assert limit is not None
            self.report(limit, task="")

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not any(self.resolve(b.value) in _TASK_BASES for b in node.bases):
            return
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        limit = None
        autoretry = None
        for small in top_statements(body):
            if isinstance(small, cst.Assign):
                for t in small.targets:
                    if isinstance(t.target, cst.Name) and t.target.value == "max_retries":
                        limit = small.value
                    elif isinstance(t.target, cst.Name) and t.target.value == "autoretry_for":
                        autoretry = small.value
        if _is_none(limit) and (_autoretries(autoretry) or _calls_retry(node.body)):
            assert limit is not None
            self.report(limit, task=node.name.value)
