"""Rule examples are the tests: used by tests/test_rule_examples.py and `pitfall rules test`.

Valid example: no finding of the rule. Invalid example: the lines reported by the rule equal
the lines marked with a trailing ``# error`` comment. ``fixed``: applying the rule's fixes
(safe and unsafe) gives exactly that text. Each example is written to a temporary folder
(with its ``files``) and linted through the same pipeline as ``pitfall check``.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from linter.core.config import Settings, from_dict
from linter.core.model import Example, Finding, Pack, Rule

MARK = re.compile(r"#\s*error\b")
DEFAULT_PATH = {"python": "example.py", "kubernetes": "example.yaml", "tool": "example.py", "file": "example.pem", "chart": "chart/templates/example.yaml"}


@dataclass(frozen=True, slots=True)
class Case:
    rule: Rule
    example: Example
    valid: bool
    index: int

    @property
    def id(self) -> str:
        return f"{self.rule.id}-{'valid' if self.valid else 'invalid'}-{self.index}"


def iter_example_cases(packs: Sequence[Pack]) -> Iterator[Case]:
    for pack in packs:
        for rule in pack.rules:
            for i, ex in enumerate(rule.valid):
                yield Case(rule, ex, True, i)
            for i, ex in enumerate(rule.invalid):
                yield Case(rule, ex, False, i)


def marked_lines(code: str) -> set[int]:
    return {i for i, line in enumerate(code.splitlines(), 1) if MARK.search(line)}


def run_example(case: Case, packs: Sequence[Pack]) -> tuple[list, str]:
    """Findings of the case's rule (and tool findings), and the fixed text."""
    from linter.core.discover import discover
    from linter.core.engine import build_ruleset, read_and_lint
    from linter.core.edits import apply_fixes

    rule = case.rule
    with tempfile.TemporaryDirectory(prefix="pitfall-example-") as tmp:
        root = Path(tmp)
        rel = case.example.path or DEFAULT_PATH[rule.target]
        for name, content in case.example.files:
            target = root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(case.example.code, encoding="utf-8")
        base = {"select": [rule.id], "preview": True, "respect-gitignore": False}
        base.update(dict(case.example.config))
        settings: Settings = from_dict(base, root=root, config_path=None)
        # an example tests its rule, not whether the pack's stack is a dependency of the
        # example's folder (that is `applies-to`'s own test): every pack applies here
        ruleset = build_ruleset(settings, packs=[replace(p, applies_to=()) for p in packs], project_root=root)
        units, _ = discover([rel], settings, cwd=root)
        findings: list[Finding] = []
        for unit in units:
            findings.extend(read_and_lint(unit, ruleset).findings)
        mine = [f for f in findings if f.rule_id == rule.id or (f.rule_id.startswith("LNT") and rule.target != "tool")]
        fixed = case.example.code
        fixable = [f for f in mine if f.fix is not None and f.path == rel]
        if fixable:
            fixed = apply_fixes(case.example.code, [f.fix for f in fixable if f.fix is not None])
        return mine, fixed


class ExampleFailure(Exception):
    """A rule example that does not behave as it says (raised, never asserted: ``pitfall rules
    test`` must fail the same under ``python -O``)."""


def _require(ok: object, message: str) -> None:
    if not ok:
        raise ExampleFailure(message)


def check_case(case: Case, packs: Sequence[Pack]) -> None:
    """Raise ExampleFailure unless the example behaves as marked."""
    findings, fixed = run_example(case, packs)
    rule = case.rule
    rel = case.example.path or DEFAULT_PATH[rule.target]
    tool = [f for f in findings if f.rule_id != rule.id]
    _require(not tool, f"{case.id}: the example itself is broken: {[f.message for f in tool]}")
    got = sorted({f.region.line for f in findings if f.path == rel and f.suppression is None})
    if case.valid:
        _require(not got, f"{case.id}: {rule.id} fired on a valid example at lines {got}: {[f.message for f in findings]}")
        return
    marked = sorted(marked_lines(case.example.code))
    _require(not (marked and case.example.errors), f"{case.id}: give the reported lines as `# error` markers or as `errors`, not both")
    want = list(case.example.errors) or marked
    _require(want, f"{case.id}: an invalid example needs at least one `# error` marker (or `errors: [lines]`)")
    _require(got == want, f"{case.id}: reported lines {got}, marked lines {want}: {[f.message for f in findings]}")
    if case.example.fixed is not None:
        fixed = re.sub(r"[ \t]*#\s*error\b[^\n]*", "", fixed)
        _require(fixed == case.example.fixed, f"{case.id}: fix gave\n{fixed}\nexpected\n{case.example.fixed}")
