"""A Helm chart as one unit: render it with each value set, lint the output, report on templates.

The engine's chart I/O edge runs inside ``chart_edge``: ``prepare`` reads and renders the chart,
the engine's ``lint_unit`` calls ``analyze`` for the raw findings and applies the suppressions.

Findings on rendered output are reported on the template that produced the document, at
the line that writes the offending key (or the ``include``/``toYaml`` line that emits it,
or the resource's first line); the rendered position is a related location, and so is the
values-file line when the value comes straight from ``.Values``. The same finding from
several value sets is reported once and says which value sets produced it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linter.core.model import ChartAnalysis, Finding, Notification, Region, Related, Rule
from linter.helm.model import ChartInfo, HelmChartError, HelmProblem, Origin, RenderedDoc, RenderResult
from linter.helm.analyzer import ChartFacts
from linter.helm.backends import sdk_available
from linter.helm.chart import chart_info
from linter.helm.pool import warm
from linter.helm.render import render
from linter.helm.staging import OVERRIDES, reuse_staging
from linter.helm.tree import SCAN_TREE, within
from linter.helm.values import merge_maps, profile_values
from linter.kubernetes.objects import is_object
from linter.kubernetes.yamldocs import Document, load_documents, locate, node_span
from linter.kubernetes.yamlfix import values_fix

if TYPE_CHECKING:
    from linter.core.config import HelmSettings, Settings
    from linter.core.discover import Unit
    from linter.core.engine import RuleSet
    from linter.kubernetes.analyzer import KubeRuleSet

CHART_ERROR = "LNT002"
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][\w-]*)+)")
_KEY_LINE = "^[ \\t]*(?:-[ \\t]+)?[\"']?{key}[\"']?[ \\t]*:"


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


_MUST_SET = re.compile(r"must set ([\w.]+)(?:=| to )(\S+)")


def _must_set(message: str) -> tuple[list[str], Any] | None:
    """(key path below the object path, value) of a "must set K=V" / "must set K to V" message."""
    m = _MUST_SET.search(message)
    if not m:
        return None
    raw = m.group(2).rstrip(").,")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw.strip('"')
    return m.group(1).split("."), value


def _problem_finding(base: str, p: HelmProblem, profile: str) -> Finding:
    severity = p.severity
    if profile != "defaults" and p.kind in ("render-error", "timeout"):
        severity = "note"  # a built-in profile the chart cannot render (its own `fail`/`required`)
    where = f"{base}/{p.path}" if p.path else base
    prefix = f"value set `{profile}`: " if profile != "defaults" else ""
    message = f"{prefix}{p.message}"
    properties: tuple[tuple[str, str], ...] = ()
    if len(message) > _MESSAGE_LIMIT:
        # Helm quotes whole templates or documents in some errors: the message stays short and
        # the full text goes into the result's properties
        properties = (("pitfall/detail", message),)
        message = message[: _MESSAGE_LIMIT - 1].rstrip() + "…"
    return Finding(CHART_ERROR, where, Region.point(max(1, p.line)), message, severity, fingerprint=f"{p.kind}:{p.path}", properties=properties)


_MESSAGE_LIMIT = 600  # characters of a chart problem's message


def scan_tree(unit: Unit, settings: Settings) -> Path:
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


@contextlib.contextmanager
def chart_edge(unit: Unit, ruleset: RuleSet) -> Iterator[None]:
    """Where a chart unit is prepared and analysed (the engine's chart I/O edge runs both inside):
    reads stay in the chart's scan tree, and every render of the chart (each value set, each
    values hint checked) is made from one staged copy. This process's renderer starts (if it has
    not) while the chart is read and staged. ``ruleset``: the rule set for the chart's path."""
    helm = ruleset.settings.helm
    if helm.timeout > 0 and helm.backend != "helm" and sdk_available():
        warm()
    token = SCAN_TREE.set(scan_tree(unit, ruleset.settings))
    try:
        with reuse_staging():
            yield
    finally:
        SCAN_TREE.reset(token)


@dataclass
class PreparedChart:
    """A chart read and rendered at the I/O edge (``prepare``): what ``analyze`` reads."""

    base: str  # the unit's display path
    packaged: bool = False
    invalid: HelmChartError | None = None  # Chart.yaml cannot be read: nothing else was
    library: bool = False  # a library chart renders nothing
    chart: _Chart | None = None  # the chart's texts, renders and where findings are shown
    defaults: dict[str, Any] = field(default_factory=dict)
    sets: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)  # (profile, overlay)
    renders: list[RenderResult] = field(default_factory=list)  # one per value set
    facts: ChartFacts | None = None  # what the chart rules' blocks read (None: no chart rule)
    templates: dict[str, str] = field(default_factory=dict)  # the template files' texts, for hooks
    # the findings on rendered output, one per problem across value sets, in the order first
    # seen, and for each the values key its hint sets (None: no hint), checked by rendering again
    found: list[_Found] = field(default_factory=list)
    hint_keys: list[list[str] | None] = field(default_factory=list)


def prepare(unit: Unit, ruleset: RuleSet) -> PreparedChart:
    """Read the chart, render it with every value set and read every file a finding may be shown
    on; then check the values hints of the findings on the output, which render the chart again
    (the I/O edge; inside ``chart_edge``)."""
    helm = ruleset.settings.helm
    chart = Path(unit.abspath)
    base = unit.path
    packaged = chart.is_file()
    try:
        info = chart_info(chart)
    except HelmChartError as exc:
        return PreparedChart(base, packaged, invalid=exc)
    if info.type == "library":
        return PreparedChart(base, packaged, library=True)
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
    ctx = _Chart(unit, chart, base, packaged, info, values_text, helm, ruleset.kubernetes)
    renders = [ctx.render(overlay, origins=not packaged) for _, overlay in sets]
    rules = [r for r in ruleset.rules if r.target == "chart"]
    facts = None
    templates: dict[str, str] = {}
    if rules:
        from linter.helm.analyzer import gather
        from linter.helm.render import lint_chart as helm_lint

        facts = gather(rules, chart, packaged, info, lambda: helm_lint(chart, None, timeout=helm.timeout, chart_dirs=[Path(d) for d in helm.chart_dirs]))
        if any("check" in r.matcher for r in rules):
            templates = _templates(chart, packaged, ctx.templates)
    if not packaged:
        ctx.read_shown(renders, facts)
    prepared = PreparedChart(base, packaged, None, False, ctx, defaults, sets, renders, facts, templates)
    prepared.found = _found(ctx, sets, renders)
    hints = _Hints(ctx)
    prepared.hint_keys = [hints.find(item) for item in prepared.found]
    return prepared


def analyze(prepared: PreparedChart, ruleset: RuleSet) -> ChartAnalysis:
    """The raw findings of a prepared chart: its problems (LNT002), the Kubernetes rules on each
    rendered document, reported on the template lines that wrote them, one finding per problem
    across value sets, with the values hints ``prepare`` checked, and the chart rules. Reads no
    file and renders nothing."""
    base = prepared.base
    if prepared.invalid is not None:
        exc = prepared.invalid
        f = Finding(CHART_ERROR, f"{base}/{exc.path}" if not prepared.packaged else base, Region.point(max(1, exc.line or 1)), f"invalid chart: {exc.message}", "error", fingerprint="invalid-chart")
        # the run says so whatever is selected; the finding only where LNT002 is selected
        return ChartAnalysis((f,) if CHART_ERROR in ruleset.by_id else (), (Notification(f.message, "error", f.path, CHART_ERROR),), final=True)
    ctx = prepared.chart
    if ctx is None:  # a library chart
        return ChartAnalysis((), final=True)
    sets = prepared.sets
    problems: list[Finding] = []
    seen_problems: set[tuple[str, int, str]] = set()
    for (profile, _), result in zip(sets, prepared.renders):
        for p in result.problems:
            key = (p.path, p.line, p.message)
            if key not in seen_problems:
                seen_problems.add(key)
                problems.append(_problem_finding(base, p, profile))
    findings: list[Finding] = list(problems) if CHART_ERROR in ruleset.by_id else []
    findings.extend(_chart_rules(ruleset, prepared))
    annotations: dict[int, tuple[tuple[str, str], ...]] = {}
    multi = len(sets) > 1
    for item, hint_key in zip(prepared.found, prepared.hint_keys):
        finding = _with_hint(ctx, item, hint_key)
        if multi and item.profiles != ["defaults"]:
            finding = replace(finding, message=f"{finding.message} [value sets: {', '.join(item.profiles)}]")
        if item.ignores:
            annotations[len(findings)] = item.ignores
        findings.append(finding)
    notes = tuple(Notification(f.message, "error" if f.severity == "error" else "note", f.path, CHART_ERROR) for f in problems)
    notes += tuple(Notification(message, "error", base) for message in ctx.rule_errors)
    # suppression directives live in the files the findings are shown on (templates, Chart.yaml)
    return ChartAnalysis(tuple(findings), notes, annotations, ctx.text_of_shown)


def _found(ctx: _Chart, sets: Sequence[tuple[str, dict[str, Any] | None]], renders: Sequence[RenderResult]) -> list[_Found]:
    """The Kubernetes rules' findings on each rendered document, reported on the template lines
    that wrote them: one per problem across value sets (naming the sets), in the order first seen."""
    found: dict[tuple[str, str, int, str], _Found] = {}
    for (profile, overlay), result in zip(sets, renders):
        parsed = [(doc, [d for d in load_documents(doc.text).documents if is_object(d.data)]) for doc in result.docs]
        everything = [d for _, objs in parsed for d in objs]  # cross-object rules see the whole chart
        for doc, objs in parsed:
            for item in ctx.lint_doc(doc, objs, everything, result):
                f = item.finding
                # one finding per problem: the same object and place from several value sets
                k = (f.rule_id, f.path, f.region.line, item.identity)
                if k in found:
                    if profile not in found[k].profiles:
                        found[k].profiles.append(profile)
                else:
                    item.profiles.append(profile)
                    item.overlay = overlay
                    found[k] = item
    return list(found.values())


def _chart_rules(ruleset: RuleSet, prepared: PreparedChart) -> list[Finding]:
    """The findings of the chart rules (their ``chart`` blocks or ``check`` functions)."""
    facts = prepared.facts
    ctx = prepared.chart
    if facts is None or ctx is None:
        return []
    from linter.helm.analyzer import ChartContext, chart_hits

    base, packaged = prepared.base, prepared.packaged

    def context(rule: Rule) -> ChartContext:
        return ChartContext(rule, ruleset.settings, ctx.chart, packaged, ctx.info, ctx.values_text, prepared.defaults, prepared.templates)

    out = []
    for rule in (r for r in ruleset.rules if r.target == "chart"):
        for hit in chart_hits(rule, facts, lambda: context(rule)):
            where = base if packaged else f"{base}/{hit.path}"
            out.append(Finding(rule.id, where, Region.point(hit.line), hit.message, hit.severity or rule.severity, fingerprint=f"{hit.path}:{hit.message}"))
    return out


def _templates(chart: Path, packaged: bool, read: dict[str, str | None]) -> dict[str, str]:
    """The texts of the chart's template files on disk (``read``: those already read, filled in)."""
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
    return templates


def _read(path: Path) -> str | None:
    """The text of a chart file (an unsaved editor buffer when there is one), never from outside
    the scanned tree (a symbolic link there)."""
    tree = SCAN_TREE.get()
    if tree is not None and not within(path, tree):
        return None
    unsaved = OVERRIDES.get()
    if unsaved:
        text = unsaved.get(os.path.realpath(path))
        if text is not None:
            return text
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# --------------------------------------------------------------------------- one chart


@dataclass(slots=True)
class _HintRequest:
    """What a "must set" finding needs to look for a values key that fixes it."""

    doc: Document  # the rendered document of the object
    obj_path: tuple[Any, ...]
    keys: list[str]
    value: Any
    prefix: list[str]  # the subchart's key in the parent's values
    near: dict[str, tuple[int, int]]  # template source -> first, last line writing the node
    around: dict[str, tuple[int, int]]  # template source -> first, last line writing the object
    rule_id: str
    message: str
    obj: tuple[str, str, str]
    template: str


@dataclass(slots=True)
class _Found:
    finding: Finding
    identity: str  # the object and the place in it (the Kubernetes finding's fingerprint)
    ignores: tuple[tuple[str, str], ...]
    request: _HintRequest | None = None
    profiles: list[str] = field(default_factory=list)
    overlay: dict[str, Any] | None = None


def _obj_id(data: Any) -> tuple[str, str, str]:
    meta = data.get("metadata") if isinstance(data, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    return (str(data.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name") or meta.get("generateName") or ""))


def _origin_at(origins: Sequence[tuple[Origin, ...] | None], line: int) -> Origin | None:
    """The template line that wrote rendered ``line`` (1-based), or that emitted it (the next
    marker below: a ``toYaml`` or ``include`` line)."""
    for i in range(max(0, line - 1), len(origins)):
        marks = origins[i]
        if marks:
            return marks[0]
    return None


def _caller(origins: Sequence[tuple[Origin, ...] | None], line: int, own: set[int]) -> Origin | None:
    """The first marker of the document's own template (file indexes ``own``) at or below
    rendered ``line``: the line that included the named template the line comes from."""
    for i in range(max(0, line - 1), len(origins)):
        for mark in origins[i] or ():
            if mark.file in own:
                return mark
    return None


def _lines_by_source(origins: Sequence[tuple[Origin, ...] | None], sources: dict[int, str], first: int, last: int) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for line in range(first, last + 1):
        o = _origin_at(origins, line)
        if o is None or o.file not in sources:
            continue
        src = sources[o.file]
        lo, hi = out.get(src, (o.line, o.line))
        out[src] = (min(lo, o.line), max(hi, o.line))
    return out


def _direct_value(text: str | None, line: int, key: str) -> str | None:
    """``X`` when template ``line`` is ``key: {{ .Values.X }}`` (a pipe such as ``| quote`` allowed)."""
    if text is None:
        return None
    lines = text.splitlines()
    if not 0 < line <= len(lines):
        return None
    m = re.match(rf"^\s*(?:-\s+)?[\"']?{re.escape(key)}[\"']?\s*:\s*\{{\{{-?\s*\$?\.Values\.([\w.-]+)\s*(?:\|[^}}]*)?-?\}}\}}\s*$", lines[line - 1])
    return m.group(1) if m else None


def _base_path(path: Sequence[Any], keys: Sequence[str]) -> list[Any]:
    """The object path a "must set" key is relative to: a finding's path may already end with
    the start of the key (``...containers/0/securityContext``)."""
    overlap = next((m for m in range(min(len(keys), len(path)), 0, -1) if list(path[-m:]) == list(keys[:m])), 0)
    return list(path[: len(path) - overlap])


def _own_path(template: str) -> str:
    """``templates/x.yaml`` of a rendered template name (``charts/sub/templates/x.yaml``)."""
    head, sep, tail = template.rpartition("templates/")
    return sep + tail if sep else template


class _Chart:
    """One chart being linted: renders, template sources and where findings are shown."""

    def __init__(self, unit: Unit, chart: Path, base: str, packaged: bool, info: ChartInfo, values_text: str | None, helm: HelmSettings, kube: KubeRuleSet) -> None:
        self.chart, self.base, self.packaged, self.info = chart, base, packaged, info
        self.values_text, self.helm, self.kube = values_text, helm, kube
        self.templates: dict[str, str | None] = {}  # chart-relative path -> text (own templates)
        self._texts: dict[str, str | None] = {}  # source -> text
        self._shown_of: dict[str, str] = {}  # source -> shown path
        self._files: dict[str, bool] = {}  # rendered template -> a file of the chart on disk
        self._shown: dict[str, str] = {}  # shown path -> source
        self.merged: dict[str, Any] = {}  # the values of the first render
        self.rule_errors: list[str] = []  # rules that raised on a rendered object
        path, abspath = str(unit.path).rstrip("/"), str(unit.abspath).rstrip("/")
        if path in ("", "."):
            self.root: str | None = abspath
        elif not os.path.isabs(path) and abspath.endswith("/" + path):
            self.root = abspath[: -len(path) - 1] or "/"
        else:
            self.root = None

    def render(self, overlay: dict[str, Any] | None, *, origins: bool) -> Any:
        result = self._render(overlay, origins=origins)
        if origins and any(p.severity == "error" for p in result.problems):
            # a template that reads its own output as data (`include ... | fromJson`) may not
            # take the origin markers, and Helm's error positions (line:column) are the chart's
            # own only without them: the chart's own render decides
            return self._render(overlay, origins=False)
        return result

    def _render(self, overlay: dict[str, Any] | None, *, origins: bool) -> Any:
        helm = self.helm
        result = render(
            self.chart,
            values_files=[Path(v) for v in helm.values],
            set_values=helm.set,
            extra_values=overlay,
            release=helm.release_name,
            namespace=helm.namespace,
            timeout=helm.timeout,
            chart_dirs=[Path(d) for d in helm.chart_dirs],
            backend=helm.backend,
            info=self.info,
            origins=origins,
        )
        if not self.merged and result.values:
            self.merged = result.values
        return result

    def shown(self, source: str) -> str:
        """The path a finding in template ``source`` is reported on (one a user can open)."""
        shown = self._shown_of.get(source)
        if shown is None:
            shown = self._shown_of[source] = self._show(source)
        self._shown[shown] = source
        return shown

    def _show(self, source: str) -> str:
        if os.path.isabs(source):
            if self.root is not None and within(source, self.root):
                shown = Path(os.path.relpath(os.path.realpath(source), os.path.realpath(self.root))).as_posix()
            else:
                shown = Path(source).as_posix()
        else:
            shown = f"{self.base}/{source}"
        return shown

    def source_text(self, source: str) -> str | None:
        if source not in self._texts:
            path = Path(source) if os.path.isabs(source) else self.chart / source
            text = _read(path)
            self._texts[source] = text
            if not os.path.isabs(source):
                self.templates[source] = text
        return self._texts[source]

    def read_shown(self, renders: Sequence[RenderResult], facts: ChartFacts | None) -> None:
        """Read every file a finding of these renders may be shown on (or read from: columns,
        values references), so that the analysis reads none: the templates that wrote the
        output, the chart's own files Helm's problems name, Chart.yaml and requirements.yaml
        (where a vendored dependency is reported)."""
        sources: list[str] = ["Chart.yaml", "requirements.yaml"]
        for result in renders:
            sources.extend(result.sources.values())
            for source in result.sources.values():
                self._shown_of.setdefault(source, self._show(source))  # (resolves links)
            sources.extend(p.path for p in result.problems if p.path)
            for doc in result.docs:
                sources.append(doc.template)
                self.on_disk(doc.template)
        if facts is not None:
            sources.extend(p.path for p in facts.lint if p.path)
        for source in sources:
            if not source.endswith("/"):
                self.source_text(source)

    def on_disk(self, template: str) -> bool:
        """Whether a rendered template is a file of the chart on disk."""
        if template not in self._files:
            self._files[template] = (self.chart / template).is_file()
        return self._files[template]

    def text_of_shown(self, shown: str) -> str | None:
        source = self._shown.get(shown)
        if source is None and shown.startswith(self.base + "/") and not self.packaged:
            source = shown[len(self.base) + 1 :]
        return self.source_text(source) if source is not None else None

    def _dependency_entry(self, template: str) -> tuple[str, int] | None:
        """For a template of a subchart that is not on disk (a vendored archive): the subchart's
        entry in the parent's Chart.yaml (or requirements.yaml)."""
        parts = template.split("/")
        if len(parts) < 3 or parts[0] != "charts":
            return None
        name = parts[1]
        for dep in self.info.dependencies:
            if name in (dep.get("alias"), dep.get("name")):
                return str(dep.get("_file") or "Chart.yaml"), int(dep.get("_line") or 1)
        return "Chart.yaml", 1

    def lint_doc(self, doc: RenderedDoc, objs: list[Document], everything: list[Document], result: RenderResult) -> Iterator[_Found]:
        if not objs:
            return
        sources: dict[int, str] = result.sources
        origins = doc.origins
        errors: list[tuple[str, Region]] = []
        for finding, ignores, path in self.kube.analyze_documents(self.base, objs, everything, errors=errors):
            obj = next((d for d in objs if finding.logical is not None and _obj_id(d.data)[0] == finding.logical.kind and (_obj_id(d.data)[2] or None) == (finding.logical.name or None)), objs[0])
            rendered = finding.region.line
            must = _must_set(finding.message)
            if must is not None:
                # the deepest part of the key the finding asks for that the output has
                span, _ = locate(obj, [*_base_path(path, must[0]), *must[0]])
                rendered = span.line
            message = finding.message
            related: list[Related] = []
            origin = _origin_at(origins, rendered) if origins else None
            shown: str
            region: Region
            if origin is not None and origin.file in sources:
                source = sources[origin.file]
                shown = self.shown(source)
                region = Region.point(origin.line, self._column(source, origin.line))
                own_path = _own_path(doc.template)
                caller = None
                if not source.endswith(own_path):
                    caller = _caller(origins, rendered, {i for i, src in sources.items() if src.endswith(own_path)})
                if caller is not None:
                    csrc = sources[caller.file]
                    related.append(Related(self.shown(csrc), Region.point(caller.line, self._column(csrc, caller.line)), "included from here"))
            else:
                first = next((marks[0] for marks in origins if marks and marks[0].file in sources), None)
                if first is not None:
                    shown = self.shown(sources[first.file])
                    region = Region.point(first.line, self._column(sources[first.file], first.line))
                elif self.packaged:
                    shown, region = self.base, Region.point(1)
                    message = f"{doc.template}: {message}"
                elif self.on_disk(doc.template):
                    shown, region = self.shown(doc.template), Region.point(1)
                else:
                    entry = self._dependency_entry(doc.template) or ("Chart.yaml", 1)
                    shown, region = self.shown(entry[0]), Region.point(entry[1])
                    message = f"{doc.template}: {message}"
            related.insert(0, Related(shown, None, f"rendered {doc.template} (document {doc.index + 1}) line {finding.region.line}"))
            if origin is not None and origin.file in sources and path and isinstance(path[-1], str) and self.values_text is not None:
                # the offending scalar comes straight from one value: its line is a related
                # location (a fact about the template, not a hint)
                ref = _direct_value(self.source_text(sources[origin.file]), origin.line, path[-1])
                if ref is not None and not doc.template.startswith("charts/"):
                    vline = _values_line(self.values_text, ref)
                    if vline is not None:
                        related.append(Related(f"{self.base}/values.yaml", Region.point(vline), f"value `{ref}`"))
            request = None
            if must is not None and origins and not self.packaged:
                request = self._request(doc, obj, path, must, finding, sources)
            yield _Found(
                replace(
                    finding,
                    path=shown,
                    region=region,
                    message=message,
                    related=tuple(related),
                    fingerprint=f"{self.base}:{doc.template}:{finding.fingerprint}",
                ),
                finding.fingerprint,
                # the annotations' lines are the rendered document's, not the template's: drop
                # them (suppress.apply then matches a template's annotation to its findings by code)
                tuple((code, reason) for code, reason in ignores),
                request,
            )

        for message, _region in errors:
            note = f"{self.base}: {doc.template} (document {doc.index + 1}): {message}"
            if note not in self.rule_errors:
                self.rule_errors.append(note)

    def _column(self, source: str, line: int) -> int:
        text = self.source_text(source)
        if text is None:
            return 1
        lines = text.splitlines()
        if not 0 < line <= len(lines):
            return 1
        here = lines[line - 1]
        return len(here) - len(here.lstrip()) + 1

    def _request(self, doc: RenderedDoc, obj: Any, path: Sequence[Any], must: tuple[list[str], Any], finding: Finding, sources: dict[int, str]) -> _HintRequest | None:
        keys, value = must
        path = _base_path(path, keys)
        whole = node_span(obj, list(path))
        if whole is None:
            return None
        node_path = list(path)
        for key in keys:
            if node_span(obj, [*node_path, key]) is None:
                break
            node_path.append(key)
        near_span = node_span(obj, node_path) or whole
        key_line, _ = locate(obj, node_path)
        parts = doc.template.split("/")
        prefix: list[str] = []
        while len(parts) >= 3 and parts[0] == "charts":
            prefix.append(parts[1])
            parts = parts[2:]
        return _HintRequest(
            obj,
            tuple(path),
            keys,
            value,
            prefix,
            _lines_by_source(doc.origins, sources, min(key_line.line, near_span.line), near_span.end_line),
            _lines_by_source(doc.origins, sources, whole.line, whole.end_line),
            finding.rule_id,
            finding.message,
            (finding.logical.kind, finding.logical.namespace or "", finding.logical.name or "") if finding.logical else _obj_id(obj.data),
            doc.template,
        )


# --------------------------------------------------------------------------- values hints

_NAMED = re.compile(r'containers? ((?:"[^"]+"(?:,\s*|\s+and\s+)?)+)')
_QUOTED = re.compile(r'"([^"]+)"')


def _containers(message: str) -> set[str]:
    """The container names a Pod Security message is about."""
    return {name for m in _NAMED.finditer(message) for name in _QUOTED.findall(m.group(1))}


_HINT_RENDERS = 12  # renders per chart spent on checking hints
_CANDIDATES = 6  # values keys tried per finding


def _nest(keys: Sequence[str], value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(keys):
        out = {key: out}
    return out


def _lookup(values: Any, keys: Sequence[str]) -> tuple[bool, Any]:
    for key in keys:
        if not isinstance(values, dict) or key not in values:
            return False, None
        values = values[key]
    return True, values


def _with_hint(ctx: _Chart, item: _Found, key: list[str] | None) -> Finding:
    """The finding with its values hint: ``key`` (checked by ``_Hints``) set to the value it
    needs, in the message, as a related location on values.yaml and as an unsafe fix of it."""
    req = item.request
    finding = item.finding
    if req is None or key is None:
        return finding
    dotted = ".".join(key)
    shown = json.dumps(req.value) if not isinstance(req.value, str) else req.value
    related = list(finding.related)
    values_text = ctx.values_text
    if values_text is not None:
        line = _values_line(values_text, dotted) or 1
        related.append(Related(f"{ctx.base}/values.yaml", Region.point(line), f"value `{dotted}`"))
    fix = None
    target = f"{ctx.base}/values.yaml"
    if values_text is not None:
        # unsafe like the manifest fixes: the workload may rely on what the value forbids
        fix = values_fix(target, values_text, dotted, req.value, f"Set `{dotted}: {shown}` in values.yaml", "unsafe")
        if fix is not None:
            fix = replace(fix, path=target)
    return replace(
        finding,
        message=f"{finding.message} (set `{dotted}: {shown}` in values.yaml)",
        related=tuple(related),
        fix=fix,
        properties=(*finding.properties, ("pitfall/values-key", dotted), ("pitfall/values-value", json.dumps(req.value))),
    )


class _Hints:
    """"set K: V in values.yaml" only where rendering the chart again with that value made the
    finding go away (and left its object in place); no hint where no single key does."""

    def __init__(self, ctx: _Chart) -> None:
        self.ctx = ctx
        self.cache: dict[str, tuple[set[tuple[str, str, str]], set[tuple[str, tuple[str, str, str], str]]] | None] = {}
        self.renders = 0

    def _candidates(self, req: _HintRequest) -> list[list[str]]:
        refs: list[str] = []
        for ranges in (req.near, req.around):
            for source, (lo, hi) in ranges.items():
                text = self.ctx.source_text(source)
                if text is None:
                    continue
                for line in text.splitlines()[lo - 1 : hi]:
                    for m in _VALUES_REF.finditer(line):
                        ref = m.group(1)[1:]
                        if ref not in refs:
                            refs.append(ref)
        depth = 0
        for key in req.keys:
            if node_span(req.doc, [*req.obj_path, *req.keys[: depth + 1]]) is None:
                break
            depth += 1
        scope = req.prefix
        # where the value may sit: first the level the output stops at, then deeper (a value
        # left out while empty: `{{- with .Values.x }}`), then shallower
        levels = [*range(depth, len(req.keys)), *range(depth - 1, -1, -1)]
        out: list[list[str]] = []
        for ref in refs:
            base = [*scope, *ref.split(".")]
            exists, current = _lookup(self.ctx.merged, base)
            if not exists or not (current is None or isinstance(current, dict)):
                continue  # only a map the chart already has can take the key
            for j in levels:
                cand = [*base, *req.keys[j:]]
                if cand not in out:
                    out.append(cand)
        return out[:_CANDIDATES]

    def find(self, item: _Found) -> list[str] | None:
        """The values key whose value (the finding's) makes the finding go away, or None."""
        req = item.request
        if req is None:
            return None
        for cand in self._candidates(req):
            seen = self._render(item.overlay, _nest(cand, req.value), req.template)
            if seen is None:
                continue
            objects, findings = seen
            if req.obj not in objects:
                continue  # the value removed the object: not a fix
            # gone when no finding of the rule on the object names any of its containers (the
            # finding's place in the output may move: compare names, not paths)
            names = _containers(req.message)
            if not any(rule == req.rule_id and obj == req.obj and (not names or names & _containers(m)) for rule, obj, m in findings):
                return cand
        return None

    def _render(self, overlay: dict[str, Any] | None, extra: dict[str, Any], template: str) -> tuple[set[tuple[str, str, str]], set[tuple[str, tuple[str, str, str], str]]] | None:
        merged = merge_maps(overlay or {}, extra)
        key = json.dumps([template, merged], sort_keys=True, default=str)
        if key in self.cache:
            return self.cache[key]
        if self.renders >= _HINT_RENDERS:
            return None
        self.renders += 1
        result = self.ctx.render(merged, origins=False)
        seen: tuple[set[tuple[str, str, str]], set[tuple[str, tuple[str, str, str], str]]] | None = None
        if not any(p.severity == "error" for p in result.problems):
            # only the template that wrote the object is analysed again: a "must set" finding
            # is about the object itself
            mine = [d for doc in result.docs if doc.template == template for d in load_documents(doc.text).documents if is_object(d.data)]
            found = {
                (f.rule_id, (f.logical.kind, f.logical.namespace or "", f.logical.name or "") if f.logical else ("", "", ""), f.message)
                for f, _, _ in self.ctx.kube.analyze_documents(self.ctx.base, mine, mine)
            }
            seen = ({_obj_id(d.data) for d in mine}, found)
        self.cache[key] = seen
        return seen
