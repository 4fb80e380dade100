"""Load Kubernetes YAML/JSON manifests into plain data, keeping exact positions.

The module is pure: it never touches the file system and never raises on any
input string.  Everything that goes wrong is reported as a :class:`YamlProblem`.

Parsing goes through PyYAML's libyaml binding (``yaml.CSafeLoader``, with the
pure-Python ``yaml.SafeLoader`` as a fallback) and its *node* API, so YAML 1.1
scalar resolution applies exactly as PyYAML does it (``yes``/``on``/``no`` are
booleans, as Kubernetes reads them) and every node keeps its start/end marks.
The node tree is then constructed by PyYAML's ``SafeConstructor`` with a few hooks
overridden (``_Constructor``): it reports duplicate keys (the last value wins), applies merge
keys (``<<``) with PyYAML's precedence without editing the nodes, and reads scalars as
Kubernetes does. Before a document whose text holds an alias is constructed, an iterative walk
(``_AliasGuard``) counts alias expansions (billion-laughs protection, ``max_aliases``) and
refuses recursive aliases.

Deeply nested input is rejected *before* composing, because the composer
(libyaml's Cython binding as well as the pure-Python one) recurses once per
nesting level and would overflow the C stack or raise ``RecursionError``.

Deeply nested input is detected with a cheap bound first (the number of
``[{-:?`` characters of each ``---`` chunk, which no nesting can exceed) and,
only for chunks over the limit, exactly through libyaml's iterative event
stream.

When the whole stream does not parse, the text is split on ``---`` separator
lines and every chunk is parsed on its own, its marks shifted by the chunk's
line offset, so the good documents of a file survive a broken one.

Positions (:class:`Region`) are 1-based; the end is exclusive (PyYAML's 0-based
``end_mark`` plus one).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.error import Mark
from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from linter.core.model import Region

__all__ = [
    "Document",
    "LoadResult",
    "SAFE_LOADER",
    "YamlProblem",
    "has_template_syntax",
    "key_span",
    "load_documents",
    "locate",
    "value_span",
]

#: PyYAML's safe loader, through libyaml where PyYAML was built with it (every loader here)
SAFE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_SCALAR_TAGS: dict[tuple[str, Any], str] = {}


class _Loader(SAFE_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, remembering the tag of each plain scalar it resolved.

    Manifests repeat the same few hundred scalars (``name``, ``image``, ``true``...) and the
    regular-expression resolution of each one was a fifth of the loading time. SafeLoader has no
    path resolvers, so a scalar's tag depends on its text and ``implicit`` only.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any, _known: Any = _SCALAR_TAGS.get) -> str:
        if kind is ScalarNode:
            tag = _known((value, implicit))
            if tag is not None:
                return tag
            tag = super().resolve(kind, value, implicit)
            if len(_SCALAR_TAGS) >= 50_000:
                _SCALAR_TAGS.clear()
            _SCALAR_TAGS[(value, implicit)] = tag
            return tag
        return super().resolve(kind, value, implicit)


#: The composer recurses once per nesting level (the Cython one without any
#: recursion check: ~100k levels crash the process), so no caller-supplied
#: ``max_depth`` may go beyond this.
_HARD_DEPTH_LIMIT = 1000

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


# --------------------------------------------------------------------------
# public result types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class YamlProblem:
    """Something wrong with the input, located where the parser says."""

    message: str
    span: Region
    kind: str  # "syntax" | "duplicate-key" | "alias-bomb" | "too-deep"


@dataclass(frozen=True, slots=True)
class Document:
    """One mapping document of a file (or one item of a ``kind: *List``)."""

    index: int
    data: Any
    root: Any
    span: Region
    list_item: int | None = None


@dataclass(frozen=True, slots=True)
class LoadResult:
    documents: tuple[Document, ...]
    problems: tuple[YamlProblem, ...]


# --------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------


def _node_span(node: Node) -> Region:
    start, end = node.start_mark, node.end_mark
    return Region(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _point(line0: int, column0: int) -> Region:
    """A one-character span at a 0-based position."""
    return Region(line0 + 1, column0 + 1, line0 + 1, column0 + 2)


def _mark_point(mark: Any, line_offset: int = 0) -> Region:
    return _point(mark.line + line_offset, mark.column)


def _count_breaks(text: str, start: int, end: int, exotic: bool) -> int:
    """Line breaks in text[start:end], counted the way libyaml counts them."""
    n = text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    if exotic:
        n += (
            text.count("\x85", start, end)
            + text.count("\u2028", start, end)
            + text.count("\u2029", start, end)
        )
    return n


def _has_exotic_breaks(text: str) -> bool:
    return "\x85" in text or "\u2028" in text or "\u2029" in text


def _position_of(text: str, index: int) -> tuple[int, int]:
    """0-based (line, column) of a character index, counting breaks like libyaml."""
    index = max(0, min(index, len(text)))
    exotic = _has_exotic_breaks(text)
    line = _count_breaks(text, 0, index, exotic)
    last = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index))
    if exotic:
        last = max(last, text.rfind("\x85", 0, index), text.rfind("\u2028", 0, index), text.rfind("\u2029", 0, index))
    return line, index - last - 1


class _Abort(Exception):
    """Stops converting one document; carries the problem to report."""

    def __init__(self, problem: YamlProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


# --------------------------------------------------------------------------
# scalars
# --------------------------------------------------------------------------

class _Constructor(SafeConstructor):
    """PyYAML's safe constructor, reading data as Kubernetes (sigs.k8s.io/yaml) does.

    Its hooks are overridden where a manifest needs something else than a Python program:

    * a duplicate key is a problem (the last value wins), not silently dropped;
    * merge keys (``<<``) follow PyYAML's precedence without editing the node tree, which the
      positions (``locate``) still read; an invalid merge value is a problem, not an exception;
    * a key that is not a scalar is a problem and is left out;
    * timestamps and ``!!binary`` stay the text written (untyped Kubernetes data keeps them as
      strings), custom tags (``!Ref``) keep their text or become plain mappings and lists, and
      ``!!set``/``!!omap``/``!!pairs`` become the mapping or list they are written as;
    * a scalar its tag cannot convert (``!!int abc``) keeps its text;
    * in JSON mode, a plain scalar that is a JSON number is a number (YAML 1.1 reads ``1e5`` as a
      string).

    Aliases are shared, as PyYAML does; ``_AliasGuard`` has bounded their expansion and refused
    recursive ones before construction starts.
    """

    def __init__(self, json_mode: bool, problems: list[YamlProblem]) -> None:
        super().__init__()
        self.json_mode = json_mode
        self.problems = problems

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # most scalars of a manifest are plain strings: skip the bookkeeping an alias needs
        if node.__class__ is ScalarNode and node.tag == _STR_TAG and not self.json_mode:
            return node.value
        return super().construct_object(node, deep)

    def construct_yaml_str(self, node: ScalarNode) -> Any:
        value = node.value
        if self.json_mode and not node.style and _JSON_NUMBER.match(value):  # plain: None or ""
            try:
                if "." in value or "e" in value or "E" in value:
                    return float(value)
                return int(value)
            except ValueError:
                return value
        return value

    def construct_yaml_int(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_int(node)
        except (ValueError, IndexError):  # "!!int abc", or more digits than int() accepts
            return node.value

    def construct_yaml_float(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_float(node)
        except (ValueError, IndexError):
            return node.value

    def construct_yaml_bool(self, node: ScalarNode) -> Any:
        return self.bool_values.get(node.value.lower(), node.value)

    def construct_text(self, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            return str(node.value)
        if isinstance(node, MappingNode):
            return self.construct_yaml_map(node)
        return self.construct_yaml_seq(node)

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        pairs, explicit = self._pairs(node)
        mapping: dict[Any, Any] = {}
        seen: set[Any] = set()
        for position, (key_node, value_node) in enumerate(pairs):
            key = self.construct_object(key_node, deep=deep)
            if position >= explicit:
                if key in seen:
                    self.problems.append(YamlProblem(f"duplicate key {key!r}", _node_span(key_node), "duplicate-key"))
                seen.add(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def _pairs(self, node: MappingNode) -> tuple[list[tuple[Node, Node]], int]:
        """The (key, value) nodes of a mapping, merged ones first (earlier mappings of a ``<<``
        list win), and where its own pairs start. Non-scalar keys are problems, left out."""
        merged: list[tuple[Node, Node]] = []
        own: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    YamlProblem("invalid YAML: found unhashable key (a mapping key must be a scalar)", _node_span(key_node), "syntax")
                )
            elif key_node.tag != _MERGE_TAG:
                own.append((key_node, value_node))
            elif isinstance(value_node, MappingNode):
                merged.extend(self._pairs(value_node)[0])
            elif isinstance(value_node, SequenceNode) and all(isinstance(item, MappingNode) for item in value_node.value):
                for item in reversed(value_node.value):
                    merged.extend(self._pairs(item)[0])
            else:
                self.problems.append(
                    YamlProblem("invalid YAML: expected a mapping or list of mappings for merging", _node_span(value_node), "syntax")
                )
        return merged + own, len(merged)


# (types-PyYAML types add_constructor for Loader classes only; a constructor class is what PyYAML
# registers on itself)
for _tag in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary", _MERGE_TAG, None):
    _Constructor.add_constructor(_tag, _Constructor.construct_text)  # type: ignore[type-var]
_Constructor.add_constructor("tag:yaml.org,2002:set", _Constructor.construct_yaml_map)  # type: ignore[type-var]
for _tag in ("tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs"):
    _Constructor.add_constructor(_tag, _Constructor.construct_yaml_seq)  # type: ignore[type-var]
for _tag, _method in (
    ("tag:yaml.org,2002:str", _Constructor.construct_yaml_str),
    ("tag:yaml.org,2002:int", _Constructor.construct_yaml_int),
    ("tag:yaml.org,2002:float", _Constructor.construct_yaml_float),
    ("tag:yaml.org,2002:bool", _Constructor.construct_yaml_bool),
):
    _Constructor.add_constructor(_tag, _method)  # type: ignore[type-var]


class _AliasGuard:
    """Walks one document's node graph before it is constructed (only when its text holds an
    alias): PyYAML's composer shares the anchored node for every alias, so a node reached a
    second time was reached through one. Each such reference adds the expanded size of its
    subtree to a count that must stay within ``max_aliases`` (billion laughs), and a reference
    to a node still being walked is a recursive alias. Iterative: no nesting overflows it."""

    def __init__(self, max_aliases: int) -> None:
        self.max_aliases = max_aliases
        self.sizes: dict[int, int] = {}
        self.expanded = 0

    def _count(self, size: int, where: Node) -> None:
        self.expanded += size
        if self.expanded > self.max_aliases:
            raise _Abort(
                YamlProblem(
                    f"alias expansion limit exceeded (more than {self.max_aliases} nodes expanded through aliases)",
                    _mark_point(where.start_mark),
                    "alias-bomb",
                )
            )

    def check(self, root: Node) -> None:
        sizes = self.sizes
        active: set[int] = {id(root)}
        # a frame: [node, the children still to walk (values of a mapping), next index, size]
        stack: list[list[Any]] = [[root, _children(root), 0, 0]]
        while stack:
            frame = stack[-1]
            node, children = frame[0], frame[1]
            descended = False
            while frame[2] < len(children):
                child = children[frame[2]]
                frame[2] += 1
                cid = id(child)
                if cid in sizes:  # reached before: through an alias
                    self._count(sizes[cid], node)
                    frame[3] += sizes[cid]
                    continue
                if cid in active:
                    raise _Abort(
                        YamlProblem("recursive alias: a node contains an alias to itself", _mark_point(child.start_mark), "alias-bomb")
                    )
                if isinstance(child, (MappingNode, SequenceNode)):
                    active.add(cid)
                    stack.append([child, _children(child), 0, 0])
                    descended = True
                    break
                sizes[cid] = 1
                frame[3] += 1
            if descended:
                continue
            if isinstance(node, MappingNode):
                for key_node, _ in node.value:
                    if not isinstance(key_node, ScalarNode):
                        continue
                    frame[3] += 1
                    kid = id(key_node)
                    if kid in sizes:
                        self._count(1, node)
                    else:
                        sizes[kid] = 1
            stack.pop()
            active.discard(id(node))
            sizes[id(node)] = frame[3] + 1
            if stack:
                stack[-1][3] += frame[3] + 1


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [pair[1] for pair in node.value]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _construct(root: Node, json_mode: bool, max_aliases: int, problems: list[YamlProblem], aliases: bool) -> Any:
    """Plain data of one document's node graph (``aliases``: its text may hold one)."""
    if aliases and isinstance(root, (MappingNode, SequenceNode)):
        _AliasGuard(max_aliases).check(root)
    return _Constructor(json_mode, problems).construct_document(root)


# --------------------------------------------------------------------------
# parsing
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ParseError:
    message: str
    line: int  # 0-based, relative to the parsed text
    column: int
    kind: str = "syntax"


def _error_from_exception(exc: BaseException, source: str) -> _ParseError:
    if isinstance(exc, yaml.MarkedYAMLError):
        problem = exc.problem or exc.context or "unknown error"
        message = f"invalid YAML: {problem}"
        if exc.problem and exc.context:
            message += f" ({exc.context})"
        mark = exc.problem_mark or exc.context_mark
        if mark is not None:
            return _ParseError(message, mark.line, mark.column)
        return _ParseError(message, 0, 0)
    if isinstance(exc, yaml.reader.ReaderError):
        position = int(exc.position)
        if not issubclass(_Loader, yaml.reader.Reader):  # libyaml reports UTF-8 byte offsets
            prefix = source.encode("utf-8", "surrogatepass")[:position]
            position = len(prefix.decode("utf-8", "ignore"))
        line, column = _position_of(source, position)
        character = exc.character
        code = ord(character) if isinstance(character, str) and len(character) == 1 else character
        shown = f"#x{code:04x}" if isinstance(code, int) else repr(code)
        return _ParseError(f"invalid YAML: unacceptable character {shown}: {exc.reason}", line, column)
    if isinstance(exc, UnicodeError):
        start = getattr(exc, "start", 0)
        line, column = _position_of(source, start if isinstance(start, int) else 0)
        return _ParseError("invalid YAML: text is not valid Unicode (unpaired surrogate)", line, column)
    if isinstance(exc, RecursionError):
        return _ParseError("nesting too deep to parse (Python recursion limit reached)", 0, 0, "too-deep")
    return _ParseError(f"invalid YAML: {exc}", 0, 0)


def _compose(source: str) -> tuple[list[Node], _ParseError | None]:
    """Compose every document of ``source``; stop at the first error."""
    nodes: list[Node] = []
    loader = None
    try:
        loader = _Loader(source)
        while loader.check_node():
            nodes.append(loader.get_node())
    except Exception as exc:  # yaml errors, UnicodeEncodeError, RecursionError...
        return nodes, _error_from_exception(exc, source)
    finally:
        if loader is not None:
            try:
                loader.dispose()
            except Exception:  # pragma: no cover - defensive
                pass
    return nodes, None


_INDICATORS = ("[", "{", "-", ":", "?")


def _depth_bound(text: str, start: int, end: int) -> int:
    """A cheap upper bound of the collection nesting depth of text[start:end].

    Every collection libyaml opens starts at its own indicator character
    (``[``, ``{``, ``-``, ``?`` or the ``:`` after an implicit key), so the
    number of such characters bounds the depth.
    """
    return sum(text.count(ch, start, end) for ch in _INDICATORS)


_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _index_of(text: str, line: int, column: int) -> int:
    """Character index of a 0-based (line, column) mark, counting breaks like libyaml."""
    start = 0
    if line > 0:
        for number, match in enumerate(_BREAK.finditer(text), 1):
            if number == line:
                start = match.end()
                break
    return min(len(text), start + column)


def _is_nesting_limit(exc: BaseException) -> bool:
    """libyaml's own nesting limit (in the C binding of newer PyYAML releases, not the pure one)."""
    return isinstance(exc, yaml.MarkedYAMLError) and "nesting depth" in str(exc.problem or "")


def _depth_exceeded(source: str, limit: int) -> tuple[int, int] | None:
    """Exact check through the event stream (libyaml's parser is iterative).

    Returns the 0-based position of the collection that is one level too deep.
    A syntax error simply ends the scan: the composer stops at the same event.

    Some libyaml builds stop at a nesting limit of their own while scanning ahead, before the
    parser delivers a single event. The text before that point still holds every level up to
    that limit (which is above ``limit``), so it is scanned again on its own.
    """
    loader = None
    depth = 0
    try:
        loader = _Loader(source)
        while True:
            event = loader.get_event()
            if event is None:
                break
            cls = event.__class__
            if cls is MappingStartEvent or cls is SequenceStartEvent:
                depth += 1
                if depth > limit:
                    return event.start_mark.line, event.start_mark.column
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                depth -= 1
            elif cls is StreamEndEvent:
                break
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and _is_nesting_limit(exc):
            cut = _index_of(source, mark.line, mark.column)
            if 0 < cut < len(source):
                return _depth_exceeded(source[:cut], limit) or (mark.line, mark.column)
            return mark.line, mark.column
        return None
    finally:
        if loader is not None:
            try:
                loader.dispose()
            except Exception:  # pragma: no cover - defensive
                pass
    return None


def _chunk_starts(text: str) -> list[int]:
    """Offsets where chunks begin: 0 and every ``---`` separator line."""
    starts = [0]
    n = len(text)
    i = text.find("\n---")
    while i != -1:
        j = i + 4
        if j >= n or text[j] in " \t\r\n":
            starts.append(i + 1)
        i = text.find("\n---", j)
    return starts


def _shift_marks(root: Node, line_offset: int) -> None:
    """Move every mark of a node graph down by ``line_offset`` lines."""
    if line_offset == 0:
        return
    seen: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for attr in ("start_mark", "end_mark"):
            mark = getattr(node, attr)
            if mark is not None:
                setattr(node, attr, Mark(mark.name, mark.index, mark.line + line_offset, mark.column, mark.buffer, mark.pointer))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


# --------------------------------------------------------------------------
# documents
# --------------------------------------------------------------------------


def _emit(
    node: Node,
    source: str,
    index: int,
    json_mode: bool,
    max_aliases: int,
    documents: list[Document],
    problems: list[YamlProblem],
) -> None:
    if not isinstance(node, MappingNode):
        return  # empty documents, scalars and top-level lists are not manifests
    try:
        # Aliases (`*name`) can only occur inside the root node's text.
        aliases = source.find("*", node.start_mark.index, node.end_mark.index) != -1
        data = _construct(node, json_mode, max_aliases, problems, aliases)
    except _Abort as abort:
        problems.append(abort.problem)
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        pair = _find_pair(node, "items")
        items_node = pair[1] if pair is not None else None
        if isinstance(items_node, SequenceNode) and len(items_node.value) == len(items):
            for position, (item, item_node) in enumerate(zip(items, items_node.value)):
                if isinstance(item, dict) and isinstance(item_node, MappingNode):
                    documents.append(Document(index, item, item_node, _node_span(item_node), position))
            return
    documents.append(Document(index, data, node, _node_span(node)))


def _load(text: str, json_mode: bool, max_aliases: int, max_depth: int) -> LoadResult:
    if text.startswith("\ufeff"):
        text = text[1:]
    limit = max(1, min(max_depth, _HARD_DEPTH_LIMIT))
    max_aliases = max(0, max_aliases)
    documents: list[Document] = []
    problems: list[YamlProblem] = []

    # 1. Depth guard, before anything composes (the composer recurses).
    starts: list[int] | None = None
    too_deep: dict[int, tuple[int, int]] = {}  # chunk number -> 0-based position in chunk
    if _depth_bound(text, 0, len(text)) > limit:
        starts = _chunk_starts(text)
        for number, start in enumerate(starts):
            end = starts[number + 1] if number + 1 < len(starts) else len(text)
            if _depth_bound(text, start, end) > limit:
                where = _depth_exceeded(text[start:end], limit)
                if where is not None:
                    too_deep[number] = where

    # 2. Fast path: the whole stream at once.
    stream_error: _ParseError | None = None
    if not too_deep:
        nodes, stream_error = _compose(text)
        if stream_error is None:
            for index, node in enumerate(nodes):
                _emit(node, text, index, json_mode, max_aliases, documents, problems)
            return _result(documents, problems)

    # 3. Recovery: parse each `---` chunk on its own, shifting line numbers.
    if starts is None:
        starts = _chunk_starts(text)
    exotic = _has_exotic_breaks(text)
    line_offset = 0
    previous = 0
    index = 0
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(text)
        line_offset += _count_breaks(text, previous, start, exotic)
        previous = start
        if number in too_deep:
            line, column = too_deep[number]
            problems.append(
                YamlProblem(f"nesting deeper than {limit} levels", _point(line + line_offset, column), "too-deep")
            )
            index += 1
            continue
        chunk = text[start:end]
        nodes, error = _compose(chunk)
        for node in nodes:
            _shift_marks(node, line_offset)
            _emit(node, chunk, index, json_mode, max_aliases, documents, problems)
            index += 1
        if error is not None:
            problems.append(YamlProblem(error.message, _point(error.line + line_offset, error.column), error.kind))
            index += 1
    if stream_error is not None and not problems:
        problems.append(
            YamlProblem(stream_error.message, _point(stream_error.line, stream_error.column), stream_error.kind)
        )
    return _result(documents, problems)


def _result(documents: list[Document], problems: list[YamlProblem]) -> LoadResult:
    problems.sort(key=lambda p: (p.span.line, p.span.column))
    return LoadResult(tuple(documents), tuple(problems))


#: Inputs at least this long are parsed with the cyclic garbage collector
#: paused: holding a few hundred thousand freshly composed nodes otherwise
#: triggers repeated full collections that cost more than libyaml itself.
_GC_PAUSE_MIN_CHARS = 32_768


@contextmanager
def _gc_paused(active: bool) -> Iterator[None]:
    """Pause the cyclic GC (only if it was enabled) for the duration of a load."""
    paused = active and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def load_documents(
    text: str,
    *,
    json_mode: bool = False,
    max_aliases: int = 10_000,
    max_depth: int = 500,
) -> LoadResult:
    """Parse a YAML (or JSON, with ``json_mode``) manifest file.

    Returns every mapping document (items of ``kind: *List`` expanded) and
    the problems found.  Never raises.
    """
    try:
        if not isinstance(text, str):
            if isinstance(text, (bytes, bytearray)):
                text = bytes(text).decode("utf-8-sig", "replace")
            else:
                text = str(text)
        with _gc_paused(len(text) >= _GC_PAUSE_MIN_CHARS):
            return _load(text, json_mode, max_aliases, max_depth)
    except Exception as exc:  # last resort: the contract is "never raises"
        return LoadResult((), (YamlProblem(f"invalid YAML: {exc}", _point(0, 0), "syntax"),))


# --------------------------------------------------------------------------
# locating paths
# --------------------------------------------------------------------------

_INDEX_THRESHOLD = 8
_INDEX_ATTR = "_pitfall_key_index"


_KEYS = _Constructor(False, [])


def _key_of(node: ScalarNode) -> tuple[type, Any]:
    if node.tag == _STR_TAG:
        key = node.value
    else:
        construct = _Constructor.yaml_constructors.get(node.tag) or _Constructor.yaml_constructors[None]
        key = construct(_KEYS, node)
    return type(key), key


def _explicit_pair(mapping: MappingNode, element: Any) -> tuple[Node, Node] | None:
    """The last explicit (non-merge) pair of ``mapping`` whose key is ``element``."""
    pairs = mapping.value
    wanted = (type(element), element)
    if len(pairs) > _INDEX_THRESHOLD:
        index = getattr(mapping, _INDEX_ATTR, None)
        if index is None:
            index = {}
            for key_node, value_node in pairs:
                if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE_TAG:
                    try:
                        index[_key_of(key_node)] = (key_node, value_node)
                    except TypeError:  # pragma: no cover - scalars are hashable
                        pass
            try:
                setattr(mapping, _INDEX_ATTR, index)
            except Exception:  # pragma: no cover - node class without __dict__
                pass
        try:
            return index.get(wanted)
        except TypeError:
            return None
    for key_node, value_node in reversed(pairs):
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            continue
        if key_node.tag == _STR_TAG:
            if wanted[0] is str and key_node.value == element:
                return key_node, value_node
        elif _key_of(key_node) == wanted:
            return key_node, value_node
    return None


def _find_pair(mapping: MappingNode, element: Any) -> tuple[Node, Node] | None:
    """Look a key up in a mapping, following merge keys with PyYAML's precedence."""
    stack: list[MappingNode] = [mapping]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        pair = _explicit_pair(current, element)
        if pair is not None:
            return pair
        sources: list[MappingNode] = []
        # A later `<<` wins over an earlier one; in `<<: [*a, *b]`, *a wins.
        for key_node, value_node in reversed(current.value):
            if isinstance(key_node, ScalarNode) and key_node.tag == _MERGE_TAG:
                if isinstance(value_node, MappingNode):
                    sources.append(value_node)
                elif isinstance(value_node, SequenceNode):
                    sources.extend(item for item in value_node.value if isinstance(item, MappingNode))
        stack.extend(reversed(sources))
    return None


def _walk(doc: Document, path: Sequence[str | int]) -> tuple[Node, Node | None, bool]:
    """Follow ``path`` from the document root.

    Returns the deepest node reached, the key node through which it was
    reached (None for the root and for sequence items) and whether the whole
    path exists.
    """
    node: Node = doc.root
    via_key: Node | None = None
    for element in path:
        if isinstance(node, MappingNode):
            pair = _find_pair(node, element)
            if pair is None:
                return node, via_key, False
            via_key, node = pair
        elif isinstance(node, SequenceNode) and type(element) is int and 0 <= element < len(node.value):
            node = node.value[element]
            via_key = None
        else:
            return node, via_key, False
    return node, via_key, True


def locate(doc: Document, path: Sequence[str | int]) -> tuple[Region, bool]:
    """Region for a finding at ``path`` (keys and list indexes from the document root).

    * whole path exists, last element a key: the span of that key;
    * whole path exists otherwise (index, or empty path): the node's span;
    * path stops early: the deepest existing node, shown as the key it sits
      under, or (for the root or a list item) the first key of the mapping
      that lacks the next element.

    O(depth) (wide mappings are indexed on first use).
    """
    try:
        node, via_key, found = _walk(doc, path)
    except Exception:  # pragma: no cover - opaque/foreign root
        return doc.span, False
    if found:
        if via_key is not None:
            return _node_span(via_key), True
        return _node_span(node), True
    if via_key is not None:
        return _node_span(via_key), False
    if isinstance(node, MappingNode) and node.value:
        return _node_span(node.value[0][0]), False
    return _node_span(node), False


def key_span(doc: Document, path: Sequence[str | int]) -> Region | None:
    """Region of the key at the end of ``path``, or None if it does not exist."""
    try:
        _node, via_key, found = _walk(doc, path)
    except Exception:  # pragma: no cover
        return None
    if found and via_key is not None:
        return _node_span(via_key)
    return None


def value_span(doc: Document, path: Sequence[str | int]) -> Region | None:
    """Region of the value node at ``path``, or None if it does not exist."""
    try:
        node, _via_key, found = _walk(doc, path)
    except Exception:  # pragma: no cover
        return None
    return _node_span(node) if found else None


def has_template_syntax(text: str) -> bool:
    """True when the text contains template syntax (``{{``), as Helm templates do."""
    return "{{" in text


def node_span(doc: Document, path: Sequence[str | int]) -> Region | None:
    """Region of the whole node at ``path`` (its value, all lines of a mapping or a list item),
    or None if the path does not exist."""
    try:
        node, _via_key, found = _walk(doc, path)
    except Exception:  # pragma: no cover - opaque/foreign root
        return None
    return _node_span(node) if found else None
