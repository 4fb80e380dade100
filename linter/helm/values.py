"""Values: merging values files and ``--set`` strings, and the built-in value profiles.

Helm's own parsers and coalesce run in the renderer (``backends``): ``values_from_yaml`` for
values files, ``parse_set_string`` for ``--set``, ``Chart.merge_values`` for the chart's
defaults. What stays here, and why:

* :func:`merge_maps` (Helm's ``values.mergeMaps``, values files one over the other) and
  :func:`merge_set` (``strvals.ParseInto`` into the values so far: list items a ``--set``
  does not name keep their value): helm_python parses a ``--set`` string into an empty map
  only and exposes no merge;
* :func:`coalesce` and :func:`parse_set_fallback`: only where helm_python cannot be imported
  (the ``helm`` binary renders; these give the values a render is reported with);
* the value profiles (``ingress``, ``tls``, ``monitoring``): pitfall's own.
"""

from __future__ import annotations

import copy
import re
from typing import Any

PROFILES: tuple[str, ...] = ("ingress", "tls", "monitoring")


def merge_maps(a: dict, b: dict) -> dict:
    """Helm's values.mergeMaps: b over a, maps merged recursively."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge_maps(out[k], v)
        else:
            out[k] = v
    return out


def merge_set(a: Any, b: Any) -> Any:
    """Approximates strvals.ParseInto(expr, base): like mergeMaps, but list
    elements the expression did not name (parsed as None) keep their value."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge_set(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        out_list = list(a) + [None] * max(0, len(b) - len(a))
        for i, v in enumerate(b):
            if v is not None:
                out_list[i] = merge_set(out_list[i], v) if out_list[i] is not None else v
        return out_list
    return b


def coalesce(defaults: Any, user: Any) -> Any:
    """Python approximation of Helm's coalesce (user wins, null deletes)."""
    if not isinstance(defaults, dict) or not isinstance(user, dict):
        return copy.deepcopy(user)
    out = copy.deepcopy(defaults)
    for k, v in user.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = coalesce(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


_SET_SCALARS = {"true": True, "false": False, "null": None}


def _set_scalar(text: str) -> Any:
    if text in _SET_SCALARS:
        return _SET_SCALARS[text]
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    return text


def parse_set_fallback(expr: str) -> dict:
    """Minimal ``--set`` parser for when helm_python is unavailable (used only
    to report the values of a ``helm template`` render): ``a.b=1``,
    ``a[0].b=x``, ``l={a,b}``, ``\\,`` escapes, commas between assignments."""
    result: dict = {}
    parts: list[str] = []
    buf, depth, i = "", 0, 0
    while i < len(expr):
        ch = expr[i]
        if ch == "\\" and i + 1 < len(expr):
            buf += expr[i : i + 2]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
        i += 1
    if buf:
        parts.append(buf)
    for part in parts:
        if "=" not in part:
            raise ValueError(f'key "{part}" has no value')
        key, raw = part.split("=", 1)
        raw_value: Any
        if raw.startswith("{") and raw.endswith("}"):
            raw_value = [_set_scalar(x.replace("\\,", ",")) for x in raw[1:-1].split(",") if x != ""]
        else:
            raw_value = _set_scalar(raw.replace("\\,", ","))
        tokens = re.findall(r"([^.\[\]]+)|\[(\d+)\]", key)
        node: Any = {}
        value: Any = raw_value
        for name, idx in reversed(tokens):
            if idx:
                lst: list = [None] * int(idx)
                lst.append(value)
                value = lst
            else:
                value = {name: value}
        node = value
        if isinstance(node, dict):
            result = merge_set(result, node)
    return result


def _profile_targets(profile: str) -> list[tuple[str, ...]]:
    if profile == "ingress":
        return [("ingress", "enabled")]
    if profile == "tls":
        return [("tls", "enabled"), ("tls",)]
    if profile == "monitoring":
        return [("serviceMonitor", "enabled"), ("metrics", "enabled"), ("metrics", "serviceMonitor", "enabled")]
    raise ValueError(f"unknown values profile {profile!r}; known: {', '.join(PROFILES)}")


def _apply_profile(node: Any, targets: list[tuple[str, ...]]) -> tuple[Any, bool]:
    """Copy of ``node`` with every declared target key set true; changed?"""
    if isinstance(node, list):
        changed = False
        out_list = []
        for item in node:
            new, ch = _apply_profile(item, targets)
            out_list.append(new)
            changed = changed or ch
        return out_list, changed
    if not isinstance(node, dict):
        return node, False
    out = dict(node)
    changed = False
    for key, value in node.items():
        new_value, ch = _apply_profile(value, targets)
        for target in targets:
            if target[0] != key:
                continue
            if len(target) == 1:
                if isinstance(new_value, bool) and new_value is not True:
                    new_value, ch = True, True
            else:
                new_value, ch2 = _set_path_true(new_value, target[1:])
                ch = ch or ch2
        if ch:
            out[key] = new_value
            changed = True
    return out, changed


def _set_path_true(node: Any, path: tuple[str, ...]) -> tuple[Any, bool]:
    if not isinstance(node, dict) or path[0] not in node:
        return node, False
    if len(path) == 1:
        if node[path[0]] is True:
            return node, False
        out = dict(node)
        out[path[0]] = True
        return out, True
    new, changed = _set_path_true(node[path[0]], path[1:])
    if not changed:
        return node, False
    out = dict(node)
    out[path[0]] = new
    return out, True


def _diff_overlay(old: Any, new: Any) -> Any:
    """Minimal overlay turning ``old`` into ``new`` under Helm's merge
    (maps merge key by key, lists are replaced whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: _diff_overlay(old.get(k), v) for k, v in new.items() if k not in old or old[k] != v}
    return new


def profile_values(values: dict, profile: str) -> dict | None:
    """Overlay for a built-in value profile, or None when it changes nothing.

    Only keys the values already declare are touched, at any depth (inside
    lists too — the overlay then carries the whole modified list, since Helm
    replaces lists):

    * ``ingress``: every ``<...>.ingress.enabled`` -> true;
    * ``tls``: every ``<...>.tls.enabled`` -> true and every boolean
      ``<...>.tls`` -> true;
    * ``monitoring``: every ``<...>.serviceMonitor.enabled``,
      ``<...>.metrics.enabled`` and ``<...>.metrics.serviceMonitor.enabled``
      -> true.

    Pass the merged values (``RenderResult.values``) so subchart defaults
    are covered, then render with ``extra_values=overlay``.  ``"defaults"``
    (the configuration's name for the plain render) gives ``{}``; any other
    unknown name raises ValueError.
    """
    if profile == "defaults":
        return {}
    targets = _profile_targets(profile)
    if not isinstance(values, dict):
        return None
    new, changed = _apply_profile(values, targets)
    if not changed:
        return None
    overlay = _diff_overlay(values, new)
    return overlay or None
