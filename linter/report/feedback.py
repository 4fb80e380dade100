"""Rule feedback: what suppressions say about a rule, counted, and the team's policy on it.

A suppression's reason may start with a kind from a small fixed vocabulary a tool can count::

    requests.get(url)  # pitfall: ignore[TMO101] false-positive: the client sets a default timeout
    # pitfall: ignore[PRT102] accepted: the port is fixed by the protocol

(the Kubernetes annotation ``ignore-check.pitfall.dev/<ID>: "false-positive: ..."`` likewise).
``pitfall stats`` counts per rule the findings, the suppressed ones by kind and the
false-positive rate, from a scan or from SARIF logs; the ``[tool.pitfall.feedback]`` policy
reports a rule that its users mark as wrong too often one severity lower.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from linter.core.model import Finding, Notification

KINDS = ("false-positive", "accepted")
_KIND = re.compile(r"^\s*(false-positive|accepted)\s*:\s*", re.I)
_LOWER = {"error": "warning", "warning": "note", "note": "note"}


def suppression_kind(justification: str | None) -> str:
    """``false-positive``, ``accepted`` or ``other`` (a reason without a kind, or none)."""
    m = _KIND.match(justification or "")
    return m.group(1).lower() if m else "other"


@dataclass
class RuleStats:
    rule: str
    findings: int = 0  # suppressed or not
    suppressed: dict[str, int] = field(default_factory=lambda: {"false-positive": 0, "accepted": 0, "other": 0})
    fixed: int = 0

    @property
    def open(self) -> int:
        return self.findings - sum(self.suppressed.values())

    @property
    def false_positive_rate(self) -> float:
        return self.suppressed["false-positive"] / self.findings if self.findings else 0.0


@dataclass(frozen=True, slots=True)
class Policy:
    """``[tool.pitfall.feedback]``: off unless ``max-false-positive-rate`` is set."""

    min_findings: int = 10
    max_false_positive_rate: float | None = None

    def noisy(self, stats: RuleStats) -> bool:
        return (
            self.max_false_positive_rate is not None
            and stats.findings >= self.min_findings
            and stats.false_positive_rate > self.max_false_positive_rate
        )


def count(items: Iterable[tuple[str, str | None]], fixed: dict[str, int] | None = None) -> dict[str, RuleStats]:
    """Per rule, from ``(rule id, justification or None when not suppressed)`` pairs."""
    out: dict[str, RuleStats] = {}
    for rule, justification in items:
        stats = out.setdefault(rule, RuleStats(rule))
        stats.findings += 1
        if justification is not None:
            stats.suppressed[suppression_kind(justification)] += 1
    for rule, n in (fixed or {}).items():
        out.setdefault(rule, RuleStats(rule)).fixed += n
    return out


def from_findings(findings: Iterable[Finding]) -> list[tuple[str, str | None]]:
    return [(f.rule_id, f.suppression.justification if f.suppression else None) for f in findings]


class SarifError(Exception):
    pass


def from_sarif(paths: Sequence[Path]) -> tuple[list[tuple[str, str | None]], dict[str, int]]:
    """The results of SARIF logs written by pitfall (every run of every file), and the fixes
    each run recorded as applied (``properties["pitfall/fixes-applied"]``)."""
    items: list[tuple[str, str | None]] = []
    fixed: dict[str, int] = {}
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SarifError(f"{path}: not a readable SARIF log ({exc})") from None
        runs = doc.get("runs") if isinstance(doc, dict) else None
        if not isinstance(runs, list):
            raise SarifError(f"{path}: not a SARIF log (no `runs`)")
        for run in runs:
            for result in run.get("results") or ():
                rule = result.get("ruleId")
                if not isinstance(rule, str):
                    continue
                sups = result.get("suppressions") or []
                items.append((rule, str(sups[0].get("justification") or "") if sups else None))
            for rule, n in ((run.get("properties") or {}).get("pitfall/fixes-applied") or {}).items():
                fixed[rule] = fixed.get(rule, 0) + int(n)
    return items, fixed


def apply_policy(findings: list[Finding], policy: Policy) -> tuple[list[Finding], list[Notification]]:
    """Findings of the rules the policy finds noisy, one severity lower; a note for each such rule."""
    if policy.max_false_positive_rate is None:
        return findings, []
    stats = count(from_findings(findings))
    noisy = {rule: s for rule, s in stats.items() if policy.noisy(s)}
    if not noisy:
        return findings, []
    out = [replace(f, severity=_LOWER[f.severity]) if f.rule_id in noisy and f.suppression is None else f for f in findings]
    notes = [
        Notification(
            f"{rule} is reported one severity lower: {s.suppressed['false-positive']} of its {s.findings} findings here are "
            f"marked false-positive ({s.false_positive_rate:.0%}, over the feedback policy's {policy.max_false_positive_rate:.0%})",
            "note",
            None,
            rule,
        )
        for rule, s in sorted(noisy.items())
    ]
    return out, notes


def render(stats: dict[str, RuleStats], policy: Policy, fmt: str = "text") -> str:
    rows = sorted(stats.values(), key=lambda s: (-s.findings, s.rule))
    if fmt == "json":
        return json.dumps(
            [
                {
                    "rule": s.rule,
                    "findings": s.findings,
                    "open": s.open,
                    "suppressed": dict(s.suppressed),
                    "false_positive_rate": round(s.false_positive_rate, 4),
                    "fixes_applied": s.fixed,
                    "lowered_by_policy": policy.noisy(s),
                }
                for s in rows
            ],
            indent=2,
        ) + "\n"
    head = ("rule", "findings", "open", "false-positive", "accepted", "other", "fp rate", "fixed", "policy")
    body = [
        (
            s.rule, str(s.findings), str(s.open), str(s.suppressed["false-positive"]), str(s.suppressed["accepted"]),
            str(s.suppressed["other"]), f"{s.false_positive_rate:.0%}", str(s.fixed), "one severity lower" if policy.noisy(s) else "",
        )
        for s in rows
    ]
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i in (0, 8) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in (head, *body)]
    if not body:
        lines.append("no findings")
    return "\n".join(lines) + "\n"
