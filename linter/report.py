"""Reporters: text, json, github and sarif. Pure functions of the results."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .docs import DOCS_BASE, help_markdown, help_text, rule_url
from .model import Finding, Notification, Pack, Rule

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


def text_report(findings: Sequence[Finding], notifications: Sequence[Notification], *, statistics: bool, rules: dict[str, Rule], fixed: int = 0) -> str:
    shown = visible(findings)
    lines: list[str] = []
    if statistics:
        counts = Counter(f.rule_id for f in shown)
        fixable = {f.rule_id for f in shown if f.fix is not None and f.fix.applicability == "safe"}
        width = max((len(str(c)) for c in counts.values()), default=1)
        for rid, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            name = rules[rid].name if rid in rules else ""
            mark = "[*] " if rid in fixable else "    "
            lines.append(f"{count:>{width}}\t{escape(rid)}\t{mark}{escape(name)}")
    else:
        for f in shown:
            mark = " [*]" if f.fix is not None and f.fix.applicability == "safe" else ""
            lines.append(f"{escape(f.path)}:{_pos(f.region.line)}:{_pos(f.region.column)}: {escape(f.rule_id)}{mark} {escape(f.message)}")
    suppressed = len(findings) - len(shown)
    tail = []
    if shown:
        tail.append(f"Found {len(shown)} problem{'s' if len(shown) != 1 else ''}")
    else:
        tail.append("No problems found")
    extra = []
    if suppressed:
        extra.append(f"{suppressed} suppressed")
    if fixed:
        extra.append(f"{fixed} fixed")
    summary = tail[0] + (f" ({', '.join(extra)})" if extra else "") + "."
    safe = sum(1 for f in shown if f.fix is not None and f.fix.applicability == "safe")
    unsafe = sum(1 for f in shown if f.fix is not None and f.fix.applicability != "safe")
    if safe:
        summary += f"\n[*] {safe} fixable with the `--fix` option."
    if unsafe:
        summary += f"\n({unsafe} hidden fix{'es' if unsafe != 1 else ''} can be enabled with the `--unsafe-fixes` option.)"
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


def json_report(findings: Sequence[Finding], notifications: Sequence[Notification], rules: dict[str, Rule]) -> str:
    doc = {
        "tool": {"name": "pitfall", "version": __version__},
        "findings": [_finding_dict(f, rules) for f in findings],
        "notifications": [{"level": n.level, "message": n.message, "filename": n.path, "code": n.rule_id} for n in notifications],
    }
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------- github


def _gh_escape(value: str, prop: bool = False) -> str:
    value = escape(value)  # a raw escape sequence or newline in the log is the scanned repository's to write
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        value = value.replace(":", "%3A").replace(",", "%2C")
    return value


def github_report(findings: Sequence[Finding], notifications: Sequence[Notification]) -> str:
    level = {"error": "error", "warning": "warning", "note": "notice"}
    lines = []
    for f in visible(findings):
        r = f.region
        props = (
            f"file={_gh_escape(f.path, True)},line={_pos(r.line)},col={_pos(r.column)},endLine={_pos(r.end_line)},"
            f"endColumn={_pos(r.end_column)},title={_gh_escape(f.rule_id, True)}"
        )
        lines.append(f"::{level.get(f.severity, 'warning')} {props}::{_gh_escape(f.rule_id + ' ' + f.message)}")
    for n in notifications:
        props = f" file={_gh_escape(n.path, True)}" if n.path else ""
        lines.append(f"::{level.get(n.level, 'warning')}{props}::{_gh_escape(n.message)}")
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
    from .model import Region

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
        "fullDescription": {"text": rule.rationale},
        "help": {"text": help_text(rule), "markdown": help_markdown(rule)},
        "helpUri": rule_url(rule.id),
        "defaultConfiguration": {"level": rule.severity},
        "properties": props,
    }


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


def sarif_report(
    findings: Sequence[Finding],
    notifications: Sequence[Notification],
    *,
    rules: Sequence[Rule],
    packs: Sequence[Pack],
    root: Path,
) -> str:
    rule_list = sorted(rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rule_list)}
    results = []
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
        if f.rule_id in index:
            result["ruleIndex"] = index[f.rule_id]
        if f.related:
            related = []
            for i, r in enumerate(f.related):
                phys: dict[str, object] = {"artifactLocation": {"uri": _uri(r.path), "uriBaseId": "%SRCROOT%"}}
                if r.region is not None:
                    phys["region"] = _region(r.region)
                related.append({"id": i, "physicalLocation": phys, "message": {"text": _unicode(r.message)}})
            result["relatedLocations"] = related
        if f.suppression is not None:
            result["suppressions"] = [{"kind": f.suppression.kind, "status": "accepted", "justification": f.suppression.justification}]
        if f.fix is not None:
            result["fixes"] = [
                {
                    "description": {"text": f.fix.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                            "replacements": [
                                {"deletedRegion": _region(e.region), "insertedContent": {"text": e.text}} for e in f.fix.edits
                            ],
                        }
                    ],
                }
            ]
            result["properties"] = {"fixApplicability": f.fix.applicability}
        results.append(result)
    notes = []
    for n in notifications:
        item: dict[str, object] = {"level": n.level, "message": {"text": _unicode(n.message)}}
        if n.path:
            item["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": _uri(n.path), "uriBaseId": "%SRCROOT%"}}}]
        if n.rule_id:
            item["descriptor"] = {"id": n.rule_id}
        notes.append(item)
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
    doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"
