"""Render Helm charts offline with Helm's own engine, for the Kubernetes analyzer.

:func:`render` turns a chart (directory or packaged ``.tgz``) plus values into
:class:`RenderedDoc` objects — one per YAML document Helm would emit, tagged
with the template that produced it — and :class:`HelmProblem` objects for
everything that stopped or limited the render.  Nothing is contacted: the
template function ``lookup`` returns empty results, no repository is fetched,
and the user's chart is never written to.

Backends
========

* ``"sdk"`` — helm_python (ctypes binding to ``libhelm_c``, Helm v4.2.3's Go
  SDK).  Used by ``backend="auto"`` whenever ``helm_python`` is importable.
* ``"helm"`` — ``helm template`` from ``PATH`` (no shell, same values, same
  timeout); its stdout is split with :func:`split_rendered`.  Used when asked
  for, or by ``"auto"`` when helm_python cannot be imported.  If neither
  exists the result carries one ``render-error`` saying so.

Timeouts: with ``timeout > 0`` (the default) the SDK work runs in a renderer process that is
stopped when the budget is spent (problem kind ``timeout``); see ``pool``. ``timeout <= 0``
renders in this process (cheapest, but cannot be stopped).

The modules
===========

* ``model``: the data types; ``chart``: chart discovery and Chart.yaml; ``values``: merging
  and value profiles; ``semver``: version constraints; ``dependencies``: offline resolution;
  ``staging``: the temporary copy a chart is rendered from; ``tree``: nothing outside the
  scanned tree is read; ``backends``: helm_python and the ``helm`` binary; ``pool`` (pebble):
  renderer processes with a time budget; ``tempdirs``: the run's temporary folder;
  ``output``: splitting output as Helm does; ``messages``: Helm's errors as problems;
  ``origin``: template line of each rendered line; ``unit``: the chart unit.

What Helm does, and what is ours
================================

Helm's own code (helm_python) loads, validates and renders the chart, parses values files and
``--set`` strings and coalesces values with the defaults of the chart and its subcharts, and
lints. Ours, each with the reason in its module: :func:`chart_info` (before the render, with
file and line, without the Go runtime in this process), version constraints (not exposed),
merging values files and ``--set`` into the values so far (not exposed), offline dependency
resolution from ``file://`` and ``chart-dirs`` (Helm's needs repositories), and the Python
approximation of values for the ``helm`` binary where helm_python cannot be imported.

Output: ``linter.helm.output`` says how rendered text becomes documents.

helm_python facts (0.2.2, libhelm_c 0.2.2, Helm SDK v4.2.3)
===========================================================

API (all offline unless noted; every failure raises a ``HelmError`` subclass
with ``.code`` (the C ABI ``helm_error_code``) and ``.detail``/``str()`` =
Helm's message):

* ``Chart.load(path) -> Chart`` — directory or ``.tgz``.  Raises
  ``HelmChartLoadError`` (code -20) for: invalid Chart.yaml YAML
  (``cannot load Chart.yaml: error converting YAML to JSON: yaml: line 3:
  ...``), metadata validation (``validation: chart.metadata.version is
  required`` / ``... "x" is invalid`` / ``chart.metadata.type must be
  application or library``), ``Chart.yaml file is missing``, invalid
  values.yaml (``cannot load values.yaml: cannot unmarshal yaml document:
  ...``), broken subcharts (``error unpacking subchart <entry> in <parent>:
  ...``), missing paths (``stat <path>: no such file or directory``).  A
  Chart.yaml without ``apiVersion`` loads fine.
* ``Chart.load_archive(data: bytes)``, ``Chart.create(name, directory) ->
  Chart`` (scaffold: NOTES.txt, _helpers.tpl, deployment, hpa, httproute,
  ingress, service, serviceaccount, tests/test-connection; ingress/hpa/
  httproute disabled by default), ``Chart.create_from(name, dir, starter)``.
* Properties: ``metadata`` (Chart.yaml dict), ``name``, ``version``,
  ``values`` (defaults), ``files``, ``templates``, ``crds``, ``schema``,
  ``dependencies`` (metadata of subcharts actually *loaded* from charts/;
  declared-but-absent ones only appear in ``metadata``).
* ``Chart.merge_values(values=None) -> dict`` — Helm's coalesce (chart and
  subchart defaults + overrides, ``null`` deletes a key).
* ``Chart.validate_schema(values=None)`` — ``HelmValuesError``.
* ``Chart.render(values=None, *, name=None, namespace=None, revision=None,
  is_install=None, is_upgrade=None) -> dict[str, str]`` — keys are template
  names ``<chart name>/templates/x.yaml`` and
  ``<chart name>/charts/<sub name or alias>/templates/x.yaml`` (partials
  ``_*.tpl`` excluded, NOTES.txt *included*, files rendering to blank
  included); values are the whole template output, *without* ``# Source:``
  lines and not split.  ``lookup`` returns empty.  Dependency
  ``condition``/``tags`` (and aliases) are honoured — and disabled subcharts
  are **removed from the loaded Chart object**, so a Chart must be loaded
  afresh for every render.  Declared dependencies missing from charts/ are
  silently ignored (no "missing in charts/" error, unlike ``helm install``).
  Errors: ``HelmRenderError`` (code -23) with Helm's text, e.g.
  ``execution error at (demo/templates/x.yaml:3:6): msg`` (``required``,
  ``fail``), ``demo/templates/x.yaml:3:13\\n  executing "..." at
  <.Values.a.b>:\\n    nil pointer evaluating interface {}.b`` (nil pointer;
  an ``include`` chain nests the inner location after ``error calling
  include:``), ``parse error at (demo/templates/x.yaml:3): unclosed action
  started at demo/templates/x.yaml:2`` / ``function "f" not defined``;
  ``HelmValuesError`` (-22) for values.schema.json failures
  (``values don't meet the specifications of the schema(s) in the following
  chart(s):\\n<chart>:\\n- at '/key': got string, want integer``).  The
  engine does not YAML-parse its output (``helm template`` would).
* ``Chart.save(dest) -> tgz path`` (subcharts stored as directories),
  ``Chart.save_dir(dest)``; ``package(path, *, destination=None,
  version=None, app_version=None) -> tgz path`` refuses charts whose
  declared dependencies are missing (``HelmChartInvalidError``); ``expand(
  destination, archive)`` unpacks to ``destination/<name>/``.
* ``lint(path, values=None, *, strict=None, namespace=None,
  with_subcharts=None, quiet=None, skip_schema_validation=None,
  kube_version=None) -> {"total_charts_linted", "messages": [{"severity":
  0..3, "path": "Chart.yaml" | "templates/" | "values.yaml" | <abs chart
  dir>, "error": str}], "errors": [str]}`` — severities 1 info, 2 warning,
  3 error; lint renders templates (so it can loop too) and warns
  ``chart directory is missing these dependencies: x``.
* ``dependency_list(chart_dir_or_tgz) -> [{"name", "version", "repository",
  "status": "ok"|"missing"|"unpacked"|"wrong version"|...}]``;
  ``dependency_build``/``dependency_update`` need repositories (network).
  helm_python exposes no semver constraint matcher: ``semver.satisfies``
  implements Masterminds/semver v3 rules (Helm's).
* ``values_from_yaml(text) -> dict`` (Helm's ``-f`` parser: YAML 1.1 booleans,
  numbers through float64, only the first document; top-level non-mapping ->
  ``HelmValuesError``); ``parse_set_string`` (``--set``: ``a.b=1,c={x,y}``,
  ``a[1]=x`` -> ``{"a": [None, "x"]}``), ``parse_set_string_values``,
  ``parse_set_json``, ``parse_set_literal``, ``parse_set_file``.
* Loading a chart through symlinks logs ``INFO found symbolic link in path``
  straight to fd 2 (Go slog; ``disable_logging`` does not silence it), so the
  temporary chart copies below use hard links or copies, never symlinks.
* Importing helm_python loads the Go runtime (~70 ms, ~60 MB RSS).
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from linter.helm import backends
from linter.helm.chart import chart_info, is_archive
from linter.helm.dependencies import Plan, missing_problems, plan_dependencies
from linter.helm.messages import clean_message, locate, problem_from_failure
from linter.helm.model import ChartInfo, HelmChartError, HelmProblem, RenderedDoc, RenderResult
from linter.helm.output import docs_from_manifests, split_rendered
from linter.helm.staging import STAGED, STAGED_TEMPS, assemble, chart_overrides, instrument
from linter.helm.tempdirs import temporary_directory
from linter.helm.tree import SCAN_TREE, chart_relative, files_refusals, link_problems, outside_links, real, within

__all__ = ["lint_chart", "render"]

_BACKENDS = ("auto", "sdk", "helm")


def render(
    chart: Path,
    *,
    values_files: Sequence[Path] = (),
    set_values: Sequence[str] = (),
    extra_values: dict | None = None,
    release: str = "release-name",
    namespace: str = "default",
    timeout: float = 30.0,
    chart_dirs: Sequence[Path] = (),
    backend: str = "auto",
    info: ChartInfo | None = None,
    tree: Path | None = None,
    origins: bool = False,
) -> RenderResult:
    """Render ``chart`` (directory, Chart.yaml, or packaged .tgz) offline.

    Values: chart defaults < each of ``values_files`` in order <
    ``extra_values`` < each ``set_values`` (``--set`` syntax).  Never raises
    for a chart problem: they come back as :class:`HelmProblem`.  See the
    module docs for backends, timeouts and dependency resolution. ``info``: the chart's
    :func:`chart_info`, when the caller has read it already.  ``tree`` (default
    :data:`SCAN_TREE`): the scanned tree; a symbolic link in the chart, a ``file://``
    dependency or a values file leading outside it is refused (left out, and a problem of
    kind ``outside-tree`` or ``missing-dependency`` says so), and the rest still renders.
    ``origins``: render a copy whose templates carry origin markers (see helmorigin), so that
    each document knows the template line of each of its lines (not for a packaged chart).
    """
    if tree is None:
        tree = SCAN_TREE.get()
    if backend not in _BACKENDS:
        raise ValueError(f"unknown Helm backend {backend!r}; expected one of {', '.join(_BACKENDS)}")
    chart = Path(chart)
    if chart.name == "Chart.yaml" and chart.is_file():
        chart = chart.parent
    packaged = is_archive(chart)
    root = chart
    replace: dict[str, str] = {}

    info_error: HelmChartError | None = None
    if not packaged and not chart.is_dir():
        return RenderResult((), (HelmProblem("Chart.yaml", 1, f"no chart at {chart}", "invalid-chart", "error"),), {})
    if info is None:
        try:
            info = chart_info(chart)
        except HelmChartError as exc:
            info_error = exc
    if info is not None and info.type == "library":
        return RenderResult((), (), {})

    req = {
        "op": "render",
        "values_files": [os.path.abspath(f) for f in values_files],
        "extra_values": extra_values or {},
        "set_values": list(set_values),
        "release": release,
        "namespace": namespace,
    }

    use_sdk = backend == "sdk" or (backend == "auto" and backends.sdk_available())
    helm_bin = None if use_sdk else shutil.which("helm")
    if not use_sdk and helm_bin is None:
        msg = (
            "no Helm renderer is available: install helm-python (`pip install helm-python`) or put the"
            " `helm` binary on PATH"
        )
        if backend == "helm":
            msg = "the helm backend was requested but no `helm` binary is on PATH"
        return RenderResult((), (HelmProblem("Chart.yaml", 1, msg, "render-error", "error"),), {})

    problems: list[HelmProblem] = []
    refused: list[tuple[str, str]] = []
    if tree is not None:
        kept_values = []
        for f in req["values_files"]:
            if within(f, tree):
                kept_values.append(f)
            else:
                problems.append(
                    HelmProblem(
                        "Chart.yaml",
                        1,
                        f"refused values file {f}: it resolves to {real(f)}, outside the scanned tree, which is never read",
                        "outside-tree",
                        "warning",
                    )
                )
        req["values_files"] = kept_values
        if not packaged:
            refused = outside_links(chart, tree)
            problems.extend(link_problems(refused))
            problems.extend(files_refusals(chart, tree))
    plan = Plan()
    if tree is not None and info is not None and info.dependencies:
        for d in chart_dirs:
            if not within(d, tree):
                problems.append(
                    HelmProblem(
                        "Chart.yaml",
                        1,
                        f"refused chart-dirs folder {d}: it resolves to {real(d)}, outside the scanned tree, which is never read",
                        "outside-tree",
                        "warning",
                    )
                )
    if info is not None:
        try:
            plan = plan_dependencies(info, packaged, [Path(d) for d in chart_dirs], tree)
        except OSError as exc:
            problems.append(HelmProblem("Chart.yaml", 1, f"cannot inspect the chart's dependencies: {exc}", "invalid-chart", "error"))
    if tree is not None:
        for dep, cand in plan.add:
            if cand.path.is_dir():
                for rel, target_path in outside_links(cand.path, tree):
                    problems.append(
                        HelmProblem(
                            str(dep.get("_file") or "Chart.yaml"),
                            int(dep.get("_line") or 1),
                            f'refused {rel} in dependency "{cand.name}" ({cand.path}): it is a symbolic link to'
                            f" {target_path}, outside the scanned tree, so it was left out of the render",
                            "outside-tree",
                            "warning",
                        )
                    )

    docs: list[RenderedDoc] = []
    merged: dict = {}
    marked = origins and not packaged
    overrides = chart_overrides(chart) if not packaged else {}
    stage = bool(plan.add or plan.missing or refused or marked or overrides)
    reuse = STAGED.get()
    stage_key = (
        str(chart),
        marked,
        tuple(str(c.path) for _, c in plan.add),
        tuple(str(d.get("name")) for d, _ in plan.missing),
        tuple(refused),
        str(tree),
        tuple(sorted(overrides.items())),
    )
    kept = reuse.get(stage_key) if reuse is not None and stage else None
    stage_tmp = temporary_directory() if stage and kept is None else None
    tmp_obj = stage_tmp if reuse is None else None  # removed when this render ends
    cli_tmp: tempfile.TemporaryDirectory | None = None
    nonce: str | None = None
    sources: dict[int, str] = {}
    try:
        target: Path | None = chart
        if kept is not None:
            target, sources, nonce = kept
            if target is not None:
                replace[str(target)] = str(chart)
        elif stage_tmp is not None:
            try:
                placed: dict[Path, Path] = {}
                target = assemble(chart, packaged, info, plan, Path(stage_tmp.name), tree, placed=placed)
                replace[str(target)] = str(chart)
                for rel, text in overrides.items():
                    staged = target / rel
                    if staged.is_file():  # a file the copy holds (never a new path)
                        staged.unlink()  # may be a hard link to the user's file
                        staged.write_text(text, encoding="utf-8")
                if marked:
                    from linter.helm import origin as helmorigin

                    nonce = helmorigin.new_nonce()
                    sources = instrument(target, placed, nonce)
            except (OSError, tarfile.TarError, HelmChartError, ValueError) as exc:
                problems.append(HelmProblem("Chart.yaml", 1, f"cannot prepare the chart for rendering: {exc}", "invalid-chart", "error"))
                # never render the chart itself when that would read outside the scanned tree
                target = None if refused else chart
            if reuse is not None:
                reuse[stage_key] = (target, sources, nonce) if target != chart else (chart, {}, None)
                STAGED_TEMPS.get().append(stage_tmp)
        chart_name = info.name if info is not None else None
        chart_line = info_error.line if info_error is not None else 1
        if target is None:
            use_sdk = True  # nothing to render: skip both backends
        elif use_sdk:
            req["chart"] = os.path.abspath(target)
            resp = backends.run_sdk(req, timeout)
            if resp.get("stage") == "unavailable" and backend == "auto" and shutil.which("helm"):
                use_sdk = False
            elif resp.get("ok"):
                docs = docs_from_manifests(resp["manifests"], nonce)
                merged = resp.get("values") or {}
            else:
                problems.append(problem_from_failure(_unmarked(resp, nonce), root=root, chart_name=chart_name, replace=replace, timeout=timeout, chart_line=chart_line))
        if not use_sdk and target is not None:
            helm_bin = helm_bin or shutil.which("helm") or "helm"
            cli_tmp = temporary_directory()
            merged, values_problem = backends.cli_values(root, target, packaged, req, timeout, chart_name, tree)
            if values_problem is not None:
                problems.append(values_problem)
            else:
                resp = backends.render_cli(helm_bin, target, req, Path(cli_tmp.name), timeout)
                if resp.get("ok"):
                    stream, line_origins = resp["stream"], None
                    if nonce is not None:
                        from linter.helm import origin as helmorigin

                        stream, line_origins = helmorigin.strip(stream, nonce)
                    docs = split_rendered(stream, line_origins)
                else:
                    problems.append(problem_from_failure(_unmarked(resp, nonce), root=root, chart_name=chart_name, replace=replace, timeout=timeout, chart_line=chart_line))
        if info_error is not None and not any(p.kind == "invalid-chart" for p in problems):
            # Helm accepted what our reading of Chart.yaml rejected: still say so.
            problems.append(HelmProblem(info_error.path, info_error.line, info_error.message, "invalid-chart", "error"))
        rendered_ok = not any(p.severity == "error" for p in problems)
        problems[:0] = missing_problems(plan, merged, rendered_ok)
    finally:
        if tmp_obj is not None:
            tmp_obj.cleanup()
        if cli_tmp is not None:
            cli_tmp.cleanup()
    return RenderResult(tuple(docs), tuple(problems), merged, sources)


def _unmarked(resp: dict, nonce: str | None) -> dict:
    """A failed render's response without origin markers in its message."""
    if nonce is None or "message" not in resp:
        return resp
    from linter.helm import origin as helmorigin

    return {**resp, "message": helmorigin.marker_pattern(nonce).sub("", str(resp["message"]))}


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------

_LINT_SEVERITY = {3: "error", 2: "warning", 1: "note", 0: "note"}


def lint_chart(
    chart: Path, values: dict | None = None, *, timeout: float = 30.0, tree: Path | None = None, chart_dirs: Sequence[Path] = ()
) -> list[HelmProblem]:
    """Helm's own lint messages (``helm_python.lint``) as problems of kind
    ``lint``.  Runs in the worker when ``timeout > 0`` (lint renders the
    templates, so it can loop too).  Without helm_python: no messages.
    ``tree`` (default :data:`SCAN_TREE`): a chart with symbolic links leading outside it is
    linted from a copy without them (:func:`render` reports the refusals). ``chart_dirs``:
    dependencies are taken from there as :func:`render` takes them, so Helm's lint sees the
    chart that is rendered."""
    chart = Path(chart)
    if chart.name == "Chart.yaml" and chart.is_file():
        chart = chart.parent
    if not backends.sdk_available():
        return []
    if tree is None:
        tree = SCAN_TREE.get()
    plan = Plan()
    if chart_dirs and chart.is_dir():
        try:
            plan = plan_dependencies(chart_info(chart), False, [Path(d) for d in chart_dirs], tree)
        except (OSError, HelmChartError):
            plan = Plan()
    if chart.is_dir() and (plan.add or (tree is not None and outside_links(chart, tree))):
        with temporary_directory() as tmp:
            try:
                staged = assemble(chart, False, None, Plan(add=plan.add), Path(tmp), tree)
            except (OSError, HelmChartError, ValueError, tarfile.TarError):
                return []
            problems = _lint_chart(staged, values, timeout)
        return [HelmProblem(p.path, p.line, p.message.replace(str(staged), str(chart)), p.kind, p.severity) for p in problems]
    return _lint_chart(chart, values, timeout)


def _lint_chart(chart: Path, values: dict | None, timeout: float) -> list[HelmProblem]:
    resp = backends.run_sdk({"op": "lint", "chart": os.path.abspath(chart), "values": values}, timeout)
    try:
        name: str | None = chart_info(chart).name
    except HelmChartError:
        name = None
    if not resp.get("ok"):
        if resp.get("stage") == "unavailable":
            return []
        p = problem_from_failure(resp, root=chart, chart_name=name, replace={}, timeout=timeout)
        return [HelmProblem(p.path, p.line, p.message, "timeout" if p.kind == "timeout" else "lint", p.severity)]
    problems = []
    files_root = chart if chart.is_dir() else None
    for msg in resp["report"].get("messages") or ():
        raw = str(msg.get("error", ""))
        path = str(msg.get("path", "") or "")
        loc_path, line = locate(raw, name, files_root)
        if loc_path is not None:
            path = loc_path
        elif os.path.isabs(path):
            path = chart_relative(Path(path), chart)
            path = "Chart.yaml" if path in (".", "") or os.path.isabs(path) else path
        if not path or path.endswith("/"):
            path = path or "Chart.yaml"
        severity = _LINT_SEVERITY.get(int(msg.get("severity", 0) or 0), "note")
        problems.append(HelmProblem(path, line, clean_message(raw, name), "lint", severity))
    return problems
