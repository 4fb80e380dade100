"""The two ways a chart is rendered: helm_python (the SDK, in a renderer process of ``pool``,
or in this process when there is no time budget) and the ``helm`` binary.

``run_sdk_in_process`` is also what the renderer runs: a request (a JSON-like dictionary) in,
an answer out, never an exception. Values files, ``--set`` strings and the chart's defaults
are read and merged by Helm's own code there (``values_from_yaml``, ``parse_set_string``,
``Chart.merge_values``), for the ``helm`` binary's renders too (``cli_values``), so the
calling process never loads the Go runtime.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

# the renderer imports this module: what only this process needs is imported where it is used
from linter.helm import pool as helmpool
from linter.helm.values import coalesce, merge_maps, merge_set, parse_set_fallback
from linter.kubernetes.yamldocs import SAFE_LOADER

if TYPE_CHECKING:
    from linter.helm.model import HelmProblem


@functools.lru_cache(maxsize=1)
def sdk_available() -> bool:
    return importlib.util.find_spec("helm_python") is not None


def _sdk_job(req: dict) -> dict:
    """One SDK request: {"op": "render"|"lint", ...} -> JSON-able response."""
    import helm_python as hp

    def failure(stage: str, exc: BaseException, **extra: Any) -> dict:
        return {"ok": False, "stage": stage, "type": type(exc).__name__, "message": str(exc), **extra}

    if req["op"] == "lint":
        try:
            return {"ok": True, "report": hp.lint(req["chart"], req.get("values"))}
        except hp.HelmError as exc:
            return failure("lint", exc)

    values: dict = {}
    for f in req.get("values_files", ()):
        try:
            text = Path(f).read_text(encoding="utf-8")
            values = merge_maps(values, hp.values_from_yaml(text))
        except (OSError, UnicodeDecodeError, hp.HelmError) as exc:
            return failure("values-file", exc, file=f)
    values = merge_maps(values, req.get("extra_values") or {})
    for expr in req.get("set_values", ()):
        try:
            values = merge_set(values, hp.parse_set_string(expr))
        except hp.HelmError as exc:
            return failure("set", exc, expr=expr)
    try:
        chart = hp.Chart.load(req["chart"])
    except hp.HelmError as exc:
        if req["op"] == "values":  # `helm template` reports the chart's error itself
            return {"ok": True, "values": values}
        return failure("load", exc)
    with chart:
        try:
            if req["op"] == "values":  # the values a `helm template` render uses (Helm's coalesce)
                return {"ok": True, "values": chart.merge_values(values)}
            merged = chart.merge_values(values)
            # render() drops disabled subcharts from the loaded chart, so the
            # merge above must come first and the chart must not be reused.
            manifests = chart.render(values, name=req["release"], namespace=req["namespace"], is_install=True)
        except hp.HelmError as exc:
            return failure("render", exc)
    return {"ok": True, "manifests": manifests, "values": merged}


def run_sdk_in_process(req: dict) -> dict:
    try:
        import helm_python  # noqa: F401  (may also fail loading the native library)
    except Exception as exc:
        return {"ok": False, "stage": "unavailable", "type": type(exc).__name__, "message": str(exc)}
    try:
        return _sdk_job(req)
    except Exception as exc:  # a broken native library must not escape render()
        return {"ok": False, "stage": "crash", "type": type(exc).__name__, "message": str(exc)}


def run_sdk(req: dict, timeout: float) -> dict:
    if timeout is None or timeout <= 0:
        return run_sdk_in_process(req)
    return helmpool.run(run_sdk_in_process, req, timeout)


def _classify_cli(stderr: str) -> str:
    text = stderr
    if re.search(r"Chart\.yaml|validation: chart\.|error unpacking subchart|cannot load |chart metadata", text):
        return "load"
    return "render"


def render_cli(
    helm: str,
    chart: Path,
    req: dict,
    tmp: Path,
    timeout: float,
) -> dict:
    args = [helm, "template", req["release"], str(chart), "--namespace", req["namespace"]]
    for f in req["values_files"]:
        args += ["--values", f]
    if req.get("extra_values"):
        extra = tmp / "pitfall-extra-values.json"
        extra.write_text(json.dumps(req["extra_values"]), encoding="utf-8")
        args += ["--values", str(extra)]
    for expr in req["set_values"]:
        args += ["--set", expr]
    try:
        proc = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout if timeout and timeout > 0 else None,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "stage": "timeout"}
    except OSError as exc:
        return {"ok": False, "stage": "crash", "type": type(exc).__name__, "message": f"cannot run {helm}: {exc}"}
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        kind = _classify_cli(err)
        return {"ok": False, "stage": kind, "type": "HelmChartLoadError" if kind == "load" else "HelmRenderError", "message": err.strip() or f"helm exited with code {proc.returncode}", "args": args}
    return {"ok": True, "stream": out, "args": args}


def cli_values(
    chart_root: Path, target: Path, packaged: bool, req: dict, timeout: float, chart_name: str | None, tree: Path | None = None
) -> tuple[dict, HelmProblem | None]:
    """Merged values for a ``helm template`` render: computed by Helm's own code (values files,
    ``--set``, coalesce with the chart's and its subcharts' defaults) in the renderer process
    when helm_python is installed; else a Python approximation (the chart's own defaults only)."""
    from linter.helm.messages import problem_from_failure

    if sdk_available():
        resp = run_sdk({**req, "op": "values", "chart": os.path.abspath(target)}, timeout)
        if resp.get("ok"):
            return resp.get("values") or {}, None
        if resp.get("stage") != "unavailable":
            return {}, problem_from_failure(resp, root=chart_root, chart_name=chart_name, replace={str(target): str(chart_root)}, timeout=timeout)
    return _python_values(chart_root, packaged, req, tree)


def _python_values(chart_root: Path, packaged: bool, req: dict, tree: Path | None = None) -> tuple[dict, HelmProblem | None]:
    """:func:`cli_values` without helm_python."""
    import tarfile

    import yaml

    from linter.helm.chart import archive_files
    from linter.helm.model import HelmProblem
    from linter.helm.tree import chart_relative, within

    try:
        if packaged:
            text = archive_files(chart_root, ("values.yaml",))[1].get("values.yaml", "")
        else:
            p = chart_root / "values.yaml"
            text = p.read_text(encoding="utf-8") if p.is_file() and (tree is None or within(p, tree)) else ""
        defaults = yaml.load(text, Loader=SAFE_LOADER) or {}
    except (OSError, UnicodeDecodeError, tarfile.TarError, yaml.YAMLError):
        defaults = {}
    user: dict = {}
    for f in req["values_files"]:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
            return {}, HelmProblem(chart_relative(Path(f), chart_root), line, f"cannot read values file: {exc}", "render-error", "error")
        if isinstance(data, dict):
            user = merge_maps(user, data)
    user = merge_maps(user, req.get("extra_values") or {})
    for expr in req["set_values"]:
        try:
            parsed = parse_set_fallback(expr)
        except Exception as exc:
            return {}, HelmProblem("Chart.yaml", 1, f"invalid --set value {expr!r}: {exc}", "render-error", "error")
        user = merge_set(user, parsed)
    return coalesce(defaults if isinstance(defaults, dict) else {}, user), None
