"""The chart analyzer: chart rules, about the chart itself rather than a rendered object.

A chart rule says what it reports with its ``chart`` block (the analyzer is the matcher), or
names a ``check`` function for what the block cannot say. The block has one key:

- ``helm-lint: [error, warning, info]``: the messages of Helm's own ``helm lint`` at these levels
  (Helm's INFO and unknown levels are ``info``), each on the file and line Helm names (else
  ``Chart.yaml`` line 1) at the severity of its level (``info``: note). Placeholders:
  ``{message}``, ``{level}``. Helm lints the chart once per chart, however many rules ask.
- ``must-ship: <path>`` (or a list of alternatives, any of which will do): a file the chart must
  contain, relative to the chart's root; reported on ``Chart.yaml`` line 1. Placeholders:
  ``{chart}`` (the chart's name), ``{file}`` (the first path). A packaged chart (``.tgz``) is
  not checked.

A ``check`` function takes a :class:`ChartContext` and yields :class:`ChartHit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linter.core.model import Rule, load_reference
from linter.helm.model import ChartInfo, HelmProblem

if TYPE_CHECKING:
    from linter.core.config import Settings

#: ``helm-lint`` levels by the severity a Helm lint message is read as
_LEVELS = {"error": "error", "warning": "warning", "note": "info"}
#: the finding's severity for each ``helm-lint`` level
_SEVERITY = {"error": "error", "warning": "warning", "info": "note"}


@dataclass
class ChartContext:
    """What a chart ``check`` function reads about the chart."""

    rule: Rule
    settings: Settings
    root: Path
    packaged: bool
    info: ChartInfo
    values_text: str | None
    defaults: dict[str, Any]
    templates: dict[str, str] = field(default_factory=dict)  # relative path -> text (files on disk)


@dataclass(frozen=True, slots=True)
class ChartHit:
    path: str  # relative to the chart root
    line: int
    message: str
    severity: str | None = None


@dataclass(frozen=True)
class ChartFacts:
    """What the selected rules' ``chart`` blocks read, gathered at the I/O edge (``gather``): the
    chart, Helm's lint messages (when a block reports them) and which of the files the blocks
    name the chart ships."""

    root: Path
    packaged: bool
    info: ChartInfo
    lint: tuple[HelmProblem, ...] = ()
    ships: frozenset[str] = frozenset()


def gather(rules: Sequence[Rule], root: Path, packaged: bool, info: ChartInfo, lint: Callable[[], Sequence[HelmProblem]]) -> ChartFacts:
    """The facts ``rules``' blocks read: Helm lints the chart (``lint``) once, and only when one
    of them reports its messages; the files they name are looked up in the chart's folder."""
    blocks = [r.matcher["chart"] for r in rules if "chart" in r.matcher]
    messages = tuple(lint()) if any("helm-lint" in b for b in blocks) else ()
    named = {f for b in blocks if "must-ship" in b for f in _files(b["must-ship"])}
    ships = frozenset() if packaged else frozenset(f for f in named if (root / f).is_file())
    return ChartFacts(root, packaged, info, messages, ships)


def _files(wanted: str | list[str]) -> list[str]:
    return [wanted] if isinstance(wanted, str) else list(wanted)


def run_block(rule: Rule, facts: ChartFacts) -> Iterator[ChartHit]:
    """The hits of a rule's ``chart`` block (pure: the facts were gathered before)."""
    block: dict[str, Any] = rule.matcher["chart"]
    if "helm-lint" in block:
        levels = set(block["helm-lint"])
        for problem in facts.lint:
            level = _LEVELS.get(problem.severity, "info")
            if level in levels:
                message = rule.message.format(message=problem.message, level=level)
                yield ChartHit(problem.path or "Chart.yaml", max(1, problem.line), message, _SEVERITY[level])
    if "must-ship" in block:
        files = _files(block["must-ship"])
        if facts.packaged or any(f in facts.ships for f in files):
            return
        yield ChartHit("Chart.yaml", 1, rule.message.format(chart=facts.info.name, file=files[0]))


def chart_hits(rule: Rule, facts: ChartFacts, context: Callable[[], ChartContext]) -> Iterator[ChartHit]:
    """The hits of one chart rule: its ``chart`` block, or its ``check`` function."""
    if "chart" in rule.matcher:
        return run_block(rule, facts)
    hook: Callable[[ChartContext], Iterator[ChartHit]] = load_reference(rule.matcher["check"])
    return hook(context())
