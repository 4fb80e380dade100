"""Apply fix edits: by applicability, atomically, or as a unified diff."""

from __future__ import annotations

import difflib
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from .model import Edit, Finding, Fix


def _offsets(text: str) -> list[int]:
    starts = [0]
    for i, ch in enumerate(text):
        if ch == "\n":
            starts.append(i + 1)
    return starts


def apply_fixes(text: str, fixes: Iterable[Fix]) -> str:
    """Apply every edit; an edit that overlaps one already applied is left out (next run)."""
    starts = _offsets(text)

    def offset(line: int, column: int) -> int:
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + column - 1, len(text))

    spans: list[tuple[int, int, Edit]] = []
    for fix in fixes:
        for edit in fix.edits:
            r = edit.region
            spans.append((offset(r.line, r.column), offset(r.end_line, r.end_column), edit))
    spans.sort(key=lambda s: (s[0], s[1]))
    out: list[str] = []
    pos = 0
    for start, end, edit in spans:
        if start < pos:
            continue  # overlaps the previous edit
        out.append(text[pos:start])
        out.append(edit.text)
        pos = max(end, start)
    out.append(text[pos:])
    return "".join(out)


def fixable(findings: Sequence[Finding], *, unsafe: bool) -> list[Finding]:
    return [
        f
        for f in findings
        if f.fix is not None and f.suppression is None and (f.fix.applicability == "safe" or unsafe)
    ]


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename over the original."""
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".pitfall-tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}")
    )
