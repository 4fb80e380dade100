"""The conditions of a declarative Python rule: its ``where`` and ``unless-where`` entries, and a
``setting`` alternative's (:mod:`linter.python.settings`).

A condition names what it reads (an argument by keyword or position, an item, a dict key, or
the assigned value) and a predicate on it; :func:`predicate` judges what :func:`find_arg`
found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

import libcst as cst

from linter.python import targets
from linter.python.visitor import Resolver, expand_braces, is_none, literal


class _ConditionCommon(TypedDict):
    """The fields a condition spec gives every condition it compiles to."""

    arg: str | int | None
    position: int | None
    item: int | None
    negate: bool
    key: tuple[str, ...] | None
    read_kwargs: bool
    ignore_case: bool


@dataclass(frozen=True, slots=True)
class Condition:
    arg: str | int | None  # None: the assigned value
    position: int | None
    item: int | None
    predicate: str  # "missing" | "present" | "none" | "unset" | "equals" | "refers-to" | "calls" | "int-range" | "above" | "regex" | "host"
    operand: Any
    negate: bool
    key: tuple[str, ...] | None = None  # `key`: an entry of a dict argument (any of these keys)
    read_kwargs: bool = False  # `read-kwargs`: a `**` dict seen to lack the argument leaves it missing
    ignore_case: bool = False  # `ignore-case`: the keyword in any spelling

    @staticmethod
    def compile(spec: dict[str, Any], option: Any = None) -> list[Condition]:
        """``option(name)`` resolves a threshold given as a rule-option name (``above: max-timeout``)."""
        arg = spec.get("arg")
        out = []
        key = spec.get("key")
        common = _ConditionCommon(
            arg=arg, position=spec.get("position"), item=spec.get("item"), negate=bool(spec.get("not")),
            key=None if key is None else (key,) if isinstance(key, str) else tuple(key),
            read_kwargs=bool(spec.get("read-kwargs")), ignore_case=bool(spec.get("ignore-case")),
        )
        if "is" in spec:
            out.append(Condition(predicate=spec["is"], operand=None, **common))
        if "equals" in spec:
            out.append(Condition(predicate="equals", operand=tuple((type(v), v) for v in spec["equals"]), **common))
        if "refers-to" in spec:
            names = frozenset(n for p in spec["refers-to"] for n in expand_braces(p))
            out.append(Condition(predicate="refers-to", operand=names, **common))
        if "int-range" in spec:
            out.append(Condition(predicate="int-range", operand=tuple(spec["int-range"]), **common))
        if "regex" in spec:
            out.append(Condition(predicate="regex", operand=re.compile(spec["regex"]), **common))
        if "calls" in spec:
            names = frozenset(n for p in spec["calls"] for n in expand_braces(p))
            out.append(Condition(predicate="calls", operand=names, **common))
        if "host" in spec:  # an address argument's host (linter.python.targets)
            out.append(Condition(predicate="host", operand=frozenset(spec["host"]), **common))
        if "above" in spec:
            limit = spec["above"]
            if isinstance(limit, str):
                limit = option(limit) if option is not None else None
            if not isinstance(limit, (int, float)) or isinstance(limit, bool):
                limit = float("inf")  # an option that is not a number: the condition never holds
            out.append(Condition(predicate="above", operand=float(limit), **common))
        return out


def predicate(cond: Condition, status: str, value: cst.BaseExpression | None, resolver: Resolver) -> bool:
    """A condition's predicate on what was found: ``status`` and ``value`` as :func:`find_arg`
    gives them (a ``setting`` rule's too: ``linter.python.settings``)."""
    p = cond.predicate
    if p == "missing":
        return status == "missing"
    if p == "present":
        return status == "present"
    if p == "unset":  # missing, or an explicit None
        return status == "missing" or (value is not None and is_none(value))
    if value is None:
        return False
    if p == "none":
        return is_none(value)
    if p == "refers-to":
        if isinstance(value, (cst.Name, cst.Attribute)):
            return resolver.resolve(value) in cond.operand
        return False
    if p == "calls":
        if isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute)):
            return resolver.resolve(value.func) in cond.operand
        return False
    if p == "host":
        return targets.host_is(value, cond.operand)
    ok, lit = literal(value)
    if not ok:
        return False
    if p == "equals":
        return (type(lit), lit) in cond.operand
    if p == "int-range":
        return isinstance(lit, int) and not isinstance(lit, bool) and cond.operand[0] <= lit <= cond.operand[1]
    if p == "regex":
        return isinstance(lit, str) and cond.operand.search(lit) is not None
    if p == "above":
        return isinstance(lit, (int, float)) and not isinstance(lit, bool) and lit > cond.operand
    return False
