"""Helm's error messages turned into problems: cleaned of Go noise, located on the chart file
and line they name."""

from __future__ import annotations

import re
from pathlib import Path

from linter.helm.chart import chart_info
from linter.helm.model import HelmChartError, HelmProblem
from linter.helm.tree import chart_relative
from linter.kubernetes.yamldocs import SAFE_LOADER

_GO_NOISE = (
    ("error converting YAML to JSON: ", ""),
    ("cannot unmarshal yaml document: ", ""),
    ("map[string]interface {}", "map"),
    ("[]interface {}", "list"),
    ("interface {}", ""),
)


def clean_message(message: str, chart_name: str | None, replace: dict[str, str] | None = None) -> str:
    text = message
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    lines = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("Use --debug flag"):
            continue
        if line.startswith("Error: "):
            line = line[len("Error: ") :]
        lines.append(line)
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith(":"):
            out += " " + line
        else:
            out += ": " + line
    for old, new in _GO_NOISE:
        out = out.replace(old, new)
    if chart_name:
        out = re.sub(rf"(?<![\w./-]){re.escape(chart_name)}/(?=[^\s\"]*(?:templates|charts)/)", "", out)
    return out


_LOC_TEMPLATE = r"(?<![\w./-]){name}/([^\s:()\"<>]+):(\d+)(?::(\d+))?"


def locate(message: str, chart_name: str | None, chart_files: Path | None = None) -> tuple[str | None, int]:
    """(path relative to the chart root, line) that a Helm message names."""
    if chart_name:
        started = re.search(r"unclosed action started at " + _LOC_TEMPLATE.format(name=re.escape(chart_name)), message)
        if started:
            return started.group(1), int(started.group(2))
        locs = re.findall(_LOC_TEMPLATE.format(name=re.escape(chart_name)), message)
        if locs:
            path, line, _ = locs[-1]  # innermost: include/tpl chains nest inward
            return path, int(line)
        m = re.search(rf"YAML parse error on {re.escape(chart_name)}/(\S+?):", message)
        if m:
            return m.group(1), 1
    entries = re.findall(r"error unpacking subchart (\S+) in \S+: ", message)
    prefix = "".join(f"charts/{e}/" for e in entries)
    line_m = re.search(r"yaml: line (\d+)", message)
    line = int(line_m.group(1)) if line_m else 1
    if entries and entries[-1].endswith("gz"):
        return prefix.rstrip("/"), 1  # inside a vendored archive: name the archive
    m = re.search(r"cannot load (\S+?): ", message)
    if m:
        return prefix + m.group(1), line
    if prefix:
        return prefix + "Chart.yaml", line
    m = re.search(r"validation: chart\.metadata\.(\w+)", message)
    if m:
        return "Chart.yaml", _field_line(chart_files, m.group(1))
    if "Chart.yaml" in message:
        return "Chart.yaml", line
    return None, line


def _field_line(root: Path | None, key: str) -> int:
    if root is None or not root.is_dir():
        return 1
    try:
        text = (root / "Chart.yaml").read_text(encoding="utf-8")
    except OSError:
        return 1
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return i
    return 1


def _schema_location(message: str, root: Path | None) -> tuple[str, int]:
    """values file and line for a values.schema.json failure message."""
    chart = None
    m = re.search(r"following chart\(s\):\s*\n?\s*([^\s:]+):", message)
    if m:
        chart = m.group(1)
    rel = "values.yaml"
    if root is not None and root.is_dir() and chart:
        try:
            own = chart_info(root).name
        except HelmChartError:
            own = chart
        if chart != own and (root / "charts" / chart / "values.yaml").is_file():
            rel = f"charts/{chart}/values.yaml"
    pointer = re.search(r"at '(/[^']*)'", message)
    line = 1
    if root is not None and root.is_dir() and pointer:
        line = _pointer_line(root / rel, pointer.group(1))
    return rel, line


def _pointer_line(path: Path, pointer: str) -> int:
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError):
        return 1
    line = 1
    for part in [p for p in pointer.split("/") if p]:
        if node is None:
            break
        if node.tag.endswith(":map"):
            nxt = None
            for k, v in node.value:
                if str(k.value) == part:
                    line, nxt = k.start_mark.line + 1, v
                    break
            node = nxt
        elif node.tag.endswith(":seq") and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def problem_from_failure(
    resp: dict, *, root: Path, chart_name: str | None, replace: dict[str, str], timeout: float, chart_line: int = 1
) -> HelmProblem:
    stage = resp.get("stage")
    raw = resp.get("message", "")
    if stage == "timeout":
        return HelmProblem(
            "Chart.yaml",
            1,
            f"rendering did not finish within {timeout:g}s and was stopped; a template may loop for a very long"
            " time (e.g. `range` over a huge `until`), or raise the Helm render timeout",
            "timeout",
            "error",
        )
    message = clean_message(raw, chart_name, replace)
    if stage == "values-file":
        f = Path(resp.get("file", ""))
        m = re.search(r"yaml: line (\d+)", raw)
        return HelmProblem(chart_relative(f, root), int(m.group(1)) if m else 1, f"cannot read values file: {message}", "render-error", "error")
    if stage == "set":
        return HelmProblem("Chart.yaml", 1, f"invalid --set value {resp.get('expr')!r}: {message}", "render-error", "error")
    if stage in ("unavailable", "crash"):
        return HelmProblem("Chart.yaml", 1, f"the Helm renderer failed: {message}", "render-error", "error")
    files_root = root if root.is_dir() else None
    if resp.get("type") == "HelmValuesError" and "schema" in raw:
        schema_path, schema_line = _schema_location(raw, files_root)
        return HelmProblem(schema_path, schema_line, message, "render-error", "error")
    path, line = locate(raw, chart_name, files_root)
    invalid = stage == "load" or resp.get("type") in ("HelmChartLoadError", "HelmChartInvalidError")
    if path is None:
        path = "Chart.yaml"
    if invalid and path == "Chart.yaml" and line == 1:
        line = chart_line
    return HelmProblem(path, line, message, "invalid-chart" if invalid else "render-error", "error")
