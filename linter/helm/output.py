"""Rendered output split into documents exactly as Helm splits it.

Output
======

Like ``helm template``: NOTES.txt, partials (``_*``) and templates that
render blank are left out, hooks and test pods are kept, files under
``crds/`` are not included (no ``--include-crds``).  Templates are named as
Helm names them, so an aliased subchart's appear under
``charts/<alias>/...``.  Documents are in template-path order, then in-file
order (not Helm's kind order).  Rendered YAML is not parsed here; that is
the Kubernetes analyzer's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from linter.helm.model import Origin, RenderedDoc

# releaseutil.SplitManifests (Helm v4): regexp `(?:^|\s*\n)---\s*` where Go's
# \s is [\t\n\f\r ]; the stream and each document are left-trimmed of
# unicode.IsSpace; empty pieces are dropped.
_SEP_RE = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SOURCE_RE = re.compile(r"^#[ \t]*Source:[ \t]*(\S.*?)[ \t\r]*$")


def _split_manifests(text: str) -> list[tuple[int, str]]:
    """(offset in ``text``, document) pairs, as Helm's SplitManifests splits."""
    trimmed = text.lstrip(_GO_SPACE)
    base = len(text) - len(trimmed)
    out: list[tuple[int, str]] = []
    pos = 0
    pieces: list[tuple[int, str]] = []
    for m in _SEP_RE.finditer(trimmed):
        pieces.append((pos, trimmed[pos : m.start()]))
        pos = m.end()
    pieces.append((pos, trimmed[pos:]))
    for start, piece in pieces:
        if piece == "":
            continue
        doc = piece.lstrip(_GO_SPACE)
        out.append((base + start + len(piece) - len(doc), doc))
    return out


def line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _strip_chart_segment(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def _doc_origins(origins: Sequence[tuple[Origin, ...] | None] | None, start_line: int, text: str) -> tuple[tuple[Origin, ...] | None, ...]:
    if not origins:
        return ()
    first = start_line - 1
    return tuple(origins[first : first + text.count("\n") + 1])


def split_rendered(stream: str, origins: Sequence[tuple[Origin, ...] | None] | None = None) -> list[RenderedDoc]:
    """Split a ``helm template``-style stream into documents as Helm does.

    A document starts after a line beginning with ``---`` (also ``---# c``
    or ``--- ``; the rest of that line belongs to the next document, as in
    Helm).  A ``# Source: <chart>/<path>`` comment in a document's leading
    comment block names its template (leading chart segment stripped); a
    document without one continues the template of the previous document
    (Helm's debug output prints whole files under one Source line), or ""
    before any.  A leading Source line is removed from ``text`` and
    ``start_line`` then points at the line after it.  ``start_line`` is
    1-based within ``stream``; ``index`` counts documents per template.
    """
    docs: list[RenderedDoc] = []
    counts: dict[str, int] = {}
    current = ""
    for offset, doc in _split_manifests(stream):
        start_line = line_at(stream, offset)
        text = doc
        lines = doc.split("\n")
        for i, line in enumerate(lines):
            if not line.startswith("#"):
                break
            m = _SOURCE_RE.match(line)
            if m:
                current = _strip_chart_segment(m.group(1))
                if i == 0:
                    text = "\n".join(lines[1:])
                    start_line += 1
                break
        if not text.strip(_GO_SPACE):
            continue
        index = counts.get(current, 0)
        counts[current] = index + 1
        docs.append(RenderedDoc(template=current, text=text, start_line=start_line, index=index, origins=_doc_origins(origins, start_line, text)))
    return docs


def docs_from_manifests(manifests: dict[str, str], nonce: str | None = None) -> list[RenderedDoc]:
    """Documents from helm_python's {template name: output} mapping, the way
    ``helm template`` selects them (no NOTES.txt, no partials, no blank files); ``nonce``: the
    output holds origin markers, which are taken out into each document's ``origins``."""
    docs: list[RenderedDoc] = []
    for name in sorted(manifests):
        out = manifests[name]
        base = name.rsplit("/", 1)[-1]
        if name.endswith("NOTES.txt") or base.startswith("_"):
            continue
        origins: list[tuple[Origin, ...] | None] | None = None
        if nonce is not None:
            from linter.helm import origin as helmorigin

            out, origins = helmorigin.strip(out, nonce)
        if not out.strip():
            continue
        template = _strip_chart_segment(name)
        index = 0
        for offset, doc in _split_manifests(out):
            if not doc.strip(_GO_SPACE):
                continue
            start = line_at(out, offset)
            docs.append(RenderedDoc(template=template, text=doc, start_line=start, index=index, origins=_doc_origins(origins, start, doc)))
            index += 1
    return docs
