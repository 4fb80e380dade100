"""Small helpers shared by the ``kube_*`` check modules (Kubernetes rules written in Python)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeGuard

from linter.kubernetes.objects import CheckContext, get_path, is_object, pod_paths
from linter.kubernetes.yamldocs import Document

Path_ = tuple[Any, ...]


def message(ctx: CheckContext, **extra: Any) -> str:
    """The rule's message with ``kind``/``name``/``namespace`` and ``extra`` filled in."""
    return ctx.format(**extra)


def as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def labels_of(obj: dict[str, Any], meta_path: Path_ = ("metadata",)) -> dict[Any, Any]:
    return as_dict(get_path(obj, meta_path + ("labels",)))


def containers(obj: dict[str, Any], *, sidecars: bool = True, init: bool = False) -> Iterator[tuple[Path_, dict[str, Any], str]]:
    """(path, container, name) of a pod-bearing object's containers.

    Regular containers always; native sidecars (init containers with ``restartPolicy:
    Always``) when ``sidecars``; every init container when ``init``. Never ephemeral ones.
    """
    paths = pod_paths(obj)
    if paths is None:
        return
    spec_path = paths[1]
    spec = as_dict(get_path(obj, spec_path))
    for key in ("initContainers", "containers"):
        for i, c in enumerate(as_list(spec.get(key))):
            if not isinstance(c, dict):
                continue
            if key == "initContainers" and not init and not (sidecars and c.get("restartPolicy") == "Always"):
                continue
            yield spec_path + (key, i), c, str(c.get("name", f"{key}[{i}]"))


def same_namespace(a: Any, b: Any) -> bool:
    """Objects without a namespace land wherever they are applied: they match any namespace."""
    return not isinstance(a, str) or not isinstance(b, str) or a == b


def objects(docs: Sequence[Document]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        if is_object(doc.data):
            yield doc.data
