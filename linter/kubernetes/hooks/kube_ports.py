"""Ports across Kubernetes objects: Service targetPorts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from linter.kubernetes.objects import CheckContext, Hit, display_name, pod_paths
from linter.kubernetes.hooks.kube_common import as_dict, as_list, containers, is_int, labels_of, message, objects, same_namespace

Path_ = tuple[Any, ...]


def _selects(selector: dict[Any, Any], labels: dict[Any, Any]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _declared(obj: dict[str, Any]) -> tuple[set[int], set[str], bool]:
    """Container port numbers and names of the containers that can serve a Service, and whether
    each of those containers declares a port (one that declares none may listen on any)."""
    numbers: set[int] = set()
    names: set[str] = set()
    every = True
    for _path, c, _name in containers(obj):
        declared = False
        for port in as_list(c.get("ports")):
            port = as_dict(port)
            if is_int(port.get("containerPort")):
                numbers.add(port["containerPort"])
                declared = True
            if isinstance(port.get("name"), str):
                names.add(port["name"])
        every = every and declared
    return numbers, names, every


def _describe(obj: dict[str, Any]) -> str:
    return f"{obj.get('kind')} `{display_name(obj)}`"


def service_target_port(ctx: CheckContext) -> Iterator[Hit]:
    """PRT203: a Service targetPort that no container of the selected workloads declares."""
    spec = as_dict(ctx.obj.get("spec"))
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not selector or spec.get("type") == "ExternalName":
        return
    matched: list[tuple[dict[str, Any], set[int], set[str], bool]] = []
    for obj in objects(ctx.docs):
        if obj is ctx.obj or obj.get("kind") == "PodTemplate":
            continue
        paths = pod_paths(obj)
        if paths is None or not same_namespace(ctx.namespace, as_dict(obj.get("metadata")).get("namespace")):
            continue
        if _selects(selector, labels_of(obj, paths[0])):
            matched.append((obj, *_declared(obj)))
    if not matched:
        return
    workloads = ", ".join(_describe(obj) for obj, _n, _s, _e in matched)
    all_numbers = set().union(*(n for _o, n, _s, _e in matched))
    all_names = set().union(*(s for _o, _n, s, _e in matched))
    # a number is checked only when every container that could serve it declares its ports
    every_declares = all(e for _o, _n, _s, e in matched)
    for i, port in enumerate(as_list(spec.get("ports"))):
        if not isinstance(port, dict):
            continue
        if "targetPort" in port:
            target, path, implied = port["targetPort"], ("spec", "ports", i, "targetPort"), ""
        elif "port" in port:
            target, path, implied = port["port"], ("spec", "ports", i, "port"), " (targetPort defaults to port)"
        else:
            continue
        if isinstance(target, str) and target and not target.isdigit():
            if target not in all_names:
                declared = ", ".join(sorted(all_names)) or "none"
                yield Hit(path, message(ctx, target=target, implied=implied, workloads=workloads,
                                        detail=f"no container declares a port named `{target}` (named ports: {declared})"))
        elif is_int(target) and every_declares and target not in all_numbers:
            declared = ", ".join(str(n) for n in sorted(all_numbers))
            yield Hit(path, message(ctx, target=target, implied=implied, workloads=workloads,
                                    detail=f"no container declares containerPort {target} (declared: {declared})"))

