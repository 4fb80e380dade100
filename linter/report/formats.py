"""Reporters: text, json, github and sarif. Pure functions of the results."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from linter import __version__
from linter.report.docs import DOCS_BASE, help_markdown, help_text, rule_url
from linter.core.model import Finding, Notification, Pack, Rule

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
_PRECISION = {"high": "high", "medium": "medium", "low": "low"}


def visible(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.suppression is None]


def escape(value: str) -> str:
    """``value`` safe for a terminal or a CI log: what is not printable as it is (newlines, escape
    sequences, bidirectional controls, bytes of a file name that are not UTF-8, which Python holds
    as lone surrogates) becomes a visible escape such as ``\\n``, ``\\x1b`` or ``\\xff``."""
    if value.isprintable():
        return value
    out = []
    for ch in value:
        if ch.isprintable():
            out.append(ch)
        elif "\udc80" <= ch <= "\udcff":  # a byte of a name that is not UTF-8 (surrogateescape)
            out.append(f"\\x{ord(ch) - 0xDC00:02x}")
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def _unicode(value: str) -> str:
    """``value`` without lone surrogates (the undecodable bytes of a file name), which are not
    Unicode: strict JSON readers refuse them. Everything else is kept."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(escape(ch) if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def _pos(value: int) -> int:
    """Lines and columns are 1-based in every output (SARIF requires it)."""
    return max(1, value)


# --------------------------------------------------------------------------- text


def use_colour(stream: object, environ: Mapping[str, str] | None = None) -> bool:
    """Colour for ``stream``: never when ``NO_COLOR`` is set to anything (no-color.org), always when
    ``FORCE_COLOR`` is, else only on a terminal that is not ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty()) and env.get("TERM") != "dumb"
    except (OSError, ValueError):
        return False


_SGR = {"bold": "1", "dim": "2", "red": "31", "yellow": "33", "blue": "34", "cyan": "36", "bold-red": "1;31"}
_SEVERITY_STYLE = {"error": "bold-red", "warning": "yellow", "note": "blue"}


def _paint(text: str, style: str, colour: bool) -> str:
    return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if colour and text else text


def _safe_fix(f: Finding) -> bool:
    return f.fix is not None and f.fix.applicability == "safe"


def statistics_rows(findings: Sequence[Finding], rules: dict[str, Rule]) -> list[dict[str, object]]:
    """Per rule among the visible findings: code, name, severity, count and whether a safe fix
    exists, most frequent first (the ``--statistics`` table and the JSON ``statistics`` key)."""
    shown = visible(findings)
    counts = Counter(f.rule_id for f in shown)
    fixable = {f.rule_id for f in shown if _safe_fix(f)}
    severity = {f.rule_id: f.severity for f in shown}
    return [
        {"code": rid, "name": rules[rid].name if rid in rules else None, "severity": severity[rid], "count": n, "fixable": rid in fixable}
        for rid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _statistics_lines(findings: Sequence[Finding], rules: dict[str, Rule], colour: bool = False) -> list[str]:
    rows = statistics_rows(findings, rules)
    width = max((len(str(r["count"])) for r in rows), default=1)
    lines = []
    for row in rows:
        mark = "[*] " if row["fixable"] else "    "
        code = _paint(escape(str(row["code"])), _SEVERITY_STYLE.get(str(row["severity"]), "bold"), colour)
        lines.append(f"{row['count']:>{width}}\t{code}\t{mark}{escape(str(row['name'] or ''))}")
    return lines


def unreported(notifications: Sequence[Notification], findings: Sequence[Finding]) -> list[Notification]:
    """The notifications no finding already says: a file that does not parse or render is an
    ``LNT001``/``LNT002`` finding *and* a notification of the run; it is reported once."""
    said = {f.message for f in findings}
    said_rule = {(f.path, f.rule_id) for f in findings}
    return [n for n in notifications if n.message not in said and not (n.rule_id and (n.path, n.rule_id) in said_rule)]


def _finding_line(f: Finding, colour: bool, width: int | None = None) -> list[str]:
    """The finding's line; on a terminal of ``width`` columns a long message continues on
    indented lines (the terminal's own wrapping would start them at column 1)."""
    import textwrap

    where = f"{escape(f.path)}:{_pos(f.region.line)}:{_pos(f.region.column)}:"
    sev = f.severity if f.severity in _SEVERITY_STYLE else "warning"
    mark = " [*]" if _safe_fix(f) else ""
    plain_head = f"{where} {escape(f.rule_id)}{mark} {sev}:"
    head = (
        f"{_paint(where, 'bold', colour)} {_paint(escape(f.rule_id), _SEVERITY_STYLE[sev], colour)}{_paint(mark, 'cyan', colour)} "
        f"{_paint(sev + ':', _SEVERITY_STYLE[sev], colour)}"
    )
    message = escape(f.message)
    if not width or width < 40 or len(plain_head) + 1 + len(message) <= width:
        return [f"{head} {message}"]
    placeholder = "\0" * (len(plain_head) + 1)
    chunks = textwrap.wrap(message, width=width, initial_indent=placeholder, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)
    if not chunks:
        return [f"{head} {message}"]
    first = chunks[0][len(placeholder):]
    return [f"{head} {first}".rstrip(), *chunks[1:]]


def _snippet(f: Finding, source: str | None, colour: bool, context: int = 2) -> list[str]:
    """The source lines around ``f`` with line numbers and a caret underline (ruff's ``full``)."""
    if source is None:
        return []
    src_lines = source.splitlines()
    first, last = _pos(f.region.line), max(_pos(f.region.line), _pos(f.region.end_line))
    if first > len(src_lines):
        return []
    last = min(last, len(src_lines))
    lo, hi = max(1, first - context), min(len(src_lines), last + context)
    gutter = len(str(hi))
    out = [f"{' ' * gutter} {_paint('|', 'blue', colour)}"]
    for no in range(lo, hi + 1):
        raw = src_lines[no - 1]
        text = escape(raw.replace("\t", "    "))
        out.append(f"{_paint(str(no).rjust(gutter), 'blue', colour)} {_paint('|', 'blue', colour)} {text}".rstrip())
        if first <= no <= last:
            start = _pos(f.region.column) if no == first else 1
            end = f.region.end_column if no == last else len(raw) + 1
            start = min(start, len(raw) + 1)
            end = max(start + 1, min(end, len(raw) + 1))
            prefix = escape(raw[: start - 1].replace("\t", "    "))
            marked = escape(raw[start - 1 : end - 1].replace("\t", "    "))
            carets = "^" * max(1, len(marked))
            sev = f.severity if f.severity in _SEVERITY_STYLE else "warning"
            label = f" {escape(f.rule_id)}" if no == last else ""
            out.append(f"{' ' * gutter} {_paint('|', 'blue', colour)} {' ' * len(prefix)}{_paint(carets + label, _SEVERITY_STYLE[sev], colour)}")
    out.append(f"{' ' * gutter} {_paint('|', 'blue', colour)}")
    return out


def text_report(
    findings: Sequence[Finding],
    notifications: Sequence[Notification],
    *,
    statistics: bool,
    rules: dict[str, Rule],
    fixed: int = 0,
    colour: bool = False,
    width: int | None = None,
    full: bool = False,
    source: Callable[[str], str | None] | None = None,
) -> str:
    """One line a finding, ``path:line:col: RULE [*] severity: message`` (``path:line:col:`` first
    for editors); with ``full`` the source lines around it and a caret underline below; with
    ``statistics`` the per-rule table instead. ``colour`` adds ANSI colours; ``width`` (a
    terminal's) wraps long lines with an indent. No summary claims "No problems found" when an
    error notification (a path that does not exist) says the run was incomplete."""
    shown = visible(findings)
    lines: list[str] = []
    if statistics:
        lines.extend(_statistics_lines(findings, rules, colour))
    else:
        for f in shown:
            lines.extend(_finding_line(f, colour, width))
            if full:
                lines.extend(_snippet(f, source(f.path) if source else None, colour))
                lines.append("")
        if full and lines and lines[-1] == "":
            lines.pop()
    suppressed = len(findings) - len(shown)
    incomplete = any(n.level == "error" for n in notifications)
    if shown:
        head = f"Found {len(shown)} problem{'s' if len(shown) != 1 else ''}"
    elif incomplete:
        head = ""
    else:
        head = "No problems found"
    extra = []
    if suppressed:
        extra.append(f"{suppressed} suppressed")
    if fixed:
        extra.append(f"{fixed} fixed")
    summary = (head + (f" ({', '.join(extra)})" if extra else "") + ".") if head else ""
    safe = sum(1 for f in shown if _safe_fix(f))
    unsafe = sum(1 for f in shown if f.fix is not None and f.fix.applicability != "safe")
    if safe:
        summary += f"\n[*] {safe} fixable with the `--fix` option."
    if unsafe:
        summary += f"\n({unsafe} hidden fix{'es' if unsafe != 1 else ''} can be enabled with the `--unsafe-fixes` option.)"
    summary = summary.lstrip("\n")
    if not summary:
        return "\n".join(lines) + "\n" if lines else ""
    if lines:
        lines.append("")
    lines.append(summary)
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- json


def _finding_dict(f: Finding, rules: dict[str, Rule]) -> dict[str, object]:
    rule = rules.get(f.rule_id)
    out: dict[str, object] = {
        "code": f.rule_id,
        "name": rule.name if rule else None,
        "severity": f.severity,
        "message": f.message,
        "filename": f.path,
        "location": {"row": _pos(f.region.line), "column": _pos(f.region.column)},
        "end_location": {"row": _pos(f.region.end_line), "column": _pos(f.region.end_column)},
        "url": rule_url(f.rule_id),
        "fix": None,
        "suppression": None,
    }
    if f.fix:
        out["fix"] = {
            "applicability": f.fix.applicability,
            "message": f.fix.title,
            "edits": [
                {
                    "content": e.text,
                    "location": {"row": e.region.line, "column": e.region.column},
                    "end_location": {"row": e.region.end_line, "column": e.region.end_column},
                }
                for e in f.fix.edits
            ],
        }
    if f.suppression:
        out["suppression"] = {"kind": f.suppression.kind, "justification": f.suppression.justification, "origin": f.suppression.origin}
    if f.logical:
        out["object"] = {"kind": f.logical.kind, "namespace": f.logical.namespace, "name": f.logical.name}
    if f.related:
        out["related"] = [
            {"filename": r.path, "row": r.region.line if r.region else None, "message": r.message} for r in f.related
        ]
    return out


def json_report(findings: Sequence[Finding], notifications: Sequence[Notification], rules: dict[str, Rule], *, statistics: bool = False) -> str:
    """With ``statistics`` a ``statistics`` key: per rule ``code``, ``name``, ``severity``,
    ``count``, ``fixable`` (the text table's rows); the findings are listed all the same."""
    doc: dict[str, object] = {
        "tool": {"name": "pitfall", "version": __version__},
        "findings": [_finding_dict(f, rules) for f in findings],
        "notifications": [{"level": n.level, "message": n.message, "filename": n.path, "code": n.rule_id} for n in notifications],
    }
    if statistics:
        doc["statistics"] = statistics_rows(findings, rules)
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------- github


def _gh_escape(value: str, prop: bool = False) -> str:
    value = escape(value)  # a raw escape sequence or newline in the log is the scanned repository's to write
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github_report(findings: Sequence[Finding], notifications: Sequence[Notification], *, statistics: bool = False, rules: dict[str, Rule] | None = None) -> str:
    """One workflow command (annotation) a finding, then one a notification no finding already
    says. With ``statistics`` the per-rule table follows in a collapsed log group
    (``::group::``), which makes no annotation."""
    level = {"error": "error", "warning": "warning", "note": "notice"}
    lines = []
    for f in visible(findings):
        r = f.region
        props = (
            f"file={_gh_escape(f.path, True)},line={_pos(r.line)},col={_pos(r.column)},endLine={_pos(r.end_line)},"
            f"endColumn={_pos(r.end_column)},title={_gh_escape(f.rule_id, True)}"
        )
        lines.append(f"::{level.get(f.severity, 'warning')} {props}::{_gh_escape(f.rule_id + ' ' + f.message)}")
    for n in unreported(notifications, findings):
        props = f" file={_gh_escape(n.path, True)}" if n.path else ""
        lines.append(f"::{level.get(n.level, 'warning')}{props}::{_gh_escape(n.message)}")
    if statistics:
        lines.append("::group::pitfall statistics")
        lines.extend(_statistics_lines(findings, rules or {}))
        lines.append(f"{len(visible(findings))} problem(s)")
        lines.append("::endgroup::")
    return "\n".join(lines) + ("\n" if lines else "")


# --------------------------------------------------------------------------- sarif


def _uri(path: str) -> str:
    """A relative URI reference for a display path: every byte of the name but ``/`` and the
    unreserved characters percent-encoded, the bytes of a name that is not UTF-8 as they are on disk."""
    try:
        raw = path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogatepass")
    return quote(raw, safe="/")


def _region(r: object) -> dict[str, int]:
    from linter.core.model import Region

    assert isinstance(r, Region)
    return {"startLine": _pos(r.line), "startColumn": _pos(r.column), "endLine": _pos(r.end_line), "endColumn": _pos(r.end_column)}


def _sarif_rule(rule: Rule) -> dict[str, object]:
    props: dict[str, object] = {"tags": list(rule.tags), "precision": _PRECISION.get(rule.confidence, "high")}
    if rule.security_severity is not None:
        props["security-severity"] = f"{rule.security_severity:.1f}"
    props["pack"] = rule.pack
    if rule.status != "stable":
        props["status"] = rule.status
    if rule.opt_in:
        props["opt-in"] = True
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": _full_description(rule.rationale)},
        "help": {"text": help_text(rule), "markdown": help_markdown(rule)},
        "helpUri": rule_url(rule.id),
        "defaultConfiguration": {"level": rule.severity},
        "properties": props,
    }


_FULL_DESCRIPTION_MAX = 1024  # GitHub code scanning truncates (and warns about) anything longer


def _full_description(text: str) -> str:
    """``text`` within GitHub's 1,024 characters: cut at a sentence or word boundary with an
    ellipsis (the whole text stays in ``help``)."""
    text = text.strip()
    if len(text) <= _FULL_DESCRIPTION_MAX:
        return text
    cut = text[: _FULL_DESCRIPTION_MAX - 1]
    end = cut.rfind(". ")
    if end >= _FULL_DESCRIPTION_MAX // 2:
        return cut[: end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip() + "\u2026"


# GitHub's upload action (github/codeql-action, src/fingerprints.ts) computes
# partialFingerprints.primaryLocationLineHash the same way: a rolling hash (base 37, 64-bit) over
# the next 100 characters of the file from the start of the line, spaces and tabs skipped, line
# breaks normalized to "\n", UTF-16 code units, then ":<n>" for the n-th line with that hash.
_HASH_BLOCK = 100
_HASH_MOD = 37
_HASH_MASK = (1 << 64) - 1
_HASH_FIRST_MOD = pow(_HASH_MOD, _HASH_BLOCK, 1 << 64)
_HASH_EOF = 65535


def line_hashes(text: str) -> dict[int, str]:
    """``{line (1-based): "<hex>:<occurrence>"}`` for every line of ``text``, exactly as the
    upload action computes them."""
    units = text.encode("utf-16-le", "surrogatepass")
    codes = [units[i] | (units[i + 1] << 8) for i in range(0, len(units), 2)]
    window = [0] * _HASH_BLOCK
    line_numbers = [-1] * _HASH_BLOCK
    state = {"hash": 0, "index": 0}
    counts: Counter[str] = Counter()
    out: dict[int, str] = {}

    def output() -> None:
        index = state["index"]
        value = format(state["hash"], "x")
        counts[value] += 1
        out[line_numbers[index]] = f"{value}:{counts[value]}"
        line_numbers[index] = -1

    def update(current: int) -> None:
        index = state["index"]
        begin = window[index]
        window[index] = current
        state["hash"] = (_HASH_MOD * state["hash"] + current - _HASH_FIRST_MOD * begin) & _HASH_MASK
        state["index"] = (index + 1) % _HASH_BLOCK

    line_number = 0
    line_start = True
    prev_cr = False
    for current in (*codes, _HASH_EOF):
        if current in (0x20, 0x09) or (prev_cr and current == 0x0A):
            prev_cr = False
            continue
        if current == 0x0D:
            current = 0x0A
            prev_cr = True
        else:
            prev_cr = False
        if line_numbers[state["index"]] != -1:
            output()
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[state["index"]] = line_number
        if current == 0x0A:
            line_start = True
        update(current)
    for _ in range(_HASH_BLOCK):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return out


def _file_line_hashes(root: Path, path: str, max_size: int) -> dict[int, str] | None:
    """The line hashes of the file at ``path`` (relative to ``root``) as it is on disk, read the
    way pitfall reads what it lints; None when it cannot be read (a packaged chart's member, a
    file gone since): the upload action then computes nothing either."""
    from linter.core.discover import Unreadable, read_file

    try:
        data = read_file(str(root / path), max_size)
    except (Unreadable, OSError, ValueError):
        return None
    # the upload action reads the file as UTF-8 (Node: invalid bytes become U+FFFD, a BOM is kept)
    return line_hashes(data.decode("utf-8", "replace"))


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """Stable under unrelated edits: rule + path + anchor (+ occurrence), never the line."""
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for f in findings:
        key = (f.rule_id, f.path, f.fingerprint or f.message)
        seen[key] += 1
        material = "\x1f".join((*key, str(seen[key])))
        out.append(hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32])
    return out


_REMOTE_SECTION = re.compile(r'^\s*\[\s*remote\s+"origin"\s*\]', re.I)
_SECTION = re.compile(r"^\s*\[")
_URL_KEY = re.compile(r"^\s*url\s*=\s*(.*?)\s*$", re.I)
_URI_PATH_SAFE = "/%:@!$&'()*+,;=~"
_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?(?P<host>[^/:]+):(?P<path>[^/].*)$")


def _repository_uri(root: Path) -> str | None:
    """The repository a run's commit belongs to, for ``versionControlProvenance``: the URL of the
    ``origin`` remote read from the Git configuration (user name and password left out; the
    ``host:path`` form as ``ssh://host/path``), else the ``file:`` URI of the repository's folder.
    Git is not run (its configuration can run commands). None outside a repository."""
    from linter.report.attest import git_dirs

    found = git_dirs(root.resolve())
    if found is None:
        return None
    folder, _, common = found
    try:
        config = (common / "config").read_text(encoding="utf-8", errors="replace") if (common / "config").is_file() else ""
    except OSError:
        return None
    url = None
    in_origin = False
    for line in config.splitlines():
        if _SECTION.match(line):
            in_origin = bool(_REMOTE_SECTION.match(line))
        elif in_origin and (m := _URL_KEY.match(line)):
            url = m.group(1).strip('"')
            break
    return _remote_uri(url) or folder.as_uri()


def _remote_uri(url: str | None) -> str | None:
    """``url`` as an absolute URI without credentials; None when it is not one."""
    if not url:
        return None
    parts = urlsplit(url)
    if not parts.scheme or len(parts.scheme) == 1:  # `host:path` (scp-like), or a local path such as C:\\
        m = _SCP_LIKE.match(url)
        if m is None or len(parts.scheme) == 1 or url.startswith(("/", ".")):
            return None
        return f"ssh://{m.group('host')}/{quote(m.group('path'), safe=_URI_PATH_SAFE)}"
    if not parts.hostname:
        return None if parts.scheme != "file" else url
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    return urlunsplit((parts.scheme, host + port, quote(parts.path, safe=_URI_PATH_SAFE), "", ""))


def sarif_report(
    findings: Sequence[Finding],
    notifications: Sequence[Notification],
    *,
    rules: Sequence[Rule],
    packs: Sequence[Pack],
    root: Path,
    max_file_size: int = 1024 * 1024,
    attestation: dict[str, object] | None = None,
    fixes_applied: dict[str, int] | None = None,
) -> str:
    """``attestation``: the run's :func:`linter.report.attest.attestation` document, carried as
    ``properties["pitfall/packs"]``; ``fixes_applied``: ``{rule id: count}`` of a ``--fix`` run."""
    rule_list = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rule_list)}
    results = []
    hashes: dict[str, dict[int, str] | None] = {}
    for f, fp in zip(findings, fingerprints(findings)):
        loc: dict[str, object] = {
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                "region": _region(f.region),
            }
        }
        if f.logical is not None:
            fq = "/".join(x for x in (f.logical.namespace, f.logical.kind, f.logical.name) if x)
            loc["logicalLocations"] = [
                {
                    "name": f.logical.name or f.logical.kind,
                    "fullyQualifiedName": fq,
                    "kind": "resource",
                    "properties": {"kind": f.logical.kind, "namespace": f.logical.namespace or ""},
                }
            ]
        result: dict[str, object] = {
            "ruleId": f.rule_id,
            "level": f.severity,
            "message": {"text": _unicode(f.message)},
            "locations": [loc],
            "partialFingerprints": {"pitfall/v1": fp},
        }
        if f.path not in hashes:
            hashes[f.path] = _file_line_hashes(root, f.path, max_file_size)
        line_hash = (hashes[f.path] or {}).get(_pos(f.region.line))
        if line_hash is not None:
            result["partialFingerprints"] = {"primaryLocationLineHash": line_hash, "pitfall/v1": fp}
        props: dict[str, object] = {}
        if f.rule_id in index:
            result["ruleIndex"] = index[f.rule_id]
        if f.related:
            related: list[dict[str, object]] = []
            elsewhere: list[dict[str, object]] = []
            for r in f.related:
                # GitHub rejects a related location without a region, and one naming a file that is
                # not in the repository (a rendered manifest, a packaged chart's member) shows nothing
                if r.region is not None and (root / r.path).is_file():
                    phys = {"artifactLocation": {"uri": _uri(r.path), "uriBaseId": "%SRCROOT%"}, "region": _region(r.region)}
                    related.append({"id": len(related), "physicalLocation": phys, "message": {"text": _unicode(r.message)}})
                else:
                    item: dict[str, object] = {"path": _unicode(r.path), "message": _unicode(r.message)}
                    if r.region is not None:
                        item["region"] = _region(r.region)
                    elsewhere.append(item)
            if related:
                result["relatedLocations"] = related
            if elsewhere:
                props["pitfall/related"] = elsewhere
        if f.suppression is not None:
            result["suppressions"] = [{"kind": f.suppression.kind, "status": "accepted", "justification": f.suppression.justification}]
        if f.fix is not None:
            result["fixes"] = [
                {
                    "description": {"text": f.fix.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": _uri(f.fix.path or f.path), "uriBaseId": "%SRCROOT%"},
                            "replacements": [
                                {"deletedRegion": _region(e.region), "insertedContent": {"text": e.text}} for e in f.fix.edits
                            ],
                        }
                    ],
                }
            ]
            props["fixApplicability"] = f.fix.applicability
        for name, value in f.properties:
            props[name] = value
        if props:
            result["properties"] = props
        results.append(result)
    notes = []
    for n in notifications:
        note: dict[str, object] = {"level": n.level, "message": {"text": _unicode(n.message)}}
        if n.path:
            note["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _uri(n.path), "uriBaseId": "%SRCROOT%"}}}]
        if n.rule_id:
            note["descriptor"] = {"id": n.rule_id}
        notes.append(note)
    root_uri = root.resolve().as_uri().rstrip("/") + "/"
    run = {
        "tool": {
            "driver": {
                "name": "pitfall",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": DOCS_BASE,
                "rules": [_sarif_rule(r) for r in rule_list],
            },
            "extensions": [
                {"name": p.name, "version": p.version, "semanticVersion": p.version, "fullDescription": {"text": p.description}}
                for p in sorted(packs, key=lambda p: p.name)
            ],
        },
        "invocations": [
            {
                "executionSuccessful": not any(n.level == "error" and n.rule_id is None for n in notifications),
                "toolExecutionNotifications": notes,
            }
        ],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root_uri}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"packs": {p.name: p.version for p in sorted(packs, key=lambda p: p.name)}},
    }
    run_props: dict[str, object] = run["properties"]  # type: ignore[assignment]
    if attestation is not None:
        commit = attestation.get("commit")
        repository = _repository_uri(root) if commit else None
        if commit and repository:
            provenance: dict[str, object] = {"repositoryUri": repository, "revisionId": commit}
            from linter.report.attest import git_commit_time

            committed = git_commit_time(root.resolve(), str(commit))
            if committed is not None:  # the commit's own time: the same on every run of it
                provenance["asOfTimeUtc"] = committed
            run["versionControlProvenance"] = [provenance]
        run_props["pitfall/packs"] = attestation["packs"]
        run_props["pitfall/fail-on"] = attestation["fail-on"]
        run_props["pitfall/passed"] = attestation["passed"]
    if fixes_applied is not None:
        run_props["pitfall/fixes-applied"] = dict(sorted(fixes_applied.items()))
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
