"""Kubernetes analyzer: YAML documents with positions, kind groups, scopes, JSON Schema ``must``.

Rules select objects by kind (or kind group) and a scope (``object``, ``pod``, ``job``,
``container`` = init + regular + ephemeral containers) and state what must hold as a JSON
Schema fragment, with pitfall's keywords (:mod:`linter.kubernetes.vocabulary`). Each
validation error is walked back through the YAML node tree to the exact key; a missing key
points at the mapping that lacks it. Two analyzers are matchers of
their own blocks: ``pss`` (:mod:`linter.kubernetes.pss`: a Pod Security check of workloads,
or what Pod Security Admission reads on Namespaces) and ``certificate`` (certificates of
``kubernetes.io/tls`` Secrets, :mod:`linter.kubernetes.certificates`). ``defers-to`` turns a
rule off while a rule that reports the same key is selected. Rules the vocabulary cannot say
are ``check: module:function`` (cross-object rules among them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from jsonschema.protocols import Validator

from linter.kubernetes import pss
from linter.kubernetes.objects import CheckContext, Hit, Path_, api_group, display_name, get_path, metadata_of, pod_paths, scoped, visible_region
from linter.kubernetes.vocabulary import FieldedError, Step, compile_schema, found
from linter.core.model import ANNOTATION_PREFIX, Finding, Logical, Placeholders, Region, Rule
from linter.kubernetes.yamldocs import Document, locate

if TYPE_CHECKING:
    from linter.core.config import Settings

WORKLOAD_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob", "PodTemplate")
KIND_GROUPS: dict[str, tuple[str, ...]] = {
    "Workload": WORKLOAD_KINDS,
    "LongRunning": ("Deployment", "StatefulSet", "DaemonSet"),
    "JobLike": ("Job", "CronJob"),
}
ANY_KIND = "Any"  # `kinds: [Any]`: every object, whatever its kind


class AnnotationIgnore(tuple[str, str]):
    """``(code, reason)`` of one ``ignore-check.pitfall.dev/<ID>`` annotation, with ``line``: the
    line of its key in the file (0 when unknown), so an annotation that silences nothing can be
    told from one that does (:func:`linter.core.suppress.apply`)."""

    line: int

    def __new__(cls, code: str, reason: str, line: int = 0) -> AnnotationIgnore:
        self = super().__new__(cls, (code, reason))
        self.line = line
        return self

    def __getnewargs__(self) -> tuple[str, str, int]:  # type: ignore[override]
        return (self[0], self[1], self.line)


def annotation_ignores(obj: dict[str, Any], doc: Document | None = None) -> tuple[tuple[str, str], ...]:
    """``ignore-check.pitfall.dev/<ID>: reason`` on the object and on its pod template (each an
    :class:`AnnotationIgnore` carrying its key's line when ``doc`` is given)."""
    out: list[tuple[str, str]] = []
    metas: list[tuple[Path_, dict[str, Any]]] = [(("metadata",), metadata_of(obj))]
    paths = pod_paths(obj)
    if paths is not None and paths[0] != ("metadata",):
        pm = get_path(obj, paths[0])
        if isinstance(pm, dict):
            metas.append((paths[0], pm))
    for meta_path, meta in metas:
        ann = meta.get("annotations")
        if isinstance(ann, dict):
            for key, value in ann.items():
                if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX):
                    line = 0
                    if doc is not None:
                        span, found = locate(doc, (*meta_path, "annotations", key))
                        line = span.line if found else 0
                    out.append(AnnotationIgnore(key[len(ANNOTATION_PREFIX) :], str(value) if value is not None else "", line))
    return tuple(out)


@dataclass
class _Compiled:
    rule: Rule
    kinds: frozenset[str] | None  # None: every kind
    scope: str
    when: Validator | None
    must: Validator | None
    check: Callable[[CheckContext], Iterable[Hit]] | None
    containers: frozenset[str] | None = None  # container scope: the kinds of container looked at
    api_groups: frozenset[str] | None = None  # only objects of these API groups ("" = core)
    defaults: tuple[tuple[str, Any], ...] = ()  # values of absent keys, as the API server defaults them


class KubeRuleSet:
    """Kubernetes rules compiled once per process."""

    def __init__(self, rules: Sequence[Rule], settings: Settings) -> None:
        from linter.core.model import load_reference

        self.settings = settings
        self.rules: list[_Compiled] = []
        selected = {rule.id for rule in rules}
        for rule in rules:
            if rule.target != "kubernetes":
                continue
            m = rule.matcher
            if any(other in selected for other in m.get("defers-to", ())):
                continue  # that rule reports the same key: one problem, one finding
            kinds: set[str] = set()
            for k in m.get("kinds", ()):
                kinds.update(KIND_GROUPS.get(k, (k,)))
            self.rules.append(
                _Compiled(
                    rule,
                    None if ANY_KIND in kinds else frozenset(kinds),
                    m.get("scope", "object"),
                    compile_schema(m["if"]) if "if" in m else None,
                    compile_schema(m["must"]) if "must" in m else None,
                    _matcher(rule, load_reference),
                    frozenset(m["containers"]) if "containers" in m else None,
                    frozenset(m["api-groups"]) if "api-groups" in m else None,
                    tuple(sorted((m.get("defaults") or {}).items())),
                )
            )

    def analyze_documents(
        self,
        path: str,
        docs: Sequence[Document],
        context: Sequence[Document] | None = None,
        *,
        errors: list[tuple[str, Region]] | None = None,
    ) -> Iterator[tuple[Finding, tuple[tuple[str, str], ...], Path_]]:
        """(finding, annotation ignores of its object, the object path it is about) per hit.

        ``context`` is every document cross-object rules may look at (all the rendered
        documents of a chart); by default the documents of this file. A rule that raises on an
        object is reported in ``errors`` (message naming the rule and the object, region of the
        object) and the other rules and objects go on; without ``errors`` it is ignored.
        """
        everything = docs if context is None else context
        for doc in docs:
            obj = doc.data
            kind = obj["kind"]
            ignores = annotation_ignores(obj, doc)
            meta = metadata_of(obj)
            logical = Logical(kind, _str(meta.get("name")), _str(meta.get("namespace")))
            for c in self.rules:
                if c.kinds is not None and kind not in c.kinds:
                    continue
                try:
                    hits = list(self._hits(c, doc, obj, everything))
                except Exception as exc:  # a rule's bug must not pass the object silently
                    if errors is not None:
                        name = logical.name or "?"
                        errors.append((f"internal error in rule {c.rule.id} on {kind} `{name}`: {type(exc).__name__}: {exc}", visible_region(doc.span)))
                    continue
                for hit in hits:
                    span, _ = locate(doc, hit.path)
                    ident = "/".join(str(p) for p in hit.path)
                    f = Finding(
                        c.rule.id,
                        path,
                        visible_region(span),
                        hit.message,
                        c.rule.severity,
                        logical=logical,
                        fingerprint=f"{kind}/{logical.namespace or ''}/{logical.name or ''}:{ident}",
                    )
                    yield f, ignores, hit.path

    def _hits(self, c: _Compiled, doc: Document, obj: dict[str, Any], docs: Sequence[Document]) -> Iterator[Hit]:
        if c.check is not None:
            ctx = CheckContext(c.rule, self.settings, doc, obj, docs)
            seen: set[tuple[Path_, str]] = set()
            for hit in c.check(ctx):
                if (hit.path, hit.message) not in seen:
                    seen.add((hit.path, hit.message))
                    yield hit
            return
        assert c.must is not None
        if c.api_groups is not None and api_group(obj) not in c.api_groups:
            return
        meta = metadata_of(obj)
        for target in scoped(obj, c.scope, c.containers):
            node = _as_read(target.node, c.defaults)
            if c.when is not None and not c.when.is_valid(node):
                continue
            seen_paths: set[Path_] = set()
            for error in c.must.iter_errors(node):
                rel = tuple(error.absolute_path)
                missing = error.validator == "required"
                full = target.path + rel
                if full in seen_paths:
                    continue
                seen_paths.add(full)
                own = error.schema.get("message") if isinstance(error.schema, dict) else None
                template = own if isinstance(own, str) else c.rule.message
                fmt: dict[str, Any] = {
                    "kind": obj.get("kind", ""),
                    "name": display_name(obj),
                    "namespace": meta.get("namespace", "") or "",
                    "container": target.container or "",
                    "detail": error.message,
                    "value": _short(error.instance) if not missing else "",
                    "path": _PathField(obj, full),
                }
                if isinstance(error, FieldedError):
                    fmt.update(error.fields)
                if "{item" in template:
                    fmt["item"] = _ItemField(obj, full)
                try:
                    message = template.format_map(Placeholders(fmt))
                except (ValueError, IndexError, KeyError):
                    message = template
                yield Hit(full, message, missing)


def _matcher(rule: Rule, load_reference: Callable[[str], Any]) -> Callable[[CheckContext], Iterable[Hit]] | None:
    """The function that finds a rule's hits, for a rule that is not a ``must`` schema."""
    m = rule.matcher
    if "check" in m:
        return load_reference(m["check"])
    if rule.pss_check:
        return pss.rule_hits
    if "namespace" in (m.get("pss") or {}):
        return pss.namespace_hits
    if "certificate" in m:
        from linter.kubernetes import certificates

        return certificates.rule_hits
    return None


def _index(key: int | str) -> int:
    """The index in a placeholder's ``[N]`` (``str.format`` passes digits as text; a negative
    number stays text): a ``KeyError`` when it is not one, as for a missing field."""
    if isinstance(key, int):
        return key
    try:
        return int(key)
    except ValueError:
        raise KeyError(key) from None


class _ItemField:
    """``{item}``: the innermost list item on the reported path, its ``name`` in backticks, else
    ``#<index>``; ``{item[N]}`` the Nth list item on the path (counted from the innermost when
    negative: ``{item[-2]}`` is the item that holds the innermost one). A format spec reads a
    value in the item: ``{item:port.number|?}`` is the text of the value at that dotted path
    (``*`` steps into each item of a list; the values found are joined with ``, ``), or the text
    after ``|`` when that text is empty (nothing found, only nulls, empty strings)."""

    def __init__(self, obj: dict[str, Any], path: Path_, items: Path_ | None = None) -> None:
        self.obj = obj
        self.path = path
        # the paths of the list items on ``path``, outermost first
        self.items: Path_ = items if items is not None else tuple(
            path[: n + 1] for n in range(len(path)) if isinstance(path[n], int) and isinstance(get_path(obj, path[:n]), list)
        )

    def _at(self) -> Path_ | None:
        return self.items[-1] if self.items else None

    def __str__(self) -> str:
        at = self._at()
        if at is None:
            return ""
        item = get_path(self.obj, at)
        name = item.get("name") if isinstance(item, dict) else None
        return f"`{name}`" if isinstance(name, str) else f"#{at[-1]}"

    def __getitem__(self, key: int | str) -> _ItemField:
        try:
            return _ItemField(self.obj, self.path, (self.items[_index(key)],))
        except IndexError:
            return _ItemField(self.obj, self.path, ())

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        where, _, fallback = spec.partition("|")
        at = self._at()
        text = ""
        if at is not None:
            steps: list[Step] = [step for step in where.split(".") if step]
            text = ", ".join(str(value) for _, value in found(get_path(self.obj, at), steps))
        return text or fallback


def _as_read(node: Any, defaults: tuple[tuple[str, Any], ...]) -> Any:
    """A scoped node as the API server reads it: a key whose value is null is absent, and an
    absent key with a default (the rule's ``defaults``) has it."""
    if not isinstance(node, dict) or not (defaults or any(v is None for v in node.values())):
        return node
    view = {k: v for k, v in node.items() if v is not None}
    for key, value in defaults:
        view.setdefault(key, value)
    return view


class _PathField:
    """``{path}``: the reported path in the object, dotted (``spec.containers[0].ports``);
    ``{path[N]}`` its Nth key or index, counted from the end when negative."""

    def __init__(self, obj: dict[str, Any], path: Path_) -> None:
        self.obj = obj
        self.path = path

    def __str__(self) -> str:
        text = ""
        for n, part in enumerate(self.path):
            if isinstance(part, int) and isinstance(get_path(self.obj, self.path[:n]), list):
                text += f"[{part}]"
            else:
                text += f".{part}" if text else str(part)
        return text

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __getitem__(self, key: int | str) -> str:
        return str(self.path[_index(key)])


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
