"""Chart-level rules: what is wrong with the chart itself rather than with a rendered object."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Rule

_PORT_LINE = re.compile(r"^\s*(?:-\s+)?(containerPort|port|targetPort|nodePort|hostPort)\s*:\s*(\d{1,5})\s*(?:#.*)?$")
_PORTISH_KEY = re.compile(r"(?i)^(.*port|ports)$")


@dataclass
class ChartContext:
    rule: Rule
    settings: Any
    root: Path
    packaged: bool
    info: Any  # linter.helm.ChartInfo
    values_text: str | None
    defaults: dict[str, Any]
    templates: dict[str, str] = field(default_factory=dict)  # relative path -> text (files on disk)


@dataclass(frozen=True, slots=True)
class ChartHit:
    path: str  # relative to the chart root
    line: int
    message: str
    severity: str | None = None


def _values_hold_ports(node: Any) -> bool:
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            for k, v in cur.items():
                if isinstance(k, str) and _PORTISH_KEY.match(k) and (isinstance(v, int) and not isinstance(v, bool) or isinstance(v, (dict, list))):
                    if isinstance(v, int) or _has_int(v):
                        return True
                stack.append(v)
        elif isinstance(cur, list):
            stack.extend(cur)
    return False


def _has_int(node: Any) -> bool:
    stack = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, int) and not isinstance(cur, bool):
            return True
        if isinstance(cur, dict):
            stack.extend(cur.values())
        elif isinstance(cur, list):
            stack.extend(cur)
    return False


def hardcoded_port(ctx: ChartContext) -> Iterator[ChartHit]:
    """A literal port in a template of a chart whose values hold ports: the user cannot change it."""
    if ctx.packaged or not _values_hold_ports(ctx.defaults):
        return
    for rel, text in sorted(ctx.templates.items()):
        if not rel.startswith("templates/"):
            continue
        for i, line in enumerate(text.splitlines(), 1):
            m = _PORT_LINE.match(line)
            if m and 0 < int(m.group(2)) <= 65535:
                yield ChartHit(rel, i, ctx.rule.message.format(key=m.group(1), port=m.group(2)))


def missing_values_schema(ctx: ChartContext) -> Iterator[ChartHit]:
    if ctx.packaged or (ctx.root / "values.schema.json").is_file():
        return
    yield ChartHit("Chart.yaml", 1, ctx.rule.message.format(chart=ctx.info.name))


def helm_lint(ctx: ChartContext) -> Iterator[ChartHit]:
    from ..helm import lint_chart

    values = None
    for problem in lint_chart(ctx.root, values, timeout=ctx.settings.helm.timeout):
        severity = {"error": "error", "warning": "warning"}.get(problem.severity, "note")
        yield ChartHit(problem.path or "Chart.yaml", max(1, problem.line), ctx.rule.message.format(message=problem.message), severity)
