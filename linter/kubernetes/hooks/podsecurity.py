"""Pod Security Standards rules: one rule per upstream check, evaluated by ``linter.kubernetes.pss``.

Every PSA2xx rule names its upstream check in ``pss.check``; this function runs the whole
level once per object (upstream's overrides included: at ``restricted`` a restricted check
replaces the baseline check it overrides) and keeps the violations of the rule's check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from linter.kubernetes.analyzer import CheckContext, Hit
from linter.kubernetes import pss

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
    kind, name = ctx.kind, ctx.display_name
    found = [v for v in violations(ctx.obj, level, version) if v.check == rule.pss_check]
    for v in _per_pod(rule.pss_check, found, ctx.obj):
        yield Hit(v.path, rule.message.format(kind=kind, name=name, detail=v.message), v.missing)


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if isinstance(obj, dict) and key in obj or isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _per_pod(check: str | None, found: list[pss.PssViolation], obj: dict[str, Any]) -> list[pss.PssViolation]:
    """The volume checks as upstream reports them: one violation a pod that lists every offending
    volume (`restricted volume types (volumes "a", "b" use restricted volume type "hostPath")`),
    at the first of them. Volumes a chart renders in a loop all sit on one template line, where
    one finding per volume would repeat itself."""
    if check not in ("restrictedVolumes", "hostPathVolumes") or len(found) < 2:
        return found
    names: list[str] = []
    types: set[str] = set()
    for v in found:
        volume = _at(obj, v.path[:-1])
        name = volume.get("name") if isinstance(volume, dict) else None
        names.append(name if isinstance(name, str) else "")
        types.add(str(v.path[-1]))
    volumes = f"{pss._plural('volume', 'volumes', len(names))} {pss._quote(names)}"
    if check == "hostPathVolumes":
        message = pss._msg("hostPath volumes", volumes)
    else:
        kinds = pss._plural("restricted volume type", "restricted volume types", len(types))
        message = pss._msg("restricted volume types", f"{volumes} {pss._plural('uses', 'use', len(names))} {kinds} {pss._quote(sorted(types))}")
    first = found[0]
    return [pss.PssViolation(first.check, first.path, first.missing, message)]
