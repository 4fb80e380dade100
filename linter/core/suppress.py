"""Suppressions: a pass over findings after analysis, never inside rules.

One directive for every ``#``-comment language (Python, YAML, Helm templates)::

    # pitfall: ignore[TMO101] reason      trailing: this line; on its own line: the next line
    # pitfall: ignore                     every rule (on that line)
    # pitfall: file-ignore[PSA] reason    the whole file

plus ``per-file-ignores`` from the settings and, for Kubernetes objects, the annotation
``ignore-check.pitfall.dev/<ID>: "reason"`` (collected by the analyzer onto the finding).
A directive or an annotation that silences nothing is reported as ``LNT003``.
"""

from __future__ import annotations

import fnmatch
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from linter.core.model import ANNOTATION_PREFIX, Edit, Finding, Fix, Region, Rule, Suppression

DIRECTIVE = re.compile(r"#\s*pitfall:\s*(?P<kind>file-ignore|ignore)\b(?:\[(?P<codes>[^\]]*)\])?[ \t]*(?P<reason>[^#\n]*)")
_YAML_COMMENT = re.compile(r"(?:^|[ \t])(#\s*pitfall:.*)$", re.M)
# a mapping key `ignore-check.pitfall.dev/<ID>:` (plain or quoted, YAML or JSON)
_ANNOTATION_KEY = re.compile(
    r"""(?:^|(?<=[\s{,]))(?P<q>["']?)(?P<key>"""
    + re.escape(ANNOTATION_PREFIX)
    + r"""(?P<code>[^\s"':,{}\[\]]+))(?P=q)[ \t]*:(?=[\s"'{\[]|$)""",
    re.M,
)
_ANNOTATION_FILES = (".yaml", ".yml", ".json")


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


def annotation_keys(text: str) -> list[tuple[int, int, int, str]]:
    """(line, column, end column, code) of every ``ignore-check.pitfall.dev/<ID>`` key in a
    manifest's text (not in comments)."""
    if ANNOTATION_PREFIX not in text:
        return []
    out = []
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    for m in _ANNOTATION_KEY.finditer(text):
        pos = m.start("key")
        line = _line_of(starts, pos)
        before = text[starts[line - 1] : m.start()]
        if "#" in before:
            continue  # in a comment
        col = pos - starts[line - 1] + 1
        out.append((line, col, col + len(m.group("key")), m.group("code")))
    return out


def _line_of(starts: list[int], pos: int) -> int:
    import bisect

    return bisect.bisect_right(starts, pos)


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
    Kubernetes object (and pod template) it is about; a pair with a ``line`` attribute (the line of
    its key, :class:`linter.kubernetes.analyzer.AnnotationIgnore`) is matched to that key. In a YAML or JSON
    file, an annotation key no finding used is reported as ``LNT003`` like a comment directive
    (one without a line, as from a rendered chart, counts as used by its code anywhere in the file).
    """
    dirs = directives(text, python=python) if text else []
    file_dirs = [d for d in dirs if d.kind == "file-ignore"]
    by_line: dict[int, list[Directive]] = {}
    for d in dirs:
        if d.kind == "ignore":
            by_line.setdefault(d.target, []).append(d)
    pfi = _per_file(path, per_file_ignores)
    used_keys: set[tuple[str, int]] = set()  # (code, line of its key)
    used_codes: set[str] = set()  # codes of annotations whose line is unknown
    out: list[Finding] = []
    for index, f in enumerate(findings):
        if f.rule_id in ("LNT001",):
            out.append(f)
            continue
        rule = rules.get(f.rule_id)
        name = rule.name if rule else None
        sup = None
        for entry in (annotations or {}).get(index, ()):
            code, reason = entry[0], entry[1]
            if _code_matches(code, f.rule_id, name):
                sup = Suppression("inSource", reason, "annotation")
                line = getattr(entry, "line", 0)
                if line:
                    used_keys.add((code, line))
                else:
                    used_codes.add(code)
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

        def could_fire(c: str) -> bool:
            # a code for a rule that is loaded but not selected could not have fired: not "unused"
            return c == "*" or c in selected or any(k.startswith(c) for k in selected) or not any(k.startswith(c) for k in all_ids)

        for d in dirs:
            codes = d.codes or ("*",)
            unused = [c for c in codes if c not in d.used]
            unused = [c for c in unused if could_fire(c)]
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
        # a file that did not load has no objects whose annotations could have been used
        loaded = not any(f.rule_id == "LNT001" for f in findings)
        if text and not python and loaded and path.lower().endswith(_ANNOTATION_FILES):
            from linter.kubernetes.yamlfix import annotation_removal

            for line, col, end, code in annotation_keys(text):
                if (code, line) in used_keys or code in used_codes or not could_fire(code):
                    continue
                label = f"{ANNOTATION_PREFIX}{code}"
                out.append(
                    Finding(
                        "LNT003",
                        path,
                        Region(line, col, line, end),
                        unused_rule.message.format(directive=label),
                        unused_rule.severity,
                        fix=annotation_removal(text, path, line, label),
                        fingerprint=label,
                    )
                )
    return out


_PHYSICAL = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")  # lines as Python and the fixer break them


def _removal(text: str, d: Directive) -> Fix | None:
    """A safe fix that deletes a directive that silences nothing (its whole line when alone).

    Positions are those of the fixer (:mod:`linter.core.fixes`): lines broken at ``\\r\\n``, ``\\r`` and
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
