"""Suppressions: a pass over findings after analysis, never inside rules.

One directive for every ``#``-comment language (Python, YAML, Helm templates)::

    # pitfall: ignore[TMO101] reason      trailing: this line; on its own line: the next line
    # pitfall: ignore                     every rule (on that line)
    # pitfall: file-ignore[PSA] reason    the whole file

plus ``per-file-ignores`` from the settings and, for Kubernetes objects, the annotation
``ignore-check.pitfall.dev/<ID>: "reason"`` (collected by the analyzer onto the finding).
A directive that silences nothing is reported as ``LNT003``.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .model import Edit, Finding, Fix, Region, Rule, Suppression

DIRECTIVE = re.compile(r"#\s*pitfall:\s*(?P<kind>file-ignore|ignore)\b(?:\[(?P<codes>[^\]]*)\])?[ \t]*(?P<reason>[^#\n]*)")
_YAML_COMMENT = re.compile(r"(?:^|[ \t])(#\s*pitfall:.*)$", re.M)


@dataclass(slots=True)
class Directive:
    kind: str  # "ignore" | "file-ignore"
    codes: tuple[str, ...]  # empty: every rule
    reason: str
    line: int  # where the comment is
    column: int
    end_column: int
    target: int  # the line it covers (0 for file-ignore)
    used: set[str]


def _code_matches(code: str, rule_id: str, rule_name: str | None = None) -> bool:
    return code == "ALL" or rule_id.startswith(code) or code == rule_name


def _comments(text: str, python: bool) -> Iterable[tuple[int, int, str, bool]]:
    """(line, column0, comment text, own_line) for every comment that may hold a directive."""
    if "pitfall:" not in text:
        return
    lines = text.splitlines()
    if python:
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type == tokenize.COMMENT and "pitfall:" in tok.string:
                    line, col = tok.start
                    own = lines[line - 1][:col].strip() == ""
                    yield line, col, tok.string, own
            return
        except (tokenize.TokenError, IndentationError, SyntaxError):
            pass  # fall back to the line scan below
    for i, raw in enumerate(lines, 1):
        m = _YAML_COMMENT.search(raw)
        if m:
            col = m.start(1)
            yield i, col, m.group(1), raw[:col].strip() == ""


def directives(text: str, *, python: bool) -> list[Directive]:
    lines = text.splitlines()
    out = []
    for line, col, comment, own in _comments(text, python):
        m = DIRECTIVE.search(comment)
        if not m:
            continue
        codes = tuple(c.strip() for c in (m.group("codes") or "").split(",") if c.strip())
        kind = m.group("kind")
        target = 0
        if kind == "ignore":
            target = line
            if own:
                target = line + 1
                while target <= len(lines) and (not lines[target - 1].strip() or lines[target - 1].lstrip().startswith("#")):
                    target += 1
        out.append(Directive(kind, codes, m.group("reason").strip(), line, col + 1 + m.start(), col + 1 + m.end(), target, set()))
    return out


def _per_file(path: str, patterns: Sequence[tuple[str, tuple[str, ...]]]) -> list[tuple[str, tuple[str, ...]]]:
    hits = []
    name = path.rsplit("/", 1)[-1]
    for glob, codes in patterns:
        if fnmatch.fnmatchcase(path, glob) or fnmatch.fnmatchcase(name, glob) or fnmatch.fnmatchcase(path, glob.rstrip("/") + "/*"):
            hits.append((glob, codes))
    return hits


def apply(
    findings: Sequence[Finding],
    *,
    path: str,
    text: str | None,
    python: bool,
    per_file_ignores: Sequence[tuple[str, tuple[str, ...]]],
    rules: dict[str, Rule],
    annotations: dict[int, tuple[tuple[str, str], ...]] | None = None,
    all_ids: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Mark suppressed findings and add LNT003 for directives that matched nothing.

    ``annotations`` maps a finding's index to the ``(code, reason)`` pairs of the
    Kubernetes object (and pod template) it is about.
    """
    dirs = directives(text, python=python) if text else []
    file_dirs = [d for d in dirs if d.kind == "file-ignore"]
    by_line: dict[int, list[Directive]] = {}
    for d in dirs:
        if d.kind == "ignore":
            by_line.setdefault(d.target, []).append(d)
    pfi = _per_file(path, per_file_ignores)
    out: list[Finding] = []
    for index, f in enumerate(findings):
        if f.rule_id in ("LNT001",):
            out.append(f)
            continue
        rule = rules.get(f.rule_id)
        name = rule.name if rule else None
        sup = None
        for code, reason in (annotations or {}).get(index, ()):
            if _code_matches(code, f.rule_id, name):
                sup = Suppression("inSource", reason, "annotation")
                break
        if sup is None:
            # the line's own directives first, then the file's
            for d in (*by_line.get(f.region.line, ()), *file_dirs):
                hit = [c for c in d.codes if _code_matches(c, f.rule_id, name)] if d.codes else ["*"]
                if hit:
                    d.used.update(hit)
                    sup = Suppression("inSource", d.reason, "comment")
                    break
        if sup is None:
            for glob, codes in pfi:
                if any(_code_matches(c, f.rule_id, name) for c in codes):
                    sup = Suppression("external", f"per-file-ignores: {glob}", "per-file-ignores")
                    break
        out.append(replace(f, suppression=sup) if sup else f)
    unused_rule = rules.get("LNT003")
    if unused_rule is not None:
        selected = {r.id for r in rules.values()} | {r.name for r in rules.values()}
        for d in dirs:
            codes = d.codes or ("*",)
            unused = [c for c in codes if c not in d.used]
            # a code for a rule that is loaded but not selected could not have fired: not "unused"
            unused = [c for c in unused if c == "*" or c in selected or any(k.startswith(c) for k in selected) or not any(k.startswith(c) for k in all_ids)]
            if not unused:
                continue
            what = "ignore" if d.kind == "ignore" else "file-ignore"
            label = f"{what}[{', '.join(unused)}]" if d.codes else what
            region = Region(d.line, d.column, d.line, d.end_column)
            fix = _removal(text or "", d) if len(unused) == len(codes) else None
            out.append(
                Finding(
                    "LNT003",
                    path,
                    region,
                    unused_rule.message.format(directive=label),
                    unused_rule.severity,
                    fix=fix,
                    fingerprint=f"{label}",
                )
            )
    return out


_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as Python and the fixer break them


def _removal(text: str, d: Directive) -> Fix | None:
    """A safe fix that deletes a directive that silences nothing (its whole line when alone).

    Positions are those of the fixer (:mod:`linter.fixes`): lines broken at ``\\r\\n``, ``\\r`` and
    ``\\n``. The fix is offered only when the directive is found there, where ``d`` says it is.
    """
    lines = _PHYSICAL.findall(text)
    if not 0 < d.line <= len(lines):
        return None
    line = lines[d.line - 1]
    content = line.rstrip("\r\n")
    found = DIRECTIVE.match(content, d.column - 1) if 0 < d.column <= len(content) else None
    if found is None or found.end() != d.end_column - 1:
        return None  # the directive is not where the comment scan put it (odd line breaks): no fix
    before = content[: d.column - 1]
    after = content[d.end_column - 1 :]
    if not before.strip():
        if content != line:  # the directive is the whole line: remove it with its line break
            edit = Edit(Region(d.line, 1, d.line + 1, 1), "")
        else:  # the last line, without a line break
            edit = Edit(Region(d.line, 1, d.line, len(content) + 1), "")
    elif after.strip():  # something follows the directive: keep it
        edit = Edit(Region(d.line, d.column, d.line, d.end_column), "")
    else:
        edit = Edit(Region(d.line, len(before.rstrip()) + 1, d.line, len(content) + 1), "")
    return Fix("Remove the unused suppression", "safe", (edit,))
