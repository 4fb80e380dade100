"""Kubernetes objects as rules see them, and the protocol of a Kubernetes ``check`` hook.

A ``check: module:function`` of a Kubernetes rule is called with a :class:`CheckContext` (the
rule, the settings, the object and its document, every document of the file) and yields
:class:`Hit`\\ s: a path in the object and a message (``missing``: the path names a key the
object lacks, reported on the mapping that should hold it). The helpers here (where an object's
pod template and containers are, its display name and API group) are the ones the analyzer's
own scopes use, so a hook and a YAML rule look at the same nodes. :func:`load_manifest` reads
the objects of a file (and the problems worth a finding) without the rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from linter import core
from linter.core.model import Manifest, Placeholders, Region, Rule
from linter.kubernetes.yamldocs import Document, load_documents

if TYPE_CHECKING:
    from linter.core.config import Settings

Path_ = tuple[Any, ...]

CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
#: ``scope: job``: where the Job spec of a Job and of a CronJob's job template is
JOB_SPEC_PATHS: dict[str, tuple[str, ...]] = {"Job": ("spec",), "CronJob": ("spec", "jobTemplate", "spec")}


@dataclass(frozen=True, slots=True)
class PodTarget:
    """Where the pod metadata and pod spec live inside an object."""

    meta_path: Path_
    spec_path: Path_


_TEMPLATE_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                             "ReplicationController", "Job"})


def pod_target(obj: dict[Any, Any]) -> PodTarget | None:
    """Where PodSecurity reads the pod metadata and spec for a kind, or None."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    if kind == "Pod":
        return PodTarget(("metadata",), ("spec",))
    if kind in _TEMPLATE_KINDS:
        return PodTarget(("spec", "template", "metadata"), ("spec", "template", "spec"))
    if kind == "CronJob":
        base: Path_ = ("spec", "jobTemplate", "spec", "template")
        return PodTarget(base + ("metadata",), base + ("spec",))
    if kind == "PodTemplate":
        return PodTarget(("template", "metadata"), ("template", "spec"))
    return None


def pod_paths(obj: dict[str, Any]) -> tuple[Path_, Path_] | None:
    """(pod metadata path, pod spec path) for a pod-bearing object, else None (``pod_target``,
    the table Pod Security reads, serves every rule)."""
    target = pod_target(obj)
    return (target.meta_path, target.spec_path) if target is not None else None


def get_path(data: Any, path: Sequence[Any]) -> Any:
    for part in path:
        if isinstance(part, int):
            if not isinstance(data, list) or part >= len(data):
                return None
        elif not isinstance(data, dict):
            return None
        data = data[part] if isinstance(part, int) else data.get(part)
    return data


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check function reports: a path in the object and a message."""

    path: Path_
    message: str
    missing: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    """One scoped node of one object."""

    path: Path_
    node: Any
    container: str | None = None


@dataclass
class CheckContext:
    rule: Rule
    settings: Settings
    doc: Document
    obj: dict[str, Any]
    docs: Sequence[Document]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind"))

    @property
    def name(self) -> str | None:
        return metadata_of(self.obj).get("name")

    @property
    def namespace(self) -> str | None:
        return metadata_of(self.obj).get("namespace")

    @property
    def display_name(self) -> str:
        """The name to show in messages (see ``display_name``)."""
        return display_name(self.obj)

    def targets(self, scope: str) -> list[Target]:
        return scoped(self.obj, scope)

    def format(self, **extra: Any) -> str:
        """The rule's message with ``kind``/``name``/``namespace`` and ``extra`` filled in (an
        unknown placeholder stays as written)."""
        fields: dict[str, Any] = {
            "kind": self.kind,
            "name": self.display_name,
            "namespace": self.namespace if isinstance(self.namespace, str) else "",
        }
        fields.update(extra)
        try:
            return self.rule.message.format_map(Placeholders(fields))
        except (ValueError, IndexError, AttributeError):
            return self.rule.message


def metadata_of(obj: dict[str, Any]) -> dict[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, dict) else {}


def display_name(obj: dict[str, Any]) -> str:
    """``metadata.name``; for an object named by the API server from ``generateName`` (Jobs and
    Pods created with ``kubectl create``, Helm hooks) that prefix and ``*``; else ``?``."""
    meta = metadata_of(obj)
    name = meta.get("name")
    if isinstance(name, str) and name:
        return name
    prefix = meta.get("generateName")
    if isinstance(prefix, str) and prefix:
        return f"{prefix}*"
    return "?"


def api_group(obj: dict[str, Any]) -> str:
    """``cert-manager.io`` for ``cert-manager.io/v1``; ``""`` for the core group."""
    api = obj.get("apiVersion")
    if not isinstance(api, str) or "/" not in api:
        return ""
    return api.split("/", 1)[0]


#: the container kinds a rule's ``containers`` may name
CONTAINER_KINDS = ("regular", "init", "sidecar", "ephemeral")


def container_kind(key: str, container: dict[str, Any]) -> str:
    """``regular``, ``init``, ``sidecar`` (an init container with ``restartPolicy: Always``, a
    native sidecar) or ``ephemeral``."""
    if key == "containers":
        return "regular"
    if key == "ephemeralContainers":
        return "ephemeral"
    return "sidecar" if container.get("restartPolicy") == "Always" else "init"


def scoped(obj: dict[str, Any], scope: str, containers: frozenset[str] | None = None) -> list[Target]:
    """The nodes a rule of ``scope`` looks at; for ``container``, only the kinds in
    ``containers`` (None: every container)."""
    if scope == "object":
        return [Target((), obj)]
    if scope == "job":
        job_path = JOB_SPEC_PATHS.get(str(obj.get("kind")))
        job = get_path(obj, job_path) if job_path is not None else None
        return [Target(job_path, job)] if job_path is not None and isinstance(job, dict) else []
    paths = pod_paths(obj)
    if paths is None:
        return []
    spec_path = paths[1]
    spec = get_path(obj, spec_path)
    if not isinstance(spec, dict):
        return []
    if scope == "pod":
        return [Target(spec_path, spec)]
    out = []
    for key in CONTAINER_LISTS:
        items = spec.get(key)
        if not isinstance(items, list):
            continue
        for i, c in enumerate(items):
            if isinstance(c, dict) and (containers is None or container_kind(key, c) in containers):
                out.append(Target(spec_path + (key, i), c, str(c.get("name", f"{key}[{i}]"))))
    return out


def is_object(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("apiVersion"), str) and isinstance(data.get("kind"), str)


# --------------------------------------------------------------------------- a file's objects


def load_manifest(text: str, *, json_mode: bool = False) -> Manifest:
    """The objects of a YAML (or, ``json_mode``, JSON) file, with positions. A file that is
    not a manifest (CI configuration, JSON with comments) is not ours to judge even when it
    does not load: only alias bombs and runaway nesting are its problems; a file with Helm
    template syntax that does not load belongs to a chart."""
    if json_mode and _inert_json(text):
        return Manifest()
    loaded = load_documents(text, json_mode=json_mode)
    if loaded.problems and "{{" in text:
        return Manifest()
    objects = tuple(d for d in loaded.documents if is_object(d.data))
    manifest = bool(objects) or looks_like_kubernetes(text)
    problems = tuple(
        (p.message, visible_region(p.span)) for p in loaded.problems if manifest or p.kind in ("alias-bomb", "too-deep")
    )
    return Manifest(objects, problems)


def visible_region(span: Region) -> Region:
    """``span``, at least one character wide on its line (an editor shows an empty range nowhere)."""
    return Region(span.line, span.column, span.end_line, max(span.end_column, span.column + 1) if span.end_line == span.line else span.end_column)


_TOP_KEY = re.compile(r"""(?:^[ \t-]*|[{,][ \t]*)["']?(apiVersion|kind)["']?[ \t]*:""", re.M)


_JSON_STRING = re.compile(r'"[^"]*"')  # in a text without backslashes
_BRACKET = re.compile(r"[\[\]{}]")
#: nesting up to this deep is below the loader's limit (``load_documents(max_depth=500)``)
_INERT_DEPTH = 400


def _inert_json(text: str) -> bool:
    """Whether a JSON file can give neither a finding nor a problem, so that loading it with
    positions (the cost of a large ``package-lock.json``) can be skipped: strict JSON (no
    comments, no escapes) with no ``apiVersion`` key anywhere, hence no object and not a
    manifest, no anchor (JSON has none; the loader reads YAML flow syntax) and no nesting near
    the loader's depth limit. Under ``PITFALL_NO_FAST_PATHS`` every file is loaded."""
    if not core.FAST_PATHS or "apiVersion" in text or "\\" in text or "&" in text:
        return False
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    depth = 0
    for bracket in _BRACKET.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > _INERT_DEPTH:
                return False
        else:
            depth -= 1
    return True


def looks_like_kubernetes(text: str) -> bool:
    """Whether a text that does not load holds the ``apiVersion`` and ``kind`` keys of a manifest."""
    return {m.group(1) for m in _TOP_KEY.finditer(text)} == {"apiVersion", "kind"}
