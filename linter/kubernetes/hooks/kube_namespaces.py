"""Namespaces and Pod Security Admission: the labels that turn admission on, and what it rejects.

PSA reads six labels on a Namespace: ``pod-security.kubernetes.io/<mode>`` (a level) and
``pod-security.kubernetes.io/<mode>-version`` (a policy version) for the modes
``enforce``, ``audit`` and ``warn``. The API server refuses to create or update a
Namespace whose labels do not parse (``PolicyToEvaluate`` in
``k8s.io/pod-security-admission/api``). Namespaces listed in the ``exempt-namespaces``
setting are exempt from evaluation and need no labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeGuard

from linter.kubernetes.analyzer import CheckContext, Hit
from linter.kubernetes import pss
from linter.kubernetes.hooks.kube_common import as_dict, message, objects

PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
LEVELS = ("privileged", "baseline", "restricted")
RANK = {level: i for i, level in enumerate(LEVELS)}
ENFORCE = PREFIX + "enforce"
LABELS = ("metadata", "labels")


def _exempt(ctx: CheckContext, namespace: Any) -> bool:
    return isinstance(namespace, str) and namespace in tuple(ctx.settings.exempt_namespaces)


def _labels(obj: dict[str, Any]) -> dict[Any, Any]:
    return as_dict(as_dict(obj.get("metadata")).get("labels"))


def valid_level(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value in LEVELS


def valid_version(value: Any) -> TypeGuard[str]:  # parse_version takes only a str
    try:
        pss.parse_version(value)
    except ValueError:
        return False
    return True


def enforce_policy(labels: dict[Any, Any]) -> tuple[str, str] | None:
    """(level, version text) that PSA enforces, or None when the labels leave it to the
    cluster default (no enforce label) or do not parse (the Namespace itself is refused)."""
    level = labels.get(ENFORCE)
    version = labels.get(ENFORCE + "-version", "latest")
    if not valid_level(level) or not valid_version(version):
        return None
    return level, version


def missing_enforce(ctx: CheckContext) -> Iterator[Hit]:
    """PSA220: a Namespace without the enforce label."""
    name = ctx.name
    if not isinstance(name, str) or _exempt(ctx, name):
        return
    meta = ctx.obj.get("metadata")
    labels = as_dict(meta).get("labels")
    if isinstance(labels, dict) and ENFORCE in labels:
        return
    path: tuple[Any, ...] = LABELS if isinstance(labels, dict) else ("metadata",) if isinstance(meta, dict) else ()
    yield Hit(path, message(ctx, label=ENFORCE), True)


def invalid_labels(ctx: CheckContext) -> Iterator[Hit]:
    """PSA221: a pod-security.kubernetes.io/ label whose key or value PSA does not accept."""
    for key, value in _labels(ctx.obj).items():
        if not isinstance(key, str) or not key.startswith(PREFIX):
            continue
        mode = key[len(PREFIX) :]
        shown = value if isinstance(value, str) else repr(value)
        if mode in MODES:
            if valid_level(value):
                continue
            hint = ""
            if isinstance(value, str) and value.lower() in LEVELS:
                hint = f" (levels are lowercase: `{value.lower()}`)"
            detail = f"`{key}: {shown}` is not a Pod Security level: use privileged, baseline or restricted{hint}"
        elif mode.endswith("-version") and mode[: -len("-version")] in MODES:
            if valid_version(value):
                continue
            hint = ""
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = " (a YAML number: write a quoted string such as `\"v1.30\"`)"
            detail = f"`{key}: {shown}` is not a policy version: use `latest` or `v1.N`{hint}"
        else:
            detail = (
                f"`{key}` is not a Pod Security Admission label (enforce, audit, warn and their "
                "-version labels): it is ignored"
            )
            yield Hit(LABELS + (key,), message(ctx, detail=detail, label=key))
            continue
        yield Hit(LABELS + (key,), message(ctx, detail=detail + "; the API server refuses the Namespace", label=key))


def enforce_privileged(ctx: CheckContext) -> Iterator[Hit]:
    """PSA222: ``enforce: privileged`` turns admission off for the namespace."""
    if _exempt(ctx, ctx.name):
        return
    if _labels(ctx.obj).get(ENFORCE) == "privileged":
        yield Hit(LABELS + (ENFORCE,), message(ctx, label=ENFORCE))


def audit_warn_weaker(ctx: CheckContext) -> Iterator[Hit]:
    """PSA223: warn/audit set to a weaker level than enforce."""
    if _exempt(ctx, ctx.name):
        return
    labels = _labels(ctx.obj)
    enforce = labels.get(ENFORCE)
    if not valid_level(enforce):
        return
    for mode in ("warn", "audit"):
        key = PREFIX + mode
        value = labels.get(key)
        if valid_level(value) and RANK[value] < RANK[enforce]:
            yield Hit(LABELS + (key,), message(ctx, mode=mode, level=value, enforce=enforce, label=key))


def rejected_by_namespace(ctx: CheckContext) -> Iterator[Hit]:
    """PSA224: a workload whose Namespace (in the same file) enforces a level it violates."""
    ns = ctx.namespace
    if not isinstance(ns, str) or _exempt(ctx, ns):
        return
    namespace = None
    for obj in objects(ctx.docs):
        if obj.get("kind") == "Namespace" and as_dict(obj.get("metadata")).get("name") == ns:
            namespace = obj  # the last one wins, as it would when applied in order
    if namespace is None:
        return
    policy = enforce_policy(_labels(namespace))
    if policy is None or policy[0] == "privileged":
        return
    level, version = policy
    for v in pss.evaluate_all(ctx.obj, level, pss.parse_version(version)):
        yield Hit(v.path, message(ctx, namespace=ns, level=level, version=version, detail=v.message, check=v.check), v.missing)
