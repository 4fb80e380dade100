"""A Helm chart as one unit: render it with each value set, lint the output, report on templates.

Findings on rendered output are reported on the template that produced the document, at
the line that writes the offending key (or the ``include``/``toYaml`` line that emits it,
or the resource's first line); the rendered position is a related location, and so is the
values-file line when the value comes straight from ``.Values``. The same finding from
several value sets is reported once and says which value sets produced it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import suppress
from .helm import SCAN_TREE, HelmChartError, HelmProblem, RenderedDoc, chart_info, profile_values, render, within
from .kubernetes import is_object
from .model import Finding, Notification, Region, Related, UnitResult
from .yamldocs import load_documents, locate

CHART_ERROR = "LNT002"
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)")
_KEY_LINE = "^[ \\t]*(?:-[ \\t]+)?[\"']?{key}[\"']?[ \\t]*:"


@dataclass(frozen=True, slots=True)
class _Mapped:
    line: int
    values_key: str | None


def _template_line(lines: Sequence[str], keys: Sequence[str], doc_index: int) -> tuple[int, int | None]:
    """(line for the deepest key found along ``keys``, index of that key in ``keys`` or None)."""
    start = 0
    if doc_index:
        seps = [i for i, line in enumerate(lines) if line.startswith("---")]
        if len(seps) >= doc_index:
            start = seps[doc_index - 1] + 1
    first = next((i for i in range(start, len(lines)) if re.match(r"^(apiVersion|kind)\s*:", lines[i])), start)
    best, depth = first, None
    pos = start
    for k, key in enumerate(keys):
        rx = re.compile(_KEY_LINE.format(key=re.escape(key)))
        found = next((i for i in range(pos, len(lines)) if rx.match(lines[i])), None)
        if found is None:
            break
        best, depth, pos = found, k, found + 1
    return best + 1, depth


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _map_to_template(template_text: str, path: Sequence[Any], doc_index: int, must_set: str | None = None) -> _Mapped:
    lines = template_text.splitlines()
    keys = [p for p in path if isinstance(p, str)]
    line, depth = _template_line(lines, keys, doc_index)
    if depth == len(keys) - 1 and path and isinstance(path[-1], int):
        # a list item (a container): its first line, `- name: ...`
        item = next((j for j in range(line, len(lines)) if lines[j].lstrip().startswith("-")), None)
        if item is not None:
            line = item + 1
    if must_set:
        found = _block_key(lines, line - 1, must_set)
        if found is not None:
            return found
    values_key = None
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    m = _VALUES_REF.search(here)
    rest = keys[depth + 1 :] if depth is not None else []
    if m is None and here.rstrip().endswith(":"):
        # `key:` whose value comes on the next line: `{{- toYaml .Values.x | nindent N }}` or an include
        nxt_i = next((j for j in range(line, len(lines)) if lines[j].strip()), None)
        if nxt_i is not None and "{{" in lines[nxt_i] and ("toYaml" in lines[nxt_i] or "include" in lines[nxt_i] or "tpl" in lines[nxt_i]):
            line = nxt_i + 1
            m = _VALUES_REF.search(lines[nxt_i])
    if m is not None:
        values_key = m.group(1)[1:]
        if rest and ("toYaml" in lines[line - 1] or "include" in lines[line - 1]):
            values_key = ".".join([values_key, *rest])
    return _Mapped(line, values_key)


def _block_key(lines: Sequence[str], at: int, dotted: str) -> _Mapped | None:
    """A missing ``a.b.c``: the ``a:`` key the template writes below line ``at`` from ``.Values.X``."""
    first, _, rest = dotted.partition(".")
    rx = re.compile(_KEY_LINE.format(key=re.escape(first)))
    base = _indent(lines[at]) if 0 <= at < len(lines) else 0
    for i in range(at + 1, len(lines)):
        text = lines[i]
        if not text.strip() or "{{" in text and not rx.match(text):
            continue
        if _indent(text) <= base and not text.lstrip().startswith("-"):
            break
        if rx.match(text):
            for j in (i - 1, i + 1):
                if 0 <= j < len(lines):
                    m = _VALUES_REF.search(lines[j])
                    if m:
                        key = m.group(1)[1:]
                        return _Mapped(i + 1, f"{key}.{rest}" if rest else key)
            return _Mapped(i + 1, None)
    return None


@functools.lru_cache(maxsize=4)
def _values_loaded(values_text: str) -> Any:
    """The values file, loaded once per chart (with positions) for defaults and value lines."""
    return load_documents(values_text)


def _values_defaults(values_text: str) -> dict[str, Any]:
    """The chart's default values, as a YAML load of the file gives them: nothing when the
    file is not one valid document (duplicate keys are fine: the last one wins)."""
    loaded = _values_loaded(values_text)
    if len(loaded.documents) != 1 or any(p.kind != "duplicate-key" for p in loaded.problems):
        return {}
    data = loaded.documents[0].data
    return data if isinstance(data, dict) else {}


def _values_line(values_text: str | None, key: str) -> int | None:
    loaded = _values_loaded(values_text) if values_text else None
    if loaded is None or not loaded.documents:
        return None
    span, _ = locate(loaded.documents[0], key.split("."))
    return span.line


_MUST_SET = re.compile(r"must set ([\w.]+)(?:=| to )([^\s)]+)")


def _values_hint(message: str, values_key: str) -> str:
    m = _MUST_SET.search(message)
    if m:
        leaf = m.group(1).split(".")[-1]
        key = values_key if values_key.endswith(leaf) else f"{values_key}.{leaf}"
        return f"set `{key}: {m.group(2).strip(chr(34))}` in values.yaml"
    return f"change `{values_key}` in values.yaml"


def _must_set_path(message: str) -> str | None:
    m = _MUST_SET.search(message)
    return m.group(1) if m else None


def _problem_finding(base: str, p: HelmProblem, profile: str) -> Finding:
    severity = p.severity
    if profile != "defaults" and p.kind in ("render-error", "timeout"):
        severity = "note"  # a built-in profile the chart cannot render (its own `fail`/`required`)
    where = f"{base}/{p.path}" if p.path else base
    prefix = f"value set `{profile}`: " if profile != "defaults" else ""
    return Finding(CHART_ERROR, where, Region.point(max(1, p.line)), f"{prefix}{p.message}", severity, fingerprint=f"{p.kind}:{p.path}")


def scan_tree(unit: Any, settings: Any) -> Path:
    """The scanned tree a chart unit belongs to: the scan root its display path is relative to or
    the configuration root, whichever holds the chart (the outer one when both do); else the
    chart itself. Nothing outside it is read, rendered or reported (symbolic links, ``file://``
    dependencies, values files)."""
    chart = os.path.realpath(unit.abspath)
    candidates: list[str] = []
    path = str(unit.path).rstrip("/")
    abspath = str(unit.abspath).rstrip("/")
    if path == ".":
        candidates.append(abspath)
    elif path and not os.path.isabs(path) and not path.startswith("../") and abspath.endswith("/" + path):
        candidates.append(abspath[: -len(path) - 1] or "/")
    root = getattr(settings, "root", None)
    if root:
        candidates.append(str(root))
    holding = [os.path.realpath(c) for c in candidates if within(chart, c)]
    if holding:
        return Path(min(holding, key=len))  # the outermost: a configuration root above the working folder
    return Path(chart) if os.path.isdir(chart) else Path(chart).parent


def lint_chart(unit: Any, ruleset: Any) -> UnitResult:
    token = SCAN_TREE.set(scan_tree(unit, ruleset.settings))
    try:
        return _lint_chart(unit, ruleset)
    finally:
        SCAN_TREE.reset(token)


def _lint_chart(unit: Any, ruleset: Any) -> UnitResult:
    settings = ruleset.settings
    helm = settings.helm
    chart = Path(unit.abspath)
    base = unit.path
    packaged = chart.is_file()
    try:
        info = chart_info(chart)
    except HelmChartError as exc:
        f = Finding(CHART_ERROR, f"{base}/{exc.path}" if not packaged else base, Region.point(max(1, exc.line or 1)), f"invalid chart: {exc.message}", "error", fingerprint="invalid-chart")
        return UnitResult(base, (f,), (Notification(f.message, "error", f.path, CHART_ERROR),))
    if info.type == "library":
        return UnitResult(base, ())
    values_text = None if packaged else _read(chart / "values.yaml")
    defaults: dict[str, Any] = {}
    if values_text:
        defaults = _values_defaults(values_text)
    sets: list[tuple[str, dict[str, Any] | None]] = []
    for profile in helm.profiles:
        if profile == "defaults":
            sets.append(("defaults", None))
            continue
        overlay = profile_values(defaults, profile)
        if overlay:
            sets.append((profile, overlay))
    kube = ruleset.kubernetes
    found: dict[tuple[str, str, int, int, str], tuple[Finding, list[str], tuple[tuple[str, str], ...]]] = {}
    problems: list[Finding] = []
    seen_problems: set[tuple[str, int, str]] = set()
    templates: dict[str, str | None] = {}
    for profile, overlay in sets:
        result = render(
            chart,
            values_files=[Path(v) for v in helm.values],
            set_values=helm.set,
            extra_values=overlay,
            release=helm.release_name,
            namespace=helm.namespace,
            timeout=helm.timeout,
            chart_dirs=[Path(d) for d in helm.chart_dirs],
            backend=helm.backend,
            info=info,
        )
        for p in result.problems:
            key = (p.path, p.line, p.message)
            if key not in seen_problems:
                seen_problems.add(key)
                problems.append(_problem_finding(base, p, profile))
        parsed = [(doc, [d for d in load_documents(doc.text).documents if is_object(d.data)]) for doc in result.docs]
        everything = [d for _, objs in parsed for d in objs]  # cross-object rules see the whole chart
        for doc, objs in parsed:
            for finding, ignores in _lint_doc(kube, base, chart, packaged, doc, objs, everything, templates, values_text):
                k = (finding.rule_id, finding.path, finding.region.line, finding.region.column, finding.message)
                if k in found:
                    found[k][1].append(profile)
                else:
                    found[k] = (finding, [profile], ignores)
    findings: list[Finding] = list(problems)
    findings.extend(_chart_rules(ruleset, base, chart, packaged, info, values_text, defaults, templates))
    annotations: dict[int, tuple[tuple[str, str], ...]] = {}
    multi = len(sets) > 1
    for finding, profiles, ignores in found.values():
        if multi and profiles != ["defaults"]:
            finding = replace(finding, message=f"{finding.message} [value sets: {', '.join(profiles)}]")
        if ignores:
            annotations[len(findings)] = ignores
        findings.append(finding)
    # suppression directives live in the template files: apply them file by file
    out: list[Finding] = []
    by_file: dict[str, list[int]] = {}
    for i, f in enumerate(findings):
        by_file.setdefault(f.path, []).append(i)
    for path, idxs in sorted(by_file.items()):
        rel = path[len(base) + 1 :] if path.startswith(base + "/") else None
        text = templates.get(rel) if rel else None
        if text is None and rel and not packaged:
            text = _read(chart / rel)
        sub = [findings[i] for i in idxs]
        sub_ann = {j: annotations[i] for j, i in enumerate(idxs) if i in annotations}
        out.extend(
            suppress.apply(
                sub,
                path=path,
                text=text,
                python=False,
                per_file_ignores=settings.per_file_ignores,
                rules=ruleset.by_id,
                annotations=sub_ann,
                all_ids=ruleset.all_ids,
            )
        )
    notes = tuple(Notification(f.message, "error" if f.severity == "error" else "note", f.path, CHART_ERROR) for f in problems)
    return UnitResult(base, tuple(sorted(out, key=Finding.sort_key)), notes)


def _chart_rules(ruleset: Any, base: str, chart: Path, packaged: bool, info: Any, values_text: str | None, defaults: dict[str, Any], read: dict[str, str | None]) -> list[Finding]:
    """``read``: the template texts already read for this chart (filled in as files are read)."""
    rules = [r for r in ruleset.rules if r.target == "chart"]
    if not rules:
        return []
    from .checks.charts import ChartContext
    from .model import load_reference

    templates: dict[str, str] = {}
    if not packaged:
        for path in sorted((chart / "templates").rglob("*")) if (chart / "templates").is_dir() else []:
            if path.is_file():
                rel = path.relative_to(chart).as_posix()
                if rel not in read:
                    read[rel] = _read(path)
                text = read[rel]
                if text is not None:
                    templates[rel] = text
    out = []
    for rule in rules:
        ctx = ChartContext(rule, ruleset.settings, chart, packaged, info, values_text, defaults, templates)
        for hit in load_reference(rule.matcher["check"])(ctx):
            where = base if packaged else f"{base}/{hit.path}"
            out.append(Finding(rule.id, where, Region.point(hit.line), hit.message, hit.severity or rule.severity, fingerprint=f"{hit.path}:{hit.message}"))
    return out


def _read(path: Path) -> str | None:
    """The text of a chart file, never from outside the scanned tree (a symbolic link there)."""
    tree = SCAN_TREE.get()
    if tree is not None and not within(path, tree):
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _lint_doc(kube: Any, base: str, chart: Path, packaged: bool, doc: RenderedDoc, docs: list[Any], everything: list[Any], templates: dict[str, str | None], values_text: str | None):  # type: ignore[no-untyped-def]
    if not docs:
        return
    if doc.template not in templates:
        templates[doc.template] = None if packaged else _read(chart / doc.template)
    template_text = templates[doc.template]
    where = base if packaged else f"{base}/{doc.template}"
    for finding, ignores, path in kube.analyze_documents(where, docs, everything):
        rendered = Related(where, None, f"rendered {doc.template} (document {doc.index + 1}) line {finding.region.line}")
        related = [rendered]
        message = finding.message
        line = 1
        if template_text is not None:
            mapped = _map_to_template(template_text, path, doc.index, _must_set_path(message))
            line = mapped.line
            if mapped.values_key and values_text is not None:
                vline = _values_line(values_text, mapped.values_key)
                related.append(Related(f"{base}/values.yaml", Region.point(vline or 1), f"value `{mapped.values_key}`"))
                message = f"{message} ({_values_hint(message, mapped.values_key)})"
        elif packaged:
            message = f"{doc.template}: {message}"
        yield (
            replace(
                finding,
                region=Region.point(line),
                message=message,
                related=tuple(related),
                fingerprint=f"{base}:{doc.template}:{finding.fingerprint}",
            ),
            # the annotations' lines are the rendered document's, not the template's: drop them
            # (suppress.apply then matches a template's annotation to its findings by code)
            tuple((code, reason) for code, reason in ignores),
        )
