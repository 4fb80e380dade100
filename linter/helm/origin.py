"""Where each rendered line of a chart comes from: origin markers written into the templates
before rendering and taken out of the output again.

Searching the rendered keys in the template text cannot tell two containers of one list
apart, nor an untaken ``if``/``else`` branch from the taken one. Instead, before rendering,
the end of each template line that writes YAML gets a marker ``' #pf<nonce>.<file>.<line>;'``
(a YAML comment, so output that keeps one still parses). Helm copies the marker into the
output wherever that line's text goes: inside a loop, once per iteration; from a named
template, into the including document. :func:`strip` removes every marker (exactly the text
that was added, so the output is the chart's own) and records, for each output line, the first
marker on it: the template line that wrote the line's first text.

Which lines get a marker: a line that ends outside any action, whose last action does not trim
the newline (``-}}``), and that writes YAML: a mapping key or list item of literal text, or
(outside ``define``) an action that outputs (``toYaml``, ``include``, a value), or (inside) one
that writes indented lines (``| nindent 8``). Lines of named templates that only output a value
(a name, a ``true``) are left alone: their output is
compared, truncated and hashed by the templates that call them. Lines without a marker in the
output (the lines ``toYaml`` writes) belong to the next marker below them, the line that
emitted them.
"""

from __future__ import annotations

import bisect
import functools
import re
import secrets

from linter.helm.model import Origin

_CONTROL = frozenset({"if", "else", "end", "range", "with", "define", "block", "break", "continue"})
_OPENS = frozenset({"if", "range", "with", "define", "block"})
_KEY_LINE = re.compile(r"""^[ \t]*(?:-[ \t]+)*(?:"[^"]*"|'[^']*'|[^\s#'"{}\[\],:][^#{}\[\],:]*?)[ \t]*:(?:[ \t]|$)""")
_ITEM_LINE = re.compile(r"^[ \t]*-(?:[ \t]|$)")
_KEY_OR_ITEM = re.compile(_KEY_LINE.pattern + "|" + _ITEM_LINE.pattern)
_ASSIGN = re.compile(r"^\$[\w]*\s*:?=")


_ACTION = re.compile(r"\{\{(?:[^}]|\}(?!\}))*\}\}")
_RAND = re.compile(r"\brand(AlphaNum|Alpha|Numeric|Ascii)[ \t]+(\d+|\$[\w.]*|\.[\w.]+|\([^(){}]*\))")
_UUID = re.compile(r"\buuidv4\b")


def determinize(text: str) -> str:
    """``text`` (a template) with Sprig's random strings made fixed, so a chart that names an
    object ``{{ randAlphaNum 5 }}`` renders the same on every run (the findings, their messages
    and fingerprints stay stable): ``randAlphaNum N`` (and ``randAlpha``, ``randAscii``)
    writes ``N`` times ``x``, ``randNumeric N`` ``N`` times ``1``, ``uuidv4`` a fixed UUID. Only
    the action text changes; a form it does not know (``5 | randAlpha``) stays random."""
    if "rand" not in text and "uuidv4" not in text:
        return text

    def action(m: re.Match[str]) -> str:
        inner = _RAND.sub(lambda r: f'repeat {r.group(2)} "{"1" if r.group(1) == "Numeric" else "x"}"', m.group())
        return _UUID.sub('(print "00000000-0000-4000-8000-000000000000")', inner)

    return _ACTION.sub(action, text)


_NONCE = secrets.token_hex(4)


def new_nonce() -> str:
    """The marker nonce: one per process, so that a template's instrumented text can be reused
    across renders (value sets, hint checks); a chart cannot guess it."""
    return _NONCE


@functools.lru_cache(maxsize=2048)
def instrument_cached(text: str, file: int, nonce: str) -> str:
    return instrument(text, file, nonce)


def _action_kind(body: str) -> str:
    """"comment", "control" (opens: "open"), "assign" or "output" for the text of one action."""
    text = body.strip()
    if text.startswith("/*"):
        return "comment"
    word = re.match(r"[A-Za-z_]\w*", text)
    if word and word.group(0) in _CONTROL:
        return "open" if word.group(0) in _OPENS else "control"
    if _ASSIGN.match(text):
        return "assign"
    return "output"


_OUTSIDE = re.compile(r"\{\{|\n")
_INSIDE = re.compile(r"\}\}|[\"'`\n]")
_IN_STRING = {'"': re.compile(r'\\.|"|\n', re.S), "'": re.compile(r"\\.|'|\n", re.S), "`": re.compile(r"`|\n")}
_BLANK = " \t\r"
_BLOCK_OUTPUT = re.compile(r"\|\s*n?indent\b")


def instrument(text: str, file: int, nonce: str) -> str:
    """``text`` (a template) with an origin marker on each line that writes YAML: at the end of
    the line (and, outside named templates, also before a key), or, when its last action trims
    the newline (``-}}``), before the line's first literal text (never before a ``{{-``, which
    would trim the marker's space away)."""
    inserts: list[int] = []
    n = len(text)
    i = 0
    line_start = 0
    stack: list[str] = []  # opened control words; "define" / "block" hold named templates
    literal: list[str] = []  # this line's text outside actions ("\x00" for an action's output)
    outputs = False  # this line has an action that writes
    trims_newline = False  # the line's last action ends with "-}}" (only blanks after it)
    first_literal: int | None = None  # offset of the line's first literal text, before any action
    seen_action = False
    spans_lines = False  # an action or string of this line started on an earlier line
    blocks = False  # an action of this line writes indented lines (`| nindent 8`): YAML, not a value
    while i < n:
        m = _OUTSIDE.search(text, i)
        end = m.start() if m else n
        if end > i:
            segment = text[i:end]
            stripped = segment.lstrip(_BLANK)
            if stripped:
                trims_newline = False
                if first_literal is None and not seen_action:
                    first_literal = end - len(stripped)
            literal.append(segment)
        if m is None:
            break
        if m.group() == "\n":
            line = text[line_start:end]
            in_define = bool({"define", "block"} & set(stack))
            joined = "".join(literal).replace("\r", "")
            if not spans_lines and _writes_yaml(joined, outputs, in_define and not blocks, line):
                if first_literal is not None and not in_define and _KEY_OR_ITEM.match(joined) and not trims_newline:
                    # also before the key: its value may start on the next output line
                    # (`key: {{- toYaml . | nindent 4 }}`); not in a named template, whose
                    # output other templates parse (a leading comment would hide the key)
                    inserts.append(first_literal)
                if not trims_newline:
                    # before the line's trailing blanks: a "{{-" on the next line trims them
                    stop = end
                    while stop > line_start and text[stop - 1] in _BLANK:
                        stop -= 1
                    inserts.append(stop)
                elif first_literal is not None:
                    inserts.append(first_literal)
            i = line_start = end + 1
            literal = []
            outputs = False
            trims_newline = False
            first_literal = None
            seen_action = False
            spans_lines = False
            blocks = False
            continue
        # an action: find its end, skipping strings
        seen_action = True
        start = end + 2
        j = start
        closed = False
        while j < n:
            t = _INSIDE.search(text, j)
            if t is None:
                j = n
                break
            tok = t.group()
            if tok == "}}":
                j = t.end()
                closed = True
                break
            if tok == "\n":
                spans_lines = True
                j = t.end()
                continue
            # a string: to its closing quote (a newline ends an unclosed "..." or '...')
            rx = _IN_STRING[tok]
            k = t.end()
            while True:
                q = rx.search(text, k)
                if q is None:
                    k = n
                    break
                if q.group() == "\n":
                    spans_lines = True
                    if tok != "`":
                        k = q.end()
                        break
                    k = q.end()
                    continue
                k = q.end()
                if len(q.group()) == 1:
                    break
            j = k
        if not closed:
            break
        body = text[start : j - 2]
        trim_right = body.endswith((" -", "\t-", "\n-", "\r-"))
        inner = body[1:] if body.startswith("-") else body
        if trim_right:
            inner = inner[:-1]
        kind = _action_kind(inner)
        word = re.match(r"\s*([A-Za-z_]\w*)", inner)
        if kind == "open":
            stack.append(word.group(1) if word else "")
        elif kind == "control" and word and word.group(1) == "end" and stack:
            stack.pop()
        elif kind == "output":
            outputs = True
            blocks = blocks or bool(_BLOCK_OUTPUT.search(inner))
            literal.append("\x00")
        trims_newline = trim_right
        if "\n" in body:
            # the action ran over lines: this line's text so far belongs to an earlier line
            line_start = text.rindex("\n", start, j) + 1
            literal = []
            first_literal = None
        i = j
    out: list[str] = []
    copied = 0
    newlines = [m.start() for m in re.finditer("\n", text)]
    for at in sorted(set(inserts)):
        out.append(text[copied:at])
        out.append(f" #pf{nonce}.{file}.{bisect.bisect_left(newlines, at) + 1};")
        copied = at
    out.append(text[copied:])
    return "".join(out)


def _writes_yaml(literal: str, outputs: bool, in_define: bool, line: str) -> bool:
    if not line.strip():
        return False
    stripped = literal.strip()
    if stripped.startswith("#") or stripped.startswith("---") or stripped == "...":
        return False
    if _KEY_LINE.match(literal) or _ITEM_LINE.match(literal):
        return True
    return outputs and not in_define


def marker_pattern(nonce: str) -> re.Pattern[str]:
    # the space may be gone: a ``-}}`` on the line before trims it with the newline
    return re.compile(rf" ?#pf{re.escape(nonce)}\.(\d+)\.(\d+);")


def strip(output: str, nonce: str) -> tuple[str, list[tuple[Origin, ...] | None]]:
    """(``output`` without markers, the markers of each of its lines in order: the first is the
    template line that wrote the line's first text, a later one from another file the line that
    included it)."""
    rx = marker_pattern(nonce)
    if f"#pf{nonce}." not in output:
        return output, [None] * (output.count("\n") + 1)
    lines = output.split("\n")
    clean: list[str] = []
    found: list[tuple[Origin, ...] | None] = []
    for line in lines:
        marks = rx.findall(line)
        if not marks:
            clean.append(line)
            found.append(None)
            continue
        found.append(tuple(Origin(int(f), int(n)) for f, n in marks))
        clean.append(rx.sub("", line))
    return "\n".join(clean), found
