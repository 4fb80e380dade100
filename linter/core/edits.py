"""Text edits of fixes: where a fix's regions are in a text, and the text after its edits.

A fix's regions are 1-based (line, column) in code points of the file's text as the analyzers
see it: decoded, without a UTF-8 BOM, lines broken at ``\\r\\n``, ``\\r`` and ``\\n`` (Python's
physical lines, and the language server protocol's). :class:`Lines` maps them to offsets in that
same text; every line break is kept. Writing the result is :mod:`linter.core.fixes`' job.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from linter.core.model import Fix

BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(r"\r\n|\r|\n")


class Lines:
    """Line starts and ends of a text, with its own line breaks (``\\r\\n``, ``\\r``, ``\\n``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []
        self.breaks: list[str] = []
        for m in _BREAK.finditer(text):
            self.ends.append(m.start())
            self.breaks.append(m.group())
            self.starts.append(m.end())
        self.ends.append(len(text))
        self.breaks.append("")

    def offset(self, line: int, column: int) -> int | None:
        """The offset of a 1-based (line, column); None when it is not in the text (a column may
        be one past the line's last character, never on or past its line break)."""
        if not 1 <= line <= len(self.starts) or column < 1:
            return None
        off = self.starts[line - 1] + column - 1
        return off if off <= self.ends[line - 1] else None

    def newline(self, line: int) -> str:
        """The line break of ``line``, else the text's first one, else ``\\n``."""
        if 1 <= line <= len(self.breaks) and self.breaks[line - 1]:
            return self.breaks[line - 1]
        return next((b for b in self.breaks if b), "\n")


def string_spans(text: str) -> list[tuple[int, int]] | None:
    """(start, end) offsets of the string literals (f-strings whole) of Python ``text``; None
    when the text cannot be tokenized."""
    lines = Lines(text)
    # tokenize breaks lines at "\n" only: hand it the same lines joined with "\n" (columns and
    # line numbers stay those of the text)
    joined = "\n".join(text[s:e] for s, e in zip(lines.starts, lines.ends))
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    spans: list[tuple[int, int]] = []
    opened: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(joined).readline):
            start = lines.starts[tok.start[0] - 1] + tok.start[1] if tok.start[0] <= len(lines.starts) else len(text)
            end = lines.starts[tok.end[0] - 1] + tok.end[1] if tok.end[0] <= len(lines.starts) else len(text)
            if tok.type == tokenize.STRING and not opened:
                spans.append((start, end))
            elif fstring_start is not None and tok.type == fstring_start:
                opened.append(start)
            elif fstring_end is not None and tok.type == fstring_end and opened:
                first = opened.pop()
                if not opened:
                    spans.append((first, end))
    except (tokenize.TokenError, SyntaxError, ValueError):  # IndentationError is a SyntaxError
        return None
    return spans


def _inside(spans: Sequence[tuple[int, int]], offset: int) -> bool:
    """True when ``offset`` lies strictly inside one of the (sorted) spans."""
    lo, hi = 0, len(spans)
    while lo < hi:  # the last span starting before offset
        mid = (lo + hi) // 2
        if spans[mid][0] < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo > 0 and offset < spans[lo - 1][1]


@dataclass
class Applied:
    """The text after the fixes, the fixes applied, and the fixes refused with the reason."""

    text: str
    applied: list[Fix] = field(default_factory=list)
    refused: list[tuple[Fix, str]] = field(default_factory=list)


def edit_text(text: str, fixes: Iterable[Fix], *, python: bool = False) -> Applied:
    """Apply whole fixes to ``text`` (decoded, without BOM). A fix whose edits are not all in the
    text, or (``python``) that edits inside a string literal, is refused; one that overlaps a fix
    already taken is left for the next run. Line breaks in an edit's text follow the file's."""
    fixes = list(fixes)
    lines = Lines(text)
    strings: list[tuple[int, int]] | None = []
    if python and fixes:
        strings = string_spans(text)
    result = Applied(text)
    planned: list[tuple[int, Fix, list[tuple[int, int, str]]]] = []
    for order, fix in enumerate(fixes):
        if strings is None:
            result.refused.append((fix, "the file cannot be tokenized"))
            continue
        spans: list[tuple[int, int, str]] = []
        why = None
        for edit in fix.edits:
            r = edit.region
            start, end = lines.offset(r.line, r.column), lines.offset(r.end_line, r.end_column)
            if start is None or end is None or end < start:
                why = f"its position ({r.line}:{r.column}-{r.end_line}:{r.end_column}) is not in the file"
                break
            if _inside(strings, start) or _inside(strings, end):
                why = "it would edit inside a string literal"
                break
            new = edit.text
            eol = lines.newline(r.line)
            if eol != "\n" and "\n" in new:
                new = re.sub(r"\r\n|\r|\n", eol, new)
            spans.append((start, end, new))
        if why is not None:
            result.refused.append((fix, why))
            continue
        if spans:
            spans.sort(key=lambda s: (s[0], s[1]))
            planned.append((order, fix, spans))
    planned.sort(key=lambda p: (p[2][0][0], p[2][0][1], p[0]))
    taken: list[tuple[int, int, str]] = []

    def clashes(span: tuple[int, int, str]) -> bool:
        a, b, _ = span
        for c, d, _ in taken:
            if a < d and c < b:  # overlapping replacements
                return True
            if (a == b and c < a < d) or (c == d and a < c < b):  # an insertion inside a replacement
                return True
        return False

    for _, fix, spans in planned:
        fresh = [s for s in spans if s not in taken]  # the same edit from two rules: applied once
        if any(clashes(s) for s in fresh):
            continue  # overlaps an edit already taken: the next run applies it
        taken.extend(fresh)
        result.applied.append(fix)
    taken.sort(key=lambda s: (s[0], s[1]))
    out: list[str] = []
    pos = 0
    for start, end, new in taken:
        out.append(text[pos:start])
        out.append(new)
        pos = max(end, pos)
    out.append(text[pos:])
    result.text = "".join(out)
    return result


def apply_fixes(text: str, fixes: Iterable[Fix], *, python: bool = False) -> str:
    """``text`` with every fix applied that can be (see :func:`edit_text`)."""
    return edit_text(text, fixes, python=python).text
