"""Fixes for YAML manifests: a ruamel.yaml round trip of one document, kept only when it is exact.

A fix edits the node it is about through ruamel.yaml's round-trip loader (comments, key order,
quoting and flow style kept), dumps the document again and turns the difference into minimal
:class:`~linter.core.model.Edit`\\ s, which ``--fix``, ``--unsafe-fixes``, ``--diff`` and the
language server apply like the Python fixes. No fix is better than a damaging one, so a fix is
offered only when

- the file has no template syntax (``{{``), no YAML directive (``%``) and no document marker
  with content on its line, and the document has no alias and no tab;
- only the target document is round-tripped (the text between its ``---`` lines), with an
  indentation that reproduces it byte for byte before the edit;
- the changed lines all lie within the node the fix is about;
- the fixed file, parsed as the analyzer parses it (YAML 1.1, as Kubernetes reads it), holds the
  same documents with the same data, but for the one change the fix is meant to make.

Which fixes are safe follows ruff's meaning: a safe fix does not change behaviour that works
today. Every Pod Security and probe fix here can: ``allowPrivilegeEscalation: false`` stops
setuid and file-capability binaries (``sudo``, ``ping`` in some images) from gaining privileges,
``capabilities.drop: [ALL]`` takes away the capabilities a root process binding a low port or
changing file owners uses, ``runAsNonRoot: true`` stops an image that runs as root from starting,
``seccompProfile: RuntimeDefault`` refuses the syscalls the runtime's profile blocks, an
``enforce`` label makes admission reject pods it admitted before, and a shorter probe timeout fails
a probe that needed longer. They are unsafe. Removing an annotation that silences nothing changes
nothing pitfall or the cluster acts on: safe.

Fixes are computed when they are used (``--fix`` and ``--diff``: :func:`linter.core.fixes.fix_unit`; the
language server: :func:`attach`), not while linting: a round trip costs milliseconds a document,
many times the cost of linting it. So SARIF and the report's fixable counts carry only the fix made
while linting, the removal of an unused annotation (``LNT003``, :mod:`linter.core.suppress`).
"""

from __future__ import annotations

import copy
import difflib
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from linter.core.model import ANNOTATION_PREFIX, Edit, Finding, Fix, Region

if TYPE_CHECKING:
    from linter.core.config import Settings
    from linter.core.engine import RuleSet
    from linter.kubernetes.yamldocs import Document

Path_ = tuple[Any, ...]
Mutation = Callable[[Any, Callable[[], Any], Callable[[list[Any]], Any]], bool]

FIXABLE = frozenset({"PSA213", "PSA214", "PSA217", "PSA219", "PSA220", "PRB203"})
_MARKER = re.compile(r"(?:---|\.\.\.)(?=[ \t]|$)")
_PLAIN_MARKER = re.compile(r"(?:---|\.\.\.)[ \t]*(?:#.*)?")
_BREAK = re.compile(r"\r\n|\r|\n")
MAX_ROUNDS = 16  # rounds of YAML fixes on one file (a fix that overlaps another waits for the next)


# --------------------------------------------------------------------------- the round trip


def _contents(text: str) -> list[str]:
    """The lines of ``text`` without their breaks (as :class:`linter.core.edits.Lines` breaks them)."""
    return _BREAK.split(text)


def _indent_candidates(lines: Sequence[str]) -> list[tuple[int, int, int]]:
    """(mapping, sequence, offset) indentations to try, the one the text suggests first."""
    maps: dict[int, int] = {}
    offsets: dict[int, int] = {}
    previous: tuple[int, str] | None = None
    for raw in lines:
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        if previous is not None and previous[1].endswith(":"):
            delta = indent - previous[0]
            if stripped.startswith("- ") or stripped == "-":
                offsets[delta] = offsets.get(delta, 0) + 1
            elif delta > 0:
                maps[delta] = maps.get(delta, 0) + 1
        body = stripped
        while body.startswith("- "):  # `- name: x`: the key sits after the dash
            indent += 2
            body = body[2:].lstrip(" ")
        previous = (indent, body.split(" #", 1)[0].rstrip())
    guess_map = max(maps, key=lambda k: maps[k]) if maps else 2
    guess_off = max(offsets, key=lambda k: offsets[k]) if offsets else 0
    out: list[tuple[int, int, int]] = []
    for m in dict.fromkeys((guess_map, 2, 4, 3)):
        for off in dict.fromkeys((max(guess_off, 0), 0, 2, m)):
            for seq in dict.fromkeys((off + 2, off + m)):
                if m > 0 and seq > off:
                    out.append((m, seq, off))
    return out


def _yaml(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold a long line
    y.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    return y


def _dump(y: Any, data: Any) -> str:
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _has_alias(text: str) -> bool:
    import yaml

    from linter.kubernetes.yamldocs import SAFE_LOADER

    try:
        return any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=SAFE_LOADER))
    except yaml.YAMLError:
        return True


@dataclass(frozen=True, slots=True)
class _Chunk:
    first: int  # 0-based index of its first line in the file
    lines: list[str]


def _chunk(lines: Sequence[str], line: int) -> _Chunk | None:
    """The lines of the document holding 1-based ``line`` (between its ``---``/``...`` lines)."""
    start, end = 0, len(lines)
    for i, raw in enumerate(lines):
        if raw.startswith("%"):
            return None  # a YAML directive: not ours to keep
        if _MARKER.match(raw):
            if not _PLAIN_MARKER.fullmatch(raw):
                return None  # `--- key: value`, `--- !tag`: content on the marker line
            if i < line - 1:
                start = i + 1
            elif end == len(lines):
                end = i
    if not start <= line - 1 < end:
        return None
    body = list(lines[start:end])
    while body and body[-1] == "" and start + len(body) == len(lines):
        body.pop()  # the empty "line" after the file's last line break
    return _Chunk(start, body)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _above_outer_comments(old: list[str], new: list[str]) -> list[str]:
    """``new`` with each inserted block moved above the comment lines just before it that are
    less indented than the block: ruamel.yaml keeps the comments after a mapping's last key with
    that key, so a key added to the mapping would land below a comment about what follows it."""
    opcodes = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(opcodes):
        if tag != "insert":
            continue
        block = [line for line in new[j1:j2] if line.strip()]
        if not block:
            continue
        depth = min(_indent(line) for line in block)
        k = j1
        while k > 0 and new[k - 1].lstrip().startswith("#") and _indent(new[k - 1]) < depth:
            k -= 1
        if k < j1:
            new = new[:k] + new[j1:j2] + new[k:j1] + new[j2:]
    return new


def _edits(chunk: _Chunk, new: list[str], lines: Sequence[str], scope: tuple[int, int]) -> list[Edit] | None:
    """Edits turning the chunk's lines into ``new``; None when a change falls outside ``scope``
    (0-based first and last file line a change may touch; an insertion may follow the last).

    A deletion takes the line break before the deleted lines with it; an insertion replaces the
    content of the line it follows (or precedes), so two fixes inserting at one place overlap
    (one waits for the next round) instead of both landing there.
    """
    lo, hi = scope
    out: list[Edit] = []
    new = _above_outer_comments(chunk.lines, new)
    matcher = difflib.SequenceMatcher(None, chunk.lines, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        a, b = chunk.first + i1, chunk.first + i2  # file lines [a, b), 0-based
        if i1 == i2:
            if not lo <= a <= hi + 1:
                return None
        elif not (lo <= a and b - 1 <= hi):
            return None
        added = new[j1:j2]
        if tag == "replace":
            out.append(Edit(Region(a + 1, 1, b, len(lines[b - 1]) + 1), "\n".join(added)))
        elif tag == "delete":
            if a > 0:
                out.append(Edit(Region(a, len(lines[a - 1]) + 1, b, len(lines[b - 1]) + 1), ""))
            elif b < len(lines):
                out.append(Edit(Region(1, 1, b + 1, 1), ""))
            else:
                return None
        elif a > 0:  # insert after line a (1-based a)
            prev = lines[a - 1]
            out.append(Edit(Region(a, 1, a, len(prev) + 1), prev + "\n" + "\n".join(added)))
        elif a < len(lines):
            nxt = lines[a]
            out.append(Edit(Region(1, 1, 1, len(nxt) + 1), "\n".join(added) + "\n" + nxt))
        else:
            return None
    return out or None


def _plain_map() -> dict[Any, Any]:
    return {}


def _plain_seq(items: list[Any]) -> list[Any]:
    return list(items)


def _rt_map() -> Any:
    from ruamel.yaml.comments import CommentedMap

    return CommentedMap()


def _rt_seq(items: list[Any]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq(items)


_INDENTS: dict[str, tuple[int, int, int] | None] = {}  # document text -> the indentation that reproduces it


def _reproducing_indent(source: str, lines: Sequence[str], tree: Any) -> tuple[int, int, int] | None:
    """The (mapping, sequence, offset) indentation whose dump of ``tree`` (loaded from ``source``)
    is ``source`` exactly; None when there is none. Remembered for the documents seen last (the
    fixes of a document are computed one after another; each loads it again: a deep copy of the
    tree loses comments)."""
    try:
        return _INDENTS[source]
    except KeyError:
        pass
    found = None
    for indent in _indent_candidates(lines):
        try:
            if _dump(_yaml(indent), tree) == source:
                found = indent
                break
        except Exception:  # a document ruamel.yaml cannot write back
            break
    if len(_INDENTS) >= 64:
        _INDENTS.clear()
    _INDENTS[source] = found
    return found


def round_trip_fix(
    text: str,
    doc_line: int,
    mutate: Mutation,
    *,
    scope: tuple[int, int],
    title: str,
    applicability: str,
) -> Fix | None:
    """A fix that applies ``mutate`` to the document holding 1-based ``doc_line``, or None.

    ``mutate(root, new_map, new_seq)`` changes the document's root mapping in place (making new
    mappings and sequences with the factories given) and returns whether it changed anything; it
    runs on the round-trip tree and, to check the result, on the analyzer's plain data.
    ``scope``: the 1-based first and last line the change may touch.
    """
    from linter.core.edits import edit_text
    from linter.kubernetes.yamldocs import load_documents

    if "{{" in text:
        return None
    lines = _contents(text)
    chunk = _chunk(lines, doc_line)
    if chunk is None or not chunk.lines:
        return None
    source = "".join(line + "\n" for line in chunk.lines)
    if "\t" in source or _has_alias(source):
        return None
    try:
        tree = _yaml((2, 2, 0)).load(source)
    except Exception:  # ruamel.yaml raises its own errors, and more: any failure is no fix
        return None
    if not isinstance(tree, dict):
        return None
    indent = _reproducing_indent(source, chunk.lines, tree)
    if indent is None:
        return None  # no indentation reproduces the document: the dump would change more
    try:
        if not mutate(tree, _rt_map, _rt_seq):
            return None
        dumped = _dump(_yaml(indent), tree)
    except Exception:
        return None
    new = dumped.split("\n")
    if new and new[-1] == "":
        new.pop()
    edits = _edits(chunk, new, lines, (scope[0] - 1, scope[1] - 1))
    if not edits:
        return None
    fix = Fix(title, applicability, tuple(edits))
    # the fixed file, as the analyzer reads it: the same documents, only the target changed
    applied = edit_text(text, [fix])
    if applied.refused or not applied.applied:
        return None
    before, after = load_documents(text), load_documents(applied.text)
    if len(after.problems) > len(before.problems) or len(after.documents) != len(before.documents):
        return None
    target = next((d for d in before.documents if d.span.line <= doc_line <= d.span.end_line), None)
    if target is None:
        return None
    expected = []
    for d in before.documents:
        data = d.data
        if d is target:
            data = copy.deepcopy(data)
            if not isinstance(data, dict) or not mutate(data, _plain_map, _plain_seq):
                return None
        expected.append(data)
    if not _same([d.data for d in after.documents], expected):
        return None
    return fix


def _same(a: Any, b: Any) -> bool:
    """Equal data, types included (``False == 0`` and ``1 == 1.0`` are not the same YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


# --------------------------------------------------------------------------- mutations


def _node(root: Any, path: Sequence[Any]) -> Any:
    node = root
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, list) or not 0 <= part < len(node):
                return None
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
    return node


def _ensure_map(parent: dict[Any, Any], key: str, new_map: Callable[[], Any]) -> Any:
    value = parent.get(key)
    if value is None:
        parent[key] = value = new_map()
    return value if isinstance(value, dict) else None


def _set_in(owner_path: Path_, keys: Sequence[str], value: Any, *, only: frozenset[str] | None = None) -> Mutation:
    """Set ``keys`` (nested mappings, made when missing) below ``owner_path`` to ``value``;
    ``only``: the keys the innermost existing mapping may hold besides the one set."""

    def mutate(root: Any, new_map: Callable[[], Any], new_seq: Callable[[list[Any]], Any]) -> bool:
        node = _node(root, owner_path)
        if not isinstance(node, dict):
            return False
        for key in keys[:-1]:
            node = _ensure_map(node, key, new_map)
            if node is None:
                return False
        if only is not None and set(node) - only - {keys[-1]}:
            return False
        if keys[-1] in node and node[keys[-1]] == value and type(node[keys[-1]]) is type(value):
            return False
        node[keys[-1]] = value
        return True

    return mutate


def _drop_all(cpath: Path_) -> Mutation:
    def mutate(root: Any, new_map: Callable[[], Any], new_seq: Callable[[list[Any]], Any]) -> bool:
        node = _node(root, cpath)
        if not isinstance(node, dict):
            return False
        sc = _ensure_map(node, "securityContext", new_map)
        caps = _ensure_map(sc, "capabilities", new_map) if sc is not None else None
        if caps is None:
            return False
        drop = caps.get("drop")
        if isinstance(drop, list):
            if "ALL" in drop:
                return False
            drop.append("ALL")
        elif drop is None:
            caps["drop"] = new_seq(["ALL"])
        else:
            return False
        return True

    return mutate


def _remove_annotation(meta_path: Path_, key: str) -> Mutation:
    def mutate(root: Any, new_map: Callable[[], Any], new_seq: Callable[[list[Any]], Any]) -> bool:
        meta = _node(root, meta_path)
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if not isinstance(annotations, dict) or key not in annotations:
            return False
        del annotations[key]
        if not annotations:
            del meta["annotations"]
        return True

    return mutate


# --------------------------------------------------------------------------- fixes by rule


def _lines_of(span: Any) -> tuple[int, int]:
    """First and last line of a node's span (its end is exclusive: a mapping often ends at the
    first column of the line after it)."""
    last = span.end_line if span.end_column > 1 else max(span.line, span.end_line - 1)
    return span.line, last


def _container(path: Path_) -> Path_ | None:
    from linter.kubernetes.objects import CONTAINER_LISTS

    for i, part in enumerate(path):
        if part in CONTAINER_LISTS and i + 1 < len(path) and isinstance(path[i + 1], int):
            return tuple(path[: i + 2])
    return None


def _owner(obj: dict[str, Any], path: Path_) -> tuple[Path_, str] | None:
    """The container (else the pod spec) a Pod Security finding at ``path`` is about, and its label."""
    from linter.kubernetes.objects import pod_target

    cpath = _container(path)
    if cpath is not None:
        c = _node(obj, cpath)
        name = c.get("name") if isinstance(c, dict) else None
        return cpath, f"container `{name}`" if isinstance(name, str) else "the container"
    target = pod_target(obj)
    return (tuple(target.spec_path), "the pod") if target is not None else None


def fix_for(finding: Finding, hit_path: Path_, doc: Document, text: str, settings: Settings) -> Fix | None:
    """The fix of one Kubernetes finding (its rule's hit at ``hit_path`` of ``doc``), or None."""
    from linter.kubernetes.yamldocs import value_span

    obj = doc.data
    if doc.list_item is not None or not isinstance(obj, dict):
        return None
    rule = finding.rule_id

    def build(owner: Path_, mutate: Mutation, title: str, applicability: str = "unsafe") -> Fix | None:
        span = value_span(doc, owner)
        if span is None:
            return None
        return round_trip_fix(text, doc.span.line, mutate, scope=_lines_of(span), title=title, applicability=applicability)

    if rule in ("PSA213", "PSA214", "PSA217", "PSA219"):
        if rule == "PSA214" and len(hit_path) >= 2 and hit_path[-2] == "add":
            return None  # an added capability: removing it is the owner's call
        owned = _owner(obj, hit_path)
        if owned is None:
            return None
        owner, label = owned
        if rule == "PSA213":
            return build(owner, _set_in(owner, ("securityContext", "allowPrivilegeEscalation"), False),
                         f"Set `securityContext.allowPrivilegeEscalation: false` on {label}")
        if rule == "PSA214":
            return build(owner, _drop_all(owner), f"Add `ALL` to `securityContext.capabilities.drop` of {label}")
        if rule == "PSA217":
            return build(owner, _set_in(owner, ("securityContext", "runAsNonRoot"), True),
                         f"Set `securityContext.runAsNonRoot: true` on {label}")
        return build(owner, _set_in(owner, ("securityContext", "seccompProfile", "type"), "RuntimeDefault", only=frozenset({"type"})),
                     f"Set `securityContext.seccompProfile.type: RuntimeDefault` on {label}")
    if rule == "PSA220":
        from linter.kubernetes.pss import ENFORCE, LABEL_PREFIX as PREFIX, RANK

        level = getattr(settings, "pss_level", "restricted")
        if level not in ("baseline", "restricted"):
            return None  # `enforce: privileged` admits everything: not a fix
        labels = _node(obj, ("metadata", "labels"))
        if isinstance(labels, dict):
            for mode in ("warn", "audit"):
                value = labels.get(PREFIX + mode)
                if isinstance(value, str) and value in RANK and RANK[value] < RANK[level]:
                    return None  # the label would make that weaker mode a new finding
        return build(("metadata",), _set_in(("metadata",), ("labels", ENFORCE), level),
                     f"Add the label `{ENFORCE}: {level}` (the level pitfall checks against: `pss-level`)")
    if rule == "PRB203":
        if len(hit_path) < 2 or hit_path[-1] != "timeoutSeconds":
            return None  # the default timeout is at least the period: only the period can change
        probe = _node(obj, hit_path[:-1])
        if not isinstance(probe, dict):
            return None
        period = probe.get("periodSeconds")
        if period is None or period == 0:
            period = 10
        if isinstance(period, bool) or not isinstance(period, int) or period < 2:
            return None
        owner = tuple(hit_path[:-1])
        return build(owner, _set_in(owner, ("timeoutSeconds",), period - 1),
                     f"Set `{hit_path[-2]}.timeoutSeconds` to {period - 1}, below its periodSeconds {period}")
    return None


def annotation_removal(text: str, path: str, line: int, key: str) -> Fix | None:
    """A safe fix deleting the annotation ``key`` whose key is on 1-based ``line`` (and the
    ``annotations`` mapping with it when it was the only one), or None."""
    from linter.kubernetes.objects import is_object, pod_target
    from linter.kubernetes.yamldocs import key_span, load_documents, value_span

    if "{{" in text or ANNOTATION_PREFIX not in key or not path.lower().endswith((".yaml", ".yml")):
        return None
    for doc in load_documents(text).documents:
        if not (doc.span.line <= line <= doc.span.end_line) or doc.list_item is not None or not is_object(doc.data):
            continue
        metas: list[Path_] = [("metadata",)]
        target = pod_target(doc.data)
        if target is not None and tuple(target.meta_path) != ("metadata",):
            metas.append(tuple(target.meta_path))
        for meta in metas:
            where = key_span(doc, (*meta, "annotations", key))
            if where is None or where.line != line:
                continue
            annotations = _node(doc.data, (*meta, "annotations"))
            whole = (*meta, "annotations") if isinstance(annotations, dict) and len(annotations) == 1 else (*meta, "annotations", key)
            first = key_span(doc, whole)
            value = value_span(doc, whole)
            if first is None or value is None:
                return None
            scope = (first.line, _lines_of(value)[1])
            return round_trip_fix(text, doc.span.line, _remove_annotation(meta, key), scope=scope,
                                  title="Remove the unused suppression annotation", applicability="safe")
    return None


def values_fix(path: str, values_text: str, dotted_key: str, value: Any, title: str, applicability: str) -> Fix | None:
    """A fix setting ``dotted_key`` (``a.b.c``: nested keys, mappings made when missing) to
    ``value`` in a Helm values file, keeping its comments, key order and quoting; None when the
    file cannot be edited that way (templates, several documents before the values, a root that is
    not a mapping, an intermediate key that holds something else than a mapping)."""
    from linter.kubernetes.yamldocs import load_documents, value_span

    keys = [k for k in dotted_key.split(".")]
    if not keys or any(not k for k in keys) or path.lower().endswith(".json"):
        return None
    loaded = load_documents(values_text)
    if not loaded.documents or loaded.problems:
        return None
    doc = loaded.documents[0]
    if doc.list_item is not None or not isinstance(doc.data, dict):
        return None
    # the change stays within the deepest mapping that exists along the key
    depth = 0
    node: Any = doc.data
    while depth < len(keys) - 1 and isinstance(node, dict) and isinstance(node.get(keys[depth]), dict):
        node = node[keys[depth]]
        depth += 1
    span = value_span(doc, tuple(keys[:depth]))
    if span is None:
        return None
    scope = _lines_of(span) if depth else (1, len(_contents(values_text)))
    return round_trip_fix(values_text, doc.span.line, _set_in((), tuple(keys), value), scope=scope, title=title, applicability=applicability)


# --------------------------------------------------------------------------- findings


def attach(path: str, text: str, findings: Sequence[Finding], ruleset: RuleSet, *, unsafe: bool = True, limit: int = 500) -> list[Finding]:
    """``findings`` of the YAML file ``path`` (its ``text``), each fixable one with its fix
    (``unsafe`` False: only those whose fix can be safe; every one of :data:`FIXABLE` is unsafe)."""
    from linter.kubernetes.objects import is_object
    from linter.kubernetes.yamldocs import load_documents

    wanted = {
        (f.rule_id, f.region, f.message): i
        for i, f in enumerate(findings)
        if unsafe and f.fix is None and f.suppression is None and f.rule_id in FIXABLE
    }
    out = list(findings)
    if not wanted or "{{" in text or path.lower().endswith(".json"):
        return out
    rules = ruleset.for_path(path)
    kube = rules.kubernetes
    loaded = load_documents(text)
    docs = [d for d in loaded.documents if is_object(d.data)]
    lines = {f.region.line for f in findings if (f.rule_id, f.region, f.message) in wanted}
    done = 0
    for doc in docs:
        if not any(doc.span.line <= ln <= doc.span.end_line for ln in lines):
            continue
        for f, _ignores, hit_path in kube.analyze_documents(path, [doc], context=docs):
            i = wanted.pop((f.rule_id, f.region, f.message), None)
            if i is None:
                continue
            if done >= limit:
                return out
            done += 1
            fix = fix_for(f, tuple(hit_path), doc, text, rules.settings)
            if fix is not None:
                out[i] = replace(out[i], fix=fix)
    return out


def fixable_here(findings: Sequence[Finding], *, unsafe: bool) -> bool:
    return any(f.suppression is None and (f.fix is not None or unsafe and f.rule_id in FIXABLE) for f in findings)


def broken(before: str, after: str) -> str | None:
    """Why the fixed YAML ``after`` is worse than ``before`` (None: it is not)."""
    from linter.kubernetes.yamldocs import load_documents

    was, now = load_documents(before), load_documents(after)
    if len(now.problems) > len(was.problems):
        return f"the fixed file would not load: {now.problems[0].message}"
    if len(now.documents) != len(was.documents):
        return "the fixed file would hold other documents"
    return None
