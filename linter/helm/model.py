"""What a Helm render hands on: read inside ``linter.helm`` only (the engine passes a chart
unit's ``PreparedChart`` through unread, so a run without charts never builds these types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Origin:
    """A template line: ``file`` is an index into the render's source table."""

    file: int
    line: int


@dataclass(frozen=True, slots=True)
class RenderedDoc:
    template: str
    text: str
    start_line: int
    index: int
    # per line of ``text``: the template line that wrote it (linter.helm.origin), when known
    origins: tuple[tuple[Origin, ...] | None, ...] = ()


@dataclass(frozen=True, slots=True)
class HelmProblem:
    path: str
    line: int
    message: str
    kind: str
    severity: str


@dataclass(frozen=True, slots=True)
class RenderResult:
    docs: tuple[RenderedDoc, ...]
    problems: tuple[HelmProblem, ...]
    values: dict
    # origin file index -> the template's path: relative to the chart, or absolute (a
    # dependency from chart-dirs or file://, outside the chart)
    sources: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChartInfo:
    root: Path
    name: str
    version: str
    type: str
    dependencies: tuple[dict, ...]


class HelmChartError(Exception):
    """An invalid chart definition (Chart.yaml), with the file and line."""

    def __init__(self, message: str, path: str = "Chart.yaml", line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
