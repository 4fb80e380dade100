"""pitfall's keywords of a Kubernetes rule's ``must`` and ``if`` schemas, beside JSON Schema's.

JSON Schema (draft 2020-12) describes one value at a time; the keywords here compare the values
of one mapping with each other, where the schema puts them (``properties``, ``$defs``,
``patternProperties``...):

- ``below: {key, than, as, defaults, unset, default-note}``: the value of ``key`` must be
  below the value of ``than``. Values are read ``as`` integers (booleans are not) or Go
  durations (``2160h``, ``90m``); an absent or null key (or one whose value is in ``unset``,
  as Go reads the zero of an integer field) takes its ``defaults`` value. A key with no value
  and no default, or a value that cannot be read, is no finding. The finding sits on ``key``
  when the mapping writes it, else on ``than``; ``{value}`` and ``{limit}`` are the two values
  as written, a default one followed by ``(the default)`` (or ``(<default-note>)``).
- ``distinct: [key, ...]``: these keys must hold different values; a key whose value equals
  that of a key before it in the list is reported (absent and null keys are skipped).
- ``refers: {at, to, when}``: each scalar found at the path ``at`` (that satisfies the schema
  ``when``, if given) must be one of the values found at the path ``to`` (a probe's named
  port among its container's ``ports[].name``). A path is a list of steps from this node: a
  key, a list of alternative keys, or ``*`` (each item of a list). A reference that names
  nothing is reported; ``{value}`` is the reference, ``{declared}`` the string values found at
  ``to``, sorted and comma-separated (``none``).

- ``unique: {at, each, by, as, defaults, unset, when, across, earlier}``: the items at the path
  ``at`` (inside each group found at the path ``each``, or inside this node) must not repeat,
  across all groups or (``across: false``) within each. ``by`` names the keys compared together
  (else the item itself), read ``as`` ``integer`` or ``string`` (one reading, or one per key);
  an absent or null key, or one written as a value of ``unset`` (a list, or lists per key),
  takes its ``defaults`` value; an item with a key that has no value or does not read is
  skipped, as is one that fails the schema ``when``. A repeat is reported on the first key of
  ``by`` it writes; ``{value}`` is the values joined with ``/``, ``{group}`` the name of the
  group holding it (its ``name``, else ``<key>[<index>]``), ``{earlier}`` the text
  ``earlier.same`` when the value was first seen in a group of that name, else
  ``earlier.other`` with ``{group}`` replaced by the name of the group that held it first.

- ``suggest: <text>`` beside ``enum``: when the value fails the ``enum`` and equals one of its
  strings but for letter case (``strict`` for ``STRICT``), ``{suggestion}`` is ``text`` with
  ``{closest}`` replaced by that string; otherwise ``{suggestion}`` is empty.

A ``message`` beside a failing keyword replaces the rule's message for that finding (a rule
that reports two places in different words). The rule schema (``schemas/rule.schema.json``,
``$defs/kubeSchema``) checks the keywords' values when the pack loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator


class FieldedError(ValidationError):
    """A failure of one of pitfall's keywords, with the message placeholders it fills."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.fields = fields or {}


_UNITS = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_go_duration(text: Any) -> float | None:
    """Seconds of a Go ``time.ParseDuration`` string (``2160h``, ``720h0m0s``, ``1.5h``), or None."""
    if not isinstance(text, str) or not text:
        return None
    s = text.strip()
    sign = 1.0
    if s[:1] in "+-":
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        return None
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if m is None or m.group(1) in ("", "."):
            return None
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return sign * total


def _read(value: Any, kind: str) -> float | None:
    if kind == "duration":
        return parse_go_duration(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


def _below(validator: Validator, spec: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    kind = spec.get("as", "integer")
    defaults = spec.get("defaults") or {}
    unset = spec.get("unset") or ()
    note = spec.get("default-note", "the default")
    read: list[tuple[str, float, str, bool]] = []  # (key, value, shown, written)
    for key in (spec["key"], spec["than"]):
        raw = instance.get(key)
        written = raw is not None and raw not in unset
        if not written:
            if key not in defaults:
                return
            raw = defaults[key]
        value = _read(raw, kind)
        if value is None:
            return
        read.append((key, value, str(raw) if written else f"{raw} ({note})", written))
    (key, value, shown, written), (than, limit, shown_limit, limit_written) = read
    if value < limit:
        return
    at = [key] if written else [than] if limit_written else []
    yield FieldedError(
        f"{key} {shown} is not below {than} {shown_limit}",
        fields={"value": shown, "limit": shown_limit},
        path=at,
        instance=instance.get(at[0]) if at else instance,
    )


def _distinct(validator: Validator, keys: list[str], instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    seen: list[tuple[str, Any]] = []
    for key in keys:
        value = instance.get(key)
        if value is None:
            continue
        same = next((earlier for earlier, other in seen if other == value), None)
        if same is not None:
            yield ValidationError(f"{key} is identical to {same}", path=[key], instance=value)
        seen.append((key, value))


Step = str | list[str]


def found(node: Any, path: list[Step], where: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """(path, value) of every non-null value at ``path`` below ``node``."""
    if not path:
        yield where, node
        return
    step, rest = path[0], path[1:]
    if step == "*":
        for i, item in enumerate(node if isinstance(node, list) else ()):
            if item is not None:
                yield from found(item, rest, (*where, i))
        return
    if not isinstance(node, dict):
        return
    for key in [step] if isinstance(step, str) else step:
        if key in node and node[key] is not None:
            yield from found(node[key], rest, (*where, key))


def _refers(validator: Validator, spec: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    when = spec.get("when")
    names = [value for _, value in found(instance, spec["to"])]
    declared = ", ".join(sorted({n for n in names if isinstance(n, str)})) or "none"
    for path, value in found(instance, spec["at"]):
        if isinstance(value, (dict, list)) or (when is not None and not validator.evolve(schema=when).is_valid(value)):
            continue
        if value not in names:
            yield FieldedError(
                f"{value!r} is not one of the declared names ({declared})",
                fields={"value": str(value), "declared": declared},
                path=path,
                instance=value,
            )


def _as(value: Any, kind: str | None) -> Any:
    """``value`` read as ``kind`` (``integer``: not a boolean or a float; ``string``), else None."""
    if kind == "integer":
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if kind == "string":
        return value if isinstance(value, str) else None
    return value


def _group_name(group: Any, path: tuple[str | int, ...]) -> str:
    """A group's ``name`` as text, else ``<key>[<index>]`` of its path (as ``{container}`` names
    a container)."""
    if isinstance(group, dict) and "name" in group:
        return str(group["name"])
    if len(path) >= 2 and isinstance(path[-1], int):
        return f"{path[-2]}[{path[-1]}]"
    return ".".join(str(p) for p in path)


def _unique(validator: Validator, spec: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    each: list[Step] | None = spec.get("each")
    by: list[str] | None = spec.get("by")
    kind = spec.get("as")
    kinds: Mapping[str, str] = kind if isinstance(kind, dict) else {}
    defaults: Mapping[str, Any] = spec.get("defaults") or {}
    unset_spec = spec.get("unset") or ()
    when = spec.get("when")
    when_validator = validator.evolve(schema=when) if when is not None else None
    across = spec.get("across", True)
    earlier_text: Mapping[str, str] = spec.get("earlier") or {}
    groups = list(found(instance, each)) if each is not None else [((), instance)]
    first: list[tuple[Any, str]] = []  # (values, group name) of each first occurrence, across groups
    for group_path, group in groups:
        name = _group_name(group, group_path) if each is not None else ""
        if not across:
            first = []
        for item_path, item in found(group, spec["at"]):
            if when_validator is not None and not when_validator.is_valid(item):
                continue
            at: tuple[str | int, ...] = ()
            if by is None:
                value = _as(item, kind if isinstance(kind, str) else None)
                values: tuple[Any, ...] | None = (value,) if value is not None and not isinstance(item, (dict, list)) else None
            else:
                if not isinstance(item, dict):
                    continue
                read: list[Any] = []
                for key in by:
                    unset = unset_spec.get(key, ()) if isinstance(unset_spec, dict) else unset_spec
                    raw = item.get(key)
                    if raw is None or raw in unset:
                        if key not in defaults:
                            read = []
                            break
                        raw = defaults[key]
                    elif not at:
                        at = (key,)
                    value = _as(raw, kinds.get(key) if isinstance(kind, dict) else kind)
                    if value is None:
                        read = []
                        break
                    read.append(value)
                values = tuple(read) if read else None
            if values is None:
                continue
            typed = tuple((isinstance(v, bool), v) for v in values)
            earlier = next((g for v, g in first if v == typed), None)
            if earlier is None:
                first.append((typed, name))
                continue
            text = earlier_text.get("same", "") if earlier == name else earlier_text.get("other", "").replace("{group}", earlier)
            shown = "/".join(str(v) for v in values)
            yield FieldedError(
                f"{shown} is not unique",
                fields={"value": shown, "group": name, "earlier": text},
                path=(*group_path, *item_path, *at),
                instance=item.get(at[0]) if at and isinstance(item, dict) else item,
            )


_ENUM = Draft202012Validator.VALIDATORS["enum"]


def closest_ignoring_case(value: Any, choices: list[Any]) -> str | None:
    """The string of ``choices`` that ``value`` equals but for letter case, if any."""
    if not isinstance(value, str):
        return None
    return next((c for c in choices if isinstance(c, str) and c.upper() == value.upper()), None)


def _enum(validator: Validator, enums: list[Any], instance: Any, schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    suggest = schema.get("suggest")
    for error in _ENUM(validator, enums, instance, schema):
        if not isinstance(suggest, str):
            yield error
            continue
        closest = closest_ignoring_case(instance, enums)
        yield FieldedError(error.message, fields={"suggestion": suggest.replace("{closest}", closest) if closest is not None else ""})


KubeValidator = validators.extend(
    Draft202012Validator, {"below": _below, "distinct": _distinct, "refers": _refers, "unique": _unique, "enum": _enum}
)


def compile_schema(schema: Mapping[str, Any]) -> Validator:
    """A validator of ``schema`` that knows pitfall's keywords."""
    return KubeValidator(schema)
