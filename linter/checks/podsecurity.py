"""Pod Security Standards rules: one rule per upstream check, evaluated by ``linter.checks.pss``.

Every PSA2xx rule names its upstream check in ``pss.check``; this function runs the whole
level once per object (upstream's overrides included: at ``restricted`` a restricted check
replaces the baseline check it overrides) and keeps the violations of the rule's check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..kubernetes import CheckContext, Hit
from . import pss

_last: tuple[dict[str, Any], str, tuple[int, int], list[pss.PssViolation]] | None = None


def violations(obj: dict[str, Any], level: str, version: tuple[int, int]) -> list[pss.PssViolation]:
    """evaluate_all, remembered for the last object (the rules of one object run back to back).

    The cache holds the object itself and compares identity: an ``id()`` alone can be reused
    by a later object once the first is freed, which would hand one object another's result.
    """
    global _last
    if _last is not None and _last[0] is obj and _last[1] == level and _last[2] == version:
        return _last[3]
    found = pss.evaluate_all(obj, level, version)
    _last = (obj, level, version, found)
    return found


def check(ctx: CheckContext) -> Iterator[Hit]:
    rule = ctx.rule
    level = ctx.settings.pss_level
    if rule.pss_level == "restricted" and level != "restricted":
        return
    version = pss.parse_version(ctx.settings.pss_version)
    kind, name = ctx.kind, ctx.name or "?"
    for v in violations(ctx.obj, level, version):
        if v.check == rule.pss_check:
            yield Hit(v.path, rule.message.format(kind=kind, name=name, detail=v.message), v.missing)
