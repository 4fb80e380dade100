"""Incremental parsing for the language server: an edit re-parses only the statements it touched.

libcst's parse is most of a lint's time on a large module, and an editor sends the whole text
after every keystroke. ``ParseMemo`` keeps, per document, the libcst module of its last parse
and the text each top-level statement owns (its leading blank lines and comments, its code, the
trailing comments its indented block owns: ``Module.code_for_node``). The next version is
compared with the last one: the statements the changed text falls in are parsed again as a
module of their own and put between the unchanged statements, which are reused as they are
(libcst nodes are immutable).

The result must be the module libcst's full parse would build (``deep_equals``), and the
conditions below make it so; anything else is parsed in full:

- the change lies between the module's header and footer (those are not re-cut);
- the re-parsed text has no lines of its own after its last statement, and the blank lines and
  comments before its first statement and before the statement after it are not indented as
  deep as a block above them (libcst gives an indented block the trailing lines up to the last
  one indented at least as deep as its body);
- its detected indentation, line break and encoding are the module's: libcst stores a block's
  indentation and a line break only where they differ from the module's, detected at the first
  of each in the file; so when the re-parsed text holds no indented block, the module's first
  block must lie before it.

``PITFALL_NO_FAST_PATHS`` turns it off (every version is parsed in full), and the tests compare
both on edits of real modules.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

from linter.python import tree

#: documents remembered per process (the language server's open documents), and the most text
#: they may hold together (a libcst module takes hundreds of bytes per character of its text)
DOCUMENTS = 8
CHARACTERS = 1_000_000


@dataclass(frozen=True)
class _Parsed:
    text: str
    module: cst.Module
    # offsets in ``text`` where each top-level statement's text starts, and (last) where the
    # last one ends: the module's header is text[:starts[0]], its footer text[starts[-1]:]
    starts: tuple[int, ...]
    first_block: int  # index of the first statement holding an indented block; len(body) if none


class ParseMemo:
    """The last parse of each document, by key (its path): at most ``size`` documents, and the
    oldest are forgotten while they hold more than ``characters`` of text (the newest is kept)."""

    def __init__(self, size: int = DOCUMENTS, characters: int = CHARACTERS) -> None:
        self.size = size
        self.characters = characters
        self._documents: OrderedDict[str, _Parsed] = OrderedDict()
        self.reused = 0  # parses served by re-parsing part of the last version (tests and benchmarks read it)

    def parse(self, key: str, text: str, parse: Callable[[str], cst.Module]) -> cst.Module:
        """``parse(text)``'s module, re-using the unchanged statements of ``key``'s last parse."""
        last = self._documents.pop(key, None)
        parsed = _reparse(last, text, parse) if last is not None else None
        if parsed is None:
            parsed = _cut(text, parse(text))
        else:
            self.reused += 1
        self._documents[key] = parsed
        held = sum(len(d.text) for d in self._documents.values())
        while len(self._documents) > self.size or (len(self._documents) > 1 and held > self.characters):
            _, dropped = self._documents.popitem(last=False)
            held -= len(dropped.text)
        return parsed.module


def _length(module: cst.Module, nodes: Sequence[cst.CSTNode]) -> int:
    """How much text ``nodes`` of ``module`` print."""
    return sum(len(module.code_for_node(node)) for node in nodes)


def _first_block(body: Sequence[cst.BaseStatement], start: int = 0) -> int:
    """The index of the first statement from ``start`` on that holds an indented block, else ``len(body)``."""
    return next((k for k in range(start, len(body)) if _has_block(body[k])), len(body))


def _cut(text: str, module: cst.Module) -> _Parsed:
    starts = [_length(module, module.header)]
    for stmt in module.body:
        starts.append(starts[-1] + _length(module, (stmt,)))
    return _Parsed(text, module, tuple(starts), _first_block(module.body))


_BLOCK_HOLDERS = (cst.BaseCompoundStatement, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally, cst.MatchCase)


def _has_block(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.IndentedBlock):
        return True
    if isinstance(node, _BLOCK_HOLDERS):
        return any(_has_block(child) for child in tree.children(node))
    return False


def _longest(limit: int, equal: Callable[[int], bool]) -> int:
    """The largest ``n <= limit`` with ``equal(n)``, ``equal`` holding up to some length and not
    beyond: found by halves (each comparison of two slices is one memcmp)."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if equal(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _outer_indents(node: cst.CSTNode, default: str) -> list[str]:
    """The indentation of the outermost indented blocks of a statement (of its body, its
    ``else``, its handlers...), not of the blocks nested in those."""
    if isinstance(node, cst.IndentedBlock):
        return [node.indent if node.indent is not None else default]
    if isinstance(node, _BLOCK_HOLDERS):
        return [indent for child in tree.children(node) for indent in _outer_indents(child, default)]
    return []


def _not_owned_above(text: str, lines: int, indents: Sequence[str]) -> bool:
    """Whether none of the first ``lines`` lines of ``text`` (blank lines and comments) belongs to
    the blocks above, of indentation ``indents``: each is empty, starts at column 0, or is
    indented less than every one of those blocks."""
    at = 0
    for _ in range(lines):
        if at >= len(text):
            return True
        end = text.find("\n", at)
        end = len(text) if end < 0 else end + 1
        line = text[at:end]
        white = line[: len(line) - len(line.lstrip(" \t\f"))]
        if white and not (indents and all(len(white) < len(indent) and indent.startswith(white) for indent in indents)):
            return False
        at = end
    return True


def _reparse(last: _Parsed, text: str, parse: Callable[[str], cst.Module]) -> _Parsed | None:
    old, module, starts = last.text, last.module, last.starts
    if text == old:
        return last
    body = module.body
    n = len(body)
    if n == 0:
        return None
    shorter = min(len(old), len(text))
    prefix = _longest(shorter, lambda k: old[:k] == text[:k])
    suffix = _longest(shorter - prefix, lambda k: old[len(old) - k :] == text[len(text) - k :])
    lo, hi = prefix, len(old) - suffix  # the changed part of the old text: old[lo:hi]
    if lo < starts[0] or hi > starts[-1] or (lo == starts[-1] and starts[-1] < len(old)):
        return None  # in the header or the footer
    i = min(bisect.bisect_right(starts, lo) - 1, n - 1)  # the statement the change starts in
    j = max(i, min(bisect.bisect_right(starts, hi - 1) - 1, n - 1))  # ... and ends in
    start, end = starts[i], starts[j + 1]
    piece = text[start : len(text) - (len(old) - end)]
    if not piece.endswith(("\n", "\r")):
        return None
    try:
        part = parse(piece)
    except Exception:  # the full parse reports it
        return None
    if not part.body or part.footer or not part.has_trailing_newline:
        return None
    if (part.default_newline, part.encoding) != (module.default_newline, module.encoding):
        return None
    if any(_has_block(stmt) for stmt in part.body):
        if part.default_indent != module.default_indent:
            return None
    elif i <= last.first_block <= j and last.first_block < n:
        return None  # the module's first block is gone: its indentation is detected further on
    indent = module.default_indent
    if i > 0 and not _not_owned_above(piece, len(part.header), _outer_indents(body[i - 1], indent)):
        return None
    after = len(body[j + 1].leading_lines) if j + 1 < n else len(module.footer)
    if not _not_owned_above(old[end:], after, _outer_indents(part.body[-1], part.default_indent)):
        return None
    new = list(part.body)
    header = module.header
    if i == 0:
        header = (*module.header, *part.header)  # before the first statement: the module's header
    elif part.header:
        new[0] = new[0].with_changes(leading_lines=(*part.header, *new[0].leading_lines))
    result = module.with_changes(header=header, body=(*body[:i], *new, *body[j + 1 :]))
    offsets = list(starts[: i + 1])
    if i == 0:
        offsets[0] = starts[0] + _length(part, part.header)
    at = offsets[-1]
    for stmt in new:
        at += _length(result, (stmt,))
        offsets.append(at)
    shift = at - end
    offsets.extend(s + shift for s in starts[j + 2 :])
    first = last.first_block if last.first_block < i else _first_block(result.body, i)
    return _Parsed(text, result, tuple(offsets), first)
