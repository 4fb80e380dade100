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

Timeouts and the child process
==============================

A Go call cannot be interrupted from Python, and a template such as
``{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`` runs
for hours.  So with ``timeout > 0`` (the default) the SDK work runs in a child
process which is killed when the deadline passes (problem kind ``timeout``).

The child is a *persistent* worker: ``python -c <boot>`` loading this very
file under a private module name (so a heavy ``linter/__init__`` is never
imported there), importing helm_python once, then serving one JSON request
per line on stdin/stdout.  Idle workers are pooled (one per concurrent
caller, at most ``os.cpu_count()`` kept idle) and closed at exit; a worker
that timed out is killed and replaced lazily.  ``fork`` is never used: the
parent may already have the Go runtime loaded, and Go does not survive
``fork``.  The parent does not need to load the Go library at all on this
path (values files and ``--set`` strings are parsed in the worker, with
Helm's own parsers).

Measured on the development machine (scaffold chart from ``Chart.create``):

* raw SDK (Chart.load + merge_values + render): ~1.25 ms;
* ``render(timeout=0)`` in-process: ~2.4 ms (plus ~60 ms once, the first
  time, to import helm_python and start the Go runtime);
* ``render()`` through the warm worker: ~2.7 ms (JSON round trip included);
  through a new worker: ~110 ms (python start + importing helm_python).

``timeout <= 0`` renders in-process (cheapest, but cannot be stopped).

A new worker costs ~0.1-0.2 s of start-up, so a run that will render charts
calls :func:`prestart` early (before it loads its rule packs): the renderer
processes start while the caller is still busy.  The processes of the run's
process pool, forked later, inherit them and each claims one through a
token pipe (one byte per prestarted renderer; a one-byte read is atomic
across processes).  A claimed renderer may not be a child of the claiming
process, so liveness comes from its stdout (end of file) and killing from
``os.kill``, never from ``Popen.poll``.

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
  helm_python exposes no semver constraint matcher: :func:`satisfies`
  implements Masterminds/semver v3 rules (Helm's) here.
* ``values_from_yaml(text) -> dict`` (Helm's ``-f`` parser: YAML 1.1 booleans,
  numbers through float64, only the first document; top-level non-mapping ->
  ``HelmValuesError``); ``parse_set_string`` (``--set``: ``a.b=1,c={x,y}``,
  ``a[1]=x`` -> ``{"a": [None, "x"]}``), ``parse_set_string_values``,
  ``parse_set_json``, ``parse_set_literal``, ``parse_set_file``.
* Loading a chart through symlinks logs ``INFO found symbolic link in path``
  straight to fd 2 (Go slog; ``disable_logging`` does not silence it), so the
  temporary chart copies below use hard links or copies, never symlinks.
* Importing helm_python loads the Go runtime (~70 ms, ~60 MB RSS).

Output
======

Like ``helm template``: NOTES.txt, partials (``_*``) and templates that
render blank are left out, hooks and test pods are kept, files under
``crds/`` are not included (no ``--include-crds``).  Templates are named as
Helm names them, so an aliased subchart's appear under
``charts/<alias>/...``.  Documents are in template-path order, then in-file
order (not Helm's kind order).  Rendered YAML is not parsed here; that is
the Kubernetes analyzer's job.

Dependencies
============

Declared dependencies missing from charts/ (directory or ``.tgz``, matched by
chart name as Helm does) are resolved, in order, from a ``file://``
repository path (relative to the chart) and from ``chart_dirs`` (each may be
a chart, or hold chart directories and ``.tgz`` archives; an ``index.yaml`` /
``*-index.yaml`` there tells where an archive comes from, and then its
repository URL must match the dependency's).  The version constraint must be
satisfied; the highest satisfying candidate wins.  The chart is then
rendered from a temporary copy (hard links) with the resolved charts added to
charts/ and unresolvable entries dropped from Chart.yaml; each unresolvable
entry is a ``missing-dependency`` problem on its Chart.yaml line (a ``note``
when its condition/tags disable it for the values used, else a
``warning``).

The scanned tree
================

Nothing outside the scanned tree (``tree=``, or :data:`SCAN_TREE`, which the chart unit sets)
is read into a render: a symbolic link anywhere in the chart (or in a ``file://`` dependency)
leading outside it is left out of a temporary copy the chart is rendered (and linted) from, a
``file://`` dependency or values file outside it is not read, and a ``.Files.Get``/``.Files.Glob``
of a literal path outside the chart (which Helm answers with nothing) is pointed out.  Each
refusal is a problem (kind ``outside-tree``, or ``missing-dependency`` with the reason) naming the
path; the rest of the chart still renders.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import functools
import importlib.util
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from contextvars import ContextVar
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the renderer process loads this file alone, without its package
    from linter.helm.origin import Origin

__all__ = [
    "PROFILES",
    "ChartInfo",
    "HelmChartError",
    "HelmProblem",
    "RenderResult",
    "RenderedDoc",
    "chart_info",
    "find_chart_root",
    "lint_chart",
    "profile_values",
    "render",
    "satisfies",
    "split_rendered",
    "SCAN_TREE",
    "within",
    "outside_links",
]

PROFILES: tuple[str, ...] = ("ingress", "tls", "monitoring")

_BACKENDS = ("auto", "sdk", "helm")

#: The scanned tree of the current run (set by the chart unit around its work): :func:`render`
#: and :func:`lint_chart` read nothing outside it when they are not given ``tree``.
SCAN_TREE: ContextVar[Path | None] = ContextVar("pitfall_helm_scan_tree", default=None)
# unsaved editor buffers: real path of a chart file -> its text, rendered instead of the file
OVERRIDES: ContextVar[dict[str, str] | None] = ContextVar("pitfall_helm_overrides", default=None)


# --------------------------------------------------------------------------
# public data types
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RenderedDoc:
    template: str
    text: str
    start_line: int
    index: int
    # per line of ``text``: the template line that wrote it (see helmorigin), when known
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


# --------------------------------------------------------------------------
# chart discovery and Chart.yaml
# --------------------------------------------------------------------------


def find_chart_root(path: Path) -> Path | None:
    """Nearest directory at or above ``path`` holding a Chart.yaml (absolute)."""
    p = Path(path).absolute()
    if not p.is_dir():
        p = p.parent
    while True:
        if (p / "Chart.yaml").is_file():
            return p
        if p.parent == p:
            return None
        p = p.parent


def _is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (name.endswith(".tgz") or name.endswith(".tar.gz"))


def _archive_files(path: Path, wanted: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Top directory of a chart archive and the text of ``wanted`` files in it."""
    found: dict[str, str] = {}
    top = ""
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.lstrip("./").split("/", 1)
            if not top and parts[0]:
                top = parts[0]
            if len(parts) == 2 and parts[0] == top and parts[1] in wanted and member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    found[parts[1]] = fh.read().decode("utf-8", "replace")
                if len(found) == len(wanted):
                    break
    return top, found


def _read_chart_texts(root: Path) -> dict[str, str]:
    wanted = ("Chart.yaml", "requirements.yaml")
    if _is_archive(root):
        try:
            return _archive_files(root, wanted)[1]
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise HelmChartError(f"cannot read chart archive: {exc}") from exc
    texts = {}
    tree = SCAN_TREE.get()
    for name in wanted:
        if tree is not None and (root / name).is_symlink() and not within(root / name, tree):
            raise HelmChartError(
                f"refused {name}: it is a symbolic link to {_real(root / name)}, outside the scanned tree, which is never read",
                name,
            )
        try:
            texts[name] = (root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise HelmChartError(f"cannot read {name}: {exc}", name) from exc
    return texts


def _compose(text: str, filename: str) -> Any:
    import yaml

    try:
        return yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        # like go-yaml, name the line where the unfinished construct started
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise HelmChartError(f"cannot load {filename}: yaml: line {line}: {problem}", filename, line) from exc


def _node_value(node: Any, filename: str = "Chart.yaml") -> Any:
    import yaml

    if node is None:
        return None
    try:
        return yaml.SafeLoader(" ").construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise HelmChartError(f"cannot load {filename}: yaml: line {line}: {getattr(exc, 'problem', None) or exc}", filename, line) from exc


def _key_lines(node: Any) -> dict[str, int]:
    lines: dict[str, int] = {}
    if node is not None and node.tag.endswith(":map"):
        for key, _ in node.value:
            lines.setdefault(str(key.value), key.start_mark.line + 1)
    return lines


def _dep_nodes(node: Any) -> list[Any]:
    if node is None or not node.tag.endswith(":map"):
        return []
    for key, value in node.value:
        if key.value == "dependencies" and value.tag.endswith(":seq"):
            return list(value.value)
    return []


def _valid_semver(version: str) -> bool:
    return _parse_version(version) is not None


_ALIAS_RE = re.compile(r"^[a-zA-Z0-9_-]+$")


def chart_info(root: Path) -> ChartInfo:
    """Read and validate a chart's Chart.yaml the way Helm's loader does.

    ``root`` is a chart directory or a packaged ``.tgz``.  Raises
    :class:`HelmChartError` (path, line, message in Helm's words) when the
    chart definition is invalid.  Dependencies come from Chart.yaml, or from
    requirements.yaml for ``apiVersion: v1`` charts; each is a copy of the
    declared mapping plus ``_file`` and ``_line`` (where it is declared).
    """
    root = Path(root)
    texts = _read_chart_texts(root)
    if "Chart.yaml" not in texts:
        raise HelmChartError("Chart.yaml file is missing")
    node = _compose(texts["Chart.yaml"], "Chart.yaml")
    data = _node_value(node)
    lines = _key_lines(node)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HelmChartError("cannot load Chart.yaml: Chart.yaml is not a mapping")

    def fail(message: str, key: str | None) -> HelmChartError:
        return HelmChartError(f"validation: {message}", "Chart.yaml", lines.get(key or "", 1))

    api = str(data.get("apiVersion") or "v1")
    name = data.get("name")
    name = "" if name is None else str(name)
    version = data.get("version")
    version = "" if version is None else str(version)
    ctype = data.get("type")
    ctype = "" if ctype is None else str(ctype)
    if not name:
        raise fail("chart.metadata.name is required", "name")
    if name != os.path.basename(name) or name in (".", ".."):
        raise fail(f'chart.metadata.name "{name}" is invalid', "name")
    if not version:
        raise fail("chart.metadata.version is required", "version")
    if not _valid_semver(version):
        raise fail(f'chart.metadata.version "{version}" is invalid', "version")
    if ctype not in ("", "application", "library"):
        raise fail("chart.metadata.type must be application or library", "type")

    dep_file, dep_node = "Chart.yaml", node
    raw_deps = data.get("dependencies")
    if not raw_deps and api == "v1" and "requirements.yaml" in texts:
        dep_file = "requirements.yaml"
        dep_node = _compose(texts["requirements.yaml"], dep_file)
        req = _node_value(dep_node, dep_file)
        raw_deps = req.get("dependencies") if isinstance(req, dict) else None
    if raw_deps is None:
        raw_deps = []
    if not isinstance(raw_deps, list):
        raise HelmChartError("cannot load Chart.yaml: dependencies must be a list", dep_file, lines.get("dependencies", 1))
    nodes = _dep_nodes(dep_node)
    deps: list[dict] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_deps):
        line = nodes[i].start_mark.line + 1 if i < len(nodes) else lines.get("dependencies", 1)
        if not isinstance(raw, dict):
            raise HelmChartError(f"cannot load {dep_file}: dependency {i + 1} is not a mapping", dep_file, line)
        dep = dict(raw)
        alias = dep.get("alias")
        if alias and not _ALIAS_RE.match(str(alias)):
            raise HelmChartError(f'validation: dependency "{dep.get("name")}" has disallowed characters in the alias', dep_file, line)
        key = str(alias or dep.get("name") or "")
        if key in seen:
            raise HelmChartError(f'validation: more than one dependency with name or alias "{key}"', dep_file, line)
        seen.add(key)
        dep["_file"] = dep_file
        dep["_line"] = line
        deps.append(dep)
    return ChartInfo(root=root, name=name, version=version, type=ctype or "application", dependencies=tuple(deps))


# --------------------------------------------------------------------------
# splitting rendered output exactly like Helm
# --------------------------------------------------------------------------

# releaseutil.SplitManifests (Helm v4): regexp `(?:^|\s*\n)---\s*` where Go's
# \s is [\t\n\f\r ]; the stream and each document are left-trimmed of
# unicode.IsSpace; empty pieces are dropped.
_SEP_RE = re.compile(r"(?:^|[\t\n\f\r ]*\n)---[\t\n\f\r ]*")
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SOURCE_RE = re.compile(r"^#[ \t]*Source:[ \t]*(\S.*?)[ \t\r]*$")


def _split_manifests(text: str) -> list[tuple[int, str]]:
    """(offset in ``text``, document) pairs, as Helm's SplitManifests splits."""
    trimmed = text.lstrip(_GO_SPACE)
    base = len(text) - len(trimmed)
    out: list[tuple[int, str]] = []
    pos = 0
    pieces: list[tuple[int, str]] = []
    for m in _SEP_RE.finditer(trimmed):
        pieces.append((pos, trimmed[pos : m.start()]))
        pos = m.end()
    pieces.append((pos, trimmed[pos:]))
    for start, piece in pieces:
        if piece == "":
            continue
        doc = piece.lstrip(_GO_SPACE)
        out.append((base + start + len(piece) - len(doc), doc))
    return out


def _line_at(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _strip_chart_segment(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name


def _doc_origins(origins: Sequence[tuple[Origin, ...] | None] | None, start_line: int, text: str) -> tuple[tuple[Origin, ...] | None, ...]:
    if not origins:
        return ()
    first = start_line - 1
    return tuple(origins[first : first + text.count("\n") + 1])


def split_rendered(stream: str, origins: Sequence[tuple[Origin, ...] | None] | None = None) -> list[RenderedDoc]:
    """Split a ``helm template``-style stream into documents as Helm does.

    A document starts after a line beginning with ``---`` (also ``---# c``
    or ``--- ``; the rest of that line belongs to the next document, as in
    Helm).  A ``# Source: <chart>/<path>`` comment in a document's leading
    comment block names its template (leading chart segment stripped); a
    document without one continues the template of the previous document
    (Helm's debug output prints whole files under one Source line), or ""
    before any.  A leading Source line is removed from ``text`` and
    ``start_line`` then points at the line after it.  ``start_line`` is
    1-based within ``stream``; ``index`` counts documents per template.
    """
    docs: list[RenderedDoc] = []
    counts: dict[str, int] = {}
    current = ""
    for offset, doc in _split_manifests(stream):
        start_line = _line_at(stream, offset)
        text = doc
        lines = doc.split("\n")
        for i, line in enumerate(lines):
            if not line.startswith("#"):
                break
            m = _SOURCE_RE.match(line)
            if m:
                current = _strip_chart_segment(m.group(1))
                if i == 0:
                    text = "\n".join(lines[1:])
                    start_line += 1
                break
        if not text.strip(_GO_SPACE):
            continue
        index = counts.get(current, 0)
        counts[current] = index + 1
        docs.append(RenderedDoc(template=current, text=text, start_line=start_line, index=index, origins=_doc_origins(origins, start_line, text)))
    return docs


def _docs_from_manifests(manifests: dict[str, str], nonce: str | None = None) -> list[RenderedDoc]:
    """Documents from helm_python's {template name: output} mapping, the way
    ``helm template`` selects them (no NOTES.txt, no partials, no blank files); ``nonce``: the
    output holds origin markers, which are taken out into each document's ``origins``."""
    docs: list[RenderedDoc] = []
    for name in sorted(manifests):
        out = manifests[name]
        base = name.rsplit("/", 1)[-1]
        if name.endswith("NOTES.txt") or base.startswith("_"):
            continue
        origins: list[tuple[Origin, ...] | None] | None = None
        if nonce is not None:
            from linter.helm import origin as helmorigin

            out, origins = helmorigin.strip(out, nonce)
        if not out.strip():
            continue
        template = _strip_chart_segment(name)
        index = 0
        for offset, doc in _split_manifests(out):
            if not doc.strip(_GO_SPACE):
                continue
            start = _line_at(out, offset)
            docs.append(RenderedDoc(template=template, text=doc, start_line=start, index=index, origins=_doc_origins(origins, start, doc)))
            index += 1
    return docs


# --------------------------------------------------------------------------
# semver constraints (Masterminds/semver v3, as used by Helm)
# --------------------------------------------------------------------------

_VERSION_RE = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True, slots=True)
class _Ver:
    major: int
    minor: int
    patch: int
    pre: str = ""


def _parse_version(text: str) -> _Ver | None:
    m = _VERSION_RE.match(str(text).strip())
    if not m:
        return None
    return _Ver(int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4] or "")


def _cmp_pre(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            return -1 if int(x) < int(y) else 1
        if xd != yd:
            return -1 if xd else 1
        return -1 if x < y else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def _cmp(a: _Ver, b: _Ver) -> int:
    ta, tb = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    if ta != tb:
        return -1 if ta < tb else 1
    return _cmp_pre(a.pre, b.pre)


_CV = r"v?(?:\d+|[xX*])(?:\.(?:\d+|[xX*]))?(?:\.(?:\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_CV_PARTS = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_TOKEN_RE = re.compile(rf"[\s,]*(!=|>=|=>|<=|=<|~>|\^|>|<|=|~)?\s*({_CV})[\s,]*")
_HYPHEN_RE = re.compile(rf"({_CV})\s+-\s+({_CV})")


@dataclass(frozen=True, slots=True)
class _Con:
    op: str
    ver: _Ver
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _parse_con(op: str, text: str) -> _Con:
    m = _CV_PARTS.match(text)
    if not m:
        raise ValueError(text)
    pre = m[4] or ""
    if _is_x(m[1]):
        return _Con(op, _Ver(0, 0, 0, pre), True, False, False)
    if _is_x(m[2]):
        return _Con(op, _Ver(int(m[1]), 0, 0, pre), True, True, False)
    if _is_x(m[3]):
        return _Con(op, _Ver(int(m[1]), int(m[2]), 0, pre), True, False, True)
    return _Con(op, _Ver(int(m[1]), int(m[2]), int(m[3]), pre), False, False, False)


def _check(v: _Ver, c: _Con) -> bool:
    con = c.ver
    if v.pre and not con.pre:
        return False  # pre-releases only match constraints that name one
    op = c.op
    if op in ("", "="):
        if not c.dirty:
            return _cmp(v, con) == 0
        op = "~"
    if op in ("~", "~>"):
        if _cmp(v, con) < 0:
            return False
        if (con.major, con.minor, con.patch) == (0, 0, 0) and not c.minor_dirty and not c.patch_dirty:
            return True
        if v.major != con.major:
            return False
        return v.minor == con.minor or c.minor_dirty
    if op == "^":
        if _cmp(v, con) < 0:
            return False
        if con.major > 0 or c.minor_dirty:
            return v.major == con.major
        if v.major > 0:
            return False
        if con.minor > 0 or c.patch_dirty:
            return v.minor == con.minor
        if v.minor > 0:
            return False
        return v.patch == con.patch
    if op == ">":
        if not c.dirty:
            return _cmp(v, con) > 0
        if v.major != con.major:
            return v.major > con.major
        if c.minor_dirty:
            return False
        if c.patch_dirty:
            return v.minor > con.minor
        return _cmp(v, con) > 0
    if op in (">=", "=>"):
        return _cmp(v, con) >= 0
    if op == "<":
        return _cmp(v, con) < 0
    if op in ("<=", "=<"):
        if not c.dirty:
            return _cmp(v, con) <= 0
        if v.major > con.major:
            return False
        return not (v.major == con.major and v.minor > con.minor and not c.minor_dirty)
    if op == "!=":
        if c.dirty:
            if con.major != v.major:
                return True
            if c.minor_dirty:
                return False
            if con.minor != v.minor:
                return True
            if c.patch_dirty:
                return _cmp_pre(v.pre, con.pre) != 0 if (v.pre or con.pre) else False
            return con.patch != v.patch
        return _cmp(v, con) != 0
    return False


def _parse_constraint(text: str) -> list[list[_Con]]:
    groups: list[list[_Con]] = []
    for group in str(text).split("||"):
        group = _HYPHEN_RE.sub(lambda m: f">= {m[1]}, <= {m[2]}", group.strip())
        cons: list[_Con] = []
        pos = 0
        while pos < len(group):
            m = _TOKEN_RE.match(group, pos)
            if not m or m.end() == pos:
                raise ValueError(f"improper constraint: {text}")
            cons.append(_parse_con(m[1] or "", m[2]))
            pos = m.end()
        if not cons:
            raise ValueError(f"improper constraint: {text}")
        groups.append(cons)
    return groups


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets a Helm (Masterminds semver v3) constraint:
    ``1.2.3``, ``=1.2``, ``!=1.2.3``, ``>1``, ``>=1 <2``, ``>=1, <2``,
    ``~1.2``, ``~>1.2``, ``^1.2.0``, ``1.2.x``, ``1.x``, ``*``,
    ``1.2 - 1.4.5``, ``a || b``.  An empty constraint accepts anything; an
    unparsable version or constraint accepts nothing."""
    v = _parse_version(version)
    if v is None:
        return False
    if not str(constraint).strip():
        return True
    try:
        groups = _parse_constraint(constraint)
    except ValueError:
        return False
    return any(all(_check(v, c) for c in group) for group in groups)


# --------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------


def _merge_maps(a: dict, b: dict) -> dict:
    """Helm's values.mergeMaps: b over a, maps merged recursively."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge_maps(out[k], v)
        else:
            out[k] = v
    return out


def _merge_set(a: Any, b: Any) -> Any:
    """Approximates strvals.ParseInto(expr, base): like mergeMaps, but list
    elements the expression did not name (parsed as None) keep their value."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = _merge_set(out[k], v) if k in out else v
        return out
    if isinstance(a, list) and isinstance(b, list):
        out_list = list(a) + [None] * max(0, len(b) - len(a))
        for i, v in enumerate(b):
            if v is not None:
                out_list[i] = _merge_set(out_list[i], v) if out_list[i] is not None else v
        return out_list
    return b


def _coalesce(defaults: Any, user: Any) -> Any:
    """Python approximation of Helm's coalesce (user wins, null deletes)."""
    if not isinstance(defaults, dict) or not isinstance(user, dict):
        return copy.deepcopy(user)
    out = copy.deepcopy(defaults)
    for k, v in user.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _coalesce(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


_SET_SCALARS = {"true": True, "false": False, "null": None}


def _set_scalar(text: str) -> Any:
    if text in _SET_SCALARS:
        return _SET_SCALARS[text]
    if re.fullmatch(r"-?(0|[1-9]\d*)", text):
        return int(text)
    return text


def _parse_set_fallback(expr: str) -> dict:
    """Minimal ``--set`` parser for when helm_python is unavailable (used only
    to report the values of a ``helm template`` render): ``a.b=1``,
    ``a[0].b=x``, ``l={a,b}``, ``\\,`` escapes, commas between assignments."""
    result: dict = {}
    parts: list[str] = []
    buf, depth, i = "", 0, 0
    while i < len(expr):
        ch = expr[i]
        if ch == "\\" and i + 1 < len(expr):
            buf += expr[i : i + 2]
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
        i += 1
    if buf:
        parts.append(buf)
    for part in parts:
        if "=" not in part:
            raise ValueError(f'key "{part}" has no value')
        key, raw = part.split("=", 1)
        raw_value: Any
        if raw.startswith("{") and raw.endswith("}"):
            raw_value = [_set_scalar(x.replace("\\,", ",")) for x in raw[1:-1].split(",") if x != ""]
        else:
            raw_value = _set_scalar(raw.replace("\\,", ","))
        tokens = re.findall(r"([^.\[\]]+)|\[(\d+)\]", key)
        node: Any = {}
        value: Any = raw_value
        for name, idx in reversed(tokens):
            if idx:
                lst: list = [None] * int(idx)
                lst.append(value)
                value = lst
            else:
                value = {name: value}
        node = value
        if isinstance(node, dict):
            result = _merge_set(result, node)
    return result


# --------------------------------------------------------------------------
# profiles
# --------------------------------------------------------------------------


def _profile_targets(profile: str) -> list[tuple[str, ...]]:
    if profile == "ingress":
        return [("ingress", "enabled")]
    if profile == "tls":
        return [("tls", "enabled"), ("tls",)]
    if profile == "monitoring":
        return [("serviceMonitor", "enabled"), ("metrics", "enabled"), ("metrics", "serviceMonitor", "enabled")]
    raise ValueError(f"unknown values profile {profile!r}; known: {', '.join(PROFILES)}")


def _apply_profile(node: Any, targets: list[tuple[str, ...]]) -> tuple[Any, bool]:
    """Copy of ``node`` with every declared target key set true; changed?"""
    if isinstance(node, list):
        changed = False
        out_list = []
        for item in node:
            new, ch = _apply_profile(item, targets)
            out_list.append(new)
            changed = changed or ch
        return out_list, changed
    if not isinstance(node, dict):
        return node, False
    out = dict(node)
    changed = False
    for key, value in node.items():
        new_value, ch = _apply_profile(value, targets)
        for target in targets:
            if target[0] != key:
                continue
            if len(target) == 1:
                if isinstance(new_value, bool) and new_value is not True:
                    new_value, ch = True, True
            else:
                new_value, ch2 = _set_path_true(new_value, target[1:])
                ch = ch or ch2
        if ch:
            out[key] = new_value
            changed = True
    return out, changed


def _set_path_true(node: Any, path: tuple[str, ...]) -> tuple[Any, bool]:
    if not isinstance(node, dict) or path[0] not in node:
        return node, False
    if len(path) == 1:
        if node[path[0]] is True:
            return node, False
        out = dict(node)
        out[path[0]] = True
        return out, True
    new, changed = _set_path_true(node[path[0]], path[1:])
    if not changed:
        return node, False
    out = dict(node)
    out[path[0]] = new
    return out, True


def _diff_overlay(old: Any, new: Any) -> Any:
    """Minimal overlay turning ``old`` into ``new`` under Helm's merge
    (maps merge key by key, lists are replaced whole)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: _diff_overlay(old.get(k), v) for k, v in new.items() if k not in old or old[k] != v}
    return new


def profile_values(values: dict, profile: str) -> dict | None:
    """Overlay for a built-in value profile, or None when it changes nothing.

    Only keys the values already declare are touched, at any depth (inside
    lists too — the overlay then carries the whole modified list, since Helm
    replaces lists):

    * ``ingress``: every ``<...>.ingress.enabled`` -> true;
    * ``tls``: every ``<...>.tls.enabled`` -> true and every boolean
      ``<...>.tls`` -> true;
    * ``monitoring``: every ``<...>.serviceMonitor.enabled``,
      ``<...>.metrics.enabled`` and ``<...>.metrics.serviceMonitor.enabled``
      -> true.

    Pass the merged values (``RenderResult.values``) so subchart defaults
    are covered, then render with ``extra_values=overlay``.  ``"defaults"``
    (the configuration's name for the plain render) gives ``{}``; any other
    unknown name raises ValueError.
    """
    if profile == "defaults":
        return {}
    targets = _profile_targets(profile)
    if not isinstance(values, dict):
        return None
    new, changed = _apply_profile(values, targets)
    if not changed:
        return None
    overlay = _diff_overlay(values, new)
    return overlay or None


# --------------------------------------------------------------------------
# error messages: location and cleaning
# --------------------------------------------------------------------------

_GO_NOISE = (
    ("error converting YAML to JSON: ", ""),
    ("cannot unmarshal yaml document: ", ""),
    ("map[string]interface {}", "map"),
    ("[]interface {}", "list"),
    ("interface {}", ""),
)


def _clean_message(message: str, chart_name: str | None, replace: dict[str, str] | None = None) -> str:
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


def _locate(message: str, chart_name: str | None, chart_files: Path | None = None) -> tuple[str | None, int]:
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
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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


# --------------------------------------------------------------------------
# SDK work (runs in-process or in the worker) and the worker pool
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _sdk_available() -> bool:
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
            values = _merge_maps(values, hp.values_from_yaml(text))
        except (OSError, UnicodeDecodeError, hp.HelmError) as exc:
            return failure("values-file", exc, file=f)
    values = _merge_maps(values, req.get("extra_values") or {})
    for expr in req.get("set_values", ()):
        try:
            values = _merge_set(values, hp.parse_set_string(expr))
        except hp.HelmError as exc:
            return failure("set", exc, expr=expr)
    try:
        chart = hp.Chart.load(req["chart"])
    except hp.HelmError as exc:
        return failure("load", exc)
    with chart:
        try:
            merged = chart.merge_values(values)
            # render() drops disabled subcharts from the loaded chart, so the
            # merge above must come first and the chart must not be reused.
            manifests = chart.render(values, name=req["release"], namespace=req["namespace"], is_install=True)
        except hp.HelmError as exc:
            return failure("render", exc)
    return {"ok": True, "manifests": manifests, "values": merged}


def _run_sdk_in_process(req: dict) -> dict:
    try:
        import helm_python  # noqa: F401  (may also fail loading the native library)
    except Exception as exc:
        return {"ok": False, "stage": "unavailable", "type": type(exc).__name__, "message": str(exc)}
    try:
        return _sdk_job(req)
    except Exception as exc:  # a broken native library must not escape render()
        return {"ok": False, "stage": "crash", "type": type(exc).__name__, "message": str(exc)}


def _die_with_parent(parent: int, deathsig: bool) -> None:
    """In a renderer: end when the process that started it ends, however it ends (no orphan).

    ``deathsig`` (the renderer was started from its parent's main thread, which lives as long
    as the parent): the kernel kills it with the parent (Linux ``PR_SET_PDEATHSIG``). Always, a
    watchdog thread ends it when its parent changes (it was re-parented)."""
    if deathsig:
        set_pdeathsig()
    if os.getppid() != parent:  # the parent ended before the death signal was armed
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def set_pdeathsig() -> bool:
    """Ask the kernel to SIGKILL this process when its parent (thread) ends; Linux only."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _worker_main() -> None:
    """Entry point of the worker process (see the module docs)."""
    import io

    if len(sys.argv) > 3:
        _die_with_parent(int(sys.argv[2]), sys.argv[3] == "1")
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", newline="\n")
    os.dup2(2, 1)  # anything native code prints must not corrupt the protocol
    try:
        import helm_python  # noqa: F401

        hello: dict = {"ready": True}
    except Exception as exc:
        hello = {"ready": False, "message": f"{type(exc).__name__}: {exc}"}
    proto.write(json.dumps(hello) + "\n")
    proto.flush()
    if not hello["ready"]:
        return
    for line in io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8"):
        if not line.strip():
            continue
        try:
            resp = _run_sdk_in_process(json.loads(line))
        except Exception as exc:
            resp = {"ok": False, "stage": "crash", "type": type(exc).__name__, "message": str(exc)}
        proto.write(json.dumps(resp) + "\n")
        proto.flush()


_BOOT = (
    "import sys, importlib.util as u\n"
    "s = u.spec_from_file_location('_pitfall_helm_worker', sys.argv[1])\n"
    "m = u.module_from_spec(s)\n"
    "sys.modules[s.name] = m\n"
    "s.loader.exec_module(m)\n"
    "m._worker_main()\n"
)


class _WorkerUnavailable(Exception):
    pass


class _WorkerTimeout(Exception):
    pass


class _WorkerDied(Exception):
    pass


def _close_streams(proc: subprocess.Popen) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass


def _spawn() -> subprocess.Popen:
    main_thread = threading.current_thread() is threading.main_thread()
    return subprocess.Popen(
        [sys.executable, "-c", _BOOT, str(Path(__file__).resolve()), str(os.getpid()), "1" if main_thread else "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class _Worker:
    def __init__(self, start_timeout: float, proc: subprocess.Popen | None = None) -> None:
        if proc is None:
            proc = _spawn()
            _OWN_PIDS.setdefault(os.getpid(), set()).add(proc.pid)
        self.proc = proc
        self._ended = False  # the renderer closed its stdout: it exited or is exiting
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._err: deque[str] = deque(maxlen=20)
        threading.Thread(target=self._pump_out, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()
        try:
            hello = self._read(start_timeout)
        except (_WorkerTimeout, _WorkerDied) as exc:
            self.kill()
            raise _WorkerUnavailable(f"the renderer process did not start: {exc}") from exc
        if not hello.get("ready"):
            self.kill()
            raise _WorkerUnavailable(hello.get("message", "helm_python cannot be imported"))

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._ended = True
        self._lines.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._err.append(line.decode("utf-8", "replace").rstrip())

    def _read(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise _WorkerTimeout() from None
        if line is None:
            self._wait(5)
            tail = "; ".join(x for x in self._err if x)[-2000:]
            raise _WorkerDied(f"exit code {self.proc.returncode}" + (f": {tail}" if tail else ""))
        return json.loads(line)

    @property
    def alive(self) -> bool:
        return not self._ended

    def _own(self) -> bool:
        return self.proc.pid in _OWN_PIDS.get(os.getpid(), ())

    def _wait(self, timeout: float) -> None:
        if not self._own():  # a prestarted renderer claimed in a forked process: not our child
            return
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass

    def request(self, req: dict, timeout: float) -> dict:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
        except OSError as exc:
            self.kill()
            raise _WorkerDied(str(exc)) from exc
        try:
            return self._read(timeout)
        except _WorkerTimeout:
            self.kill()
            raise

    def kill(self) -> None:
        if not self._ended:
            try:
                os.kill(self.proc.pid, 9)
            except OSError:
                pass
        self._wait(5)
        _close_streams(self.proc)

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        if self._own():
            self._wait(2)
            self.kill()
        # else: other processes of the run still hold this renderer's stdin; it ends when
        # the last of them closes it (the run's parent does, at exit)


_POOL_LOCK = threading.Lock()
_IDLE: list[_Worker] = []
_OWN_PIDS: dict[int, set[int]] = {}  # process id -> the renderer pids it started (its children)
_PRESTARTED: list[subprocess.Popen] = []
_TOKENS: int | None = None  # read end of the token pipe: one byte per unclaimed prestarted renderer


def prestart(count: int) -> None:
    """Start ``count`` renderer processes now, for this process and the processes it forks
    later; does nothing when helm_python is not installed or renderers were prestarted."""
    global _TOKENS
    if count <= 0 or _PRESTARTED or not _sdk_available():
        return
    procs = []
    for _ in range(min(count, 255)):
        try:
            procs.append(_spawn())
        except OSError:
            break
    if not procs:
        return
    read_end, write_end = os.pipe()
    os.write(write_end, bytes(range(len(procs))))
    os.close(write_end)
    os.set_blocking(read_end, False)
    _PRESTARTED.extend(procs)
    _OWN_PIDS.setdefault(os.getpid(), set()).update(p.pid for p in procs)
    _TOKENS = read_end


def _claim_prestarted() -> subprocess.Popen | None:
    if _TOKENS is None:
        return None
    try:
        token = os.read(_TOKENS, 1)
    except OSError:  # EAGAIN: every prestarted renderer is taken
        return None
    return _PRESTARTED[token[0]] if token else None


def _shutdown_workers() -> None:
    with _POOL_LOCK:
        workers, _IDLE[:] = list(_IDLE), []
    for w in workers:
        w.close()
    if os.getpid() in _OWN_PIDS:  # the process that prestarted: unclaimed and lent renderers end now
        for proc in _PRESTARTED:
            _close_streams(proc)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass


atexit.register(_shutdown_workers)


_TEMP_ROOT: str | None = None  # the run's folder for temporary chart copies (see own_temp_root)
_JANITOR: subprocess.Popen | None = None
_TEMP_OWNER = 0
_JANITOR_CODE = (
    "import shutil, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "sys.stdin.buffer.read()\n"
    "shutil.rmtree(sys.argv[1], ignore_errors=True)\n"
)


def own_temp_root() -> None:
    """Put every temporary folder of this run (of this process and of the processes it forks)
    inside one ``pitfall-helm-*`` folder that is removed however the run ends.

    A small janitor process waits for the end of its standard input, whose write end only this
    process and its forked workers hold: when the last of them ends (even killed with SIGKILL;
    the workers die with this process), it removes the folder and exits."""
    global _TEMP_ROOT, _JANITOR, _TEMP_OWNER
    if _TEMP_ROOT is not None:
        return
    root = tempfile.mkdtemp(prefix="pitfall-helm-")
    try:
        janitor = subprocess.Popen(
            [sys.executable, "-S", "-c", _JANITOR_CODE, root],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        shutil.rmtree(root, ignore_errors=True)
        return
    _TEMP_ROOT, _JANITOR, _TEMP_OWNER = root, janitor, os.getpid()


def _remove_temp_root() -> None:
    global _TEMP_ROOT, _JANITOR
    if _TEMP_ROOT is None or os.getpid() != _TEMP_OWNER:
        return
    shutil.rmtree(_TEMP_ROOT, ignore_errors=True)
    if _JANITOR is not None:
        _close_streams(_JANITOR)
        try:
            _JANITOR.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _JANITOR.kill()
    _TEMP_ROOT = _JANITOR = None


atexit.register(_remove_temp_root)


def _temporary_directory() -> tempfile.TemporaryDirectory:
    root = _TEMP_ROOT if _TEMP_ROOT is not None and os.path.isdir(_TEMP_ROOT) else None
    return tempfile.TemporaryDirectory(prefix="pitfall-helm-", dir=root)


def _run_sdk_in_worker(req: dict, timeout: float) -> dict:
    worker = None
    with _POOL_LOCK:
        while _IDLE and worker is None:
            candidate = _IDLE.pop()
            if candidate.alive:
                worker = candidate
            else:
                candidate.kill()
    try:
        if worker is None:
            worker = _Worker(start_timeout=max(60.0, timeout), proc=_claim_prestarted())
        resp = worker.request(req, timeout)
    except _WorkerUnavailable as exc:
        return {"ok": False, "stage": "unavailable", "type": "ImportError", "message": str(exc)}
    except _WorkerTimeout:
        return {"ok": False, "stage": "timeout", "type": "Timeout", "message": ""}
    except _WorkerDied as exc:
        return {"ok": False, "stage": "crash", "type": "WorkerDied", "message": f"the renderer process died ({exc})"}
    with _POOL_LOCK:
        if worker.alive and len(_IDLE) < (os.cpu_count() or 2):
            _IDLE.append(worker)
            worker = None
    if worker is not None:
        worker.close()
    return resp


def _run_sdk(req: dict, timeout: float) -> dict:
    if timeout is None or timeout <= 0:
        return _run_sdk_in_process(req)
    return _run_sdk_in_worker(req, timeout)


# --------------------------------------------------------------------------
# dependency resolution
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    name: str
    version: str
    path: Path
    origins: frozenset[str] | None = None  # repository base URLs, when known


@dataclass(slots=True)
class _Plan:
    add: list[tuple[dict, _Candidate]] = field(default_factory=list)
    missing: list[tuple[dict, list[str]]] = field(default_factory=list)


_META_CACHE: dict[tuple[str, int, int], tuple[str, str] | None] = {}
_INDEX_CACHE: dict[tuple[str, int, int], dict[tuple[str, str], frozenset[str]]] = {}


def _stat_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def _chart_meta(path: Path) -> tuple[str, str] | None:
    """(name, version) of a chart directory or archive, or None."""
    import yaml

    target = path / "Chart.yaml" if path.is_dir() else path
    key = _stat_key(target)
    if key is None:
        return None
    if key in _META_CACHE:
        return _META_CACHE[key]
    meta = None
    try:
        text = target.read_text(encoding="utf-8") if path.is_dir() else _archive_files(path, ("Chart.yaml",))[1].get("Chart.yaml")
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if text else None
        if isinstance(data, dict) and data.get("name"):
            meta = (str(data["name"]), str(data.get("version") or ""))
    except (OSError, UnicodeDecodeError, tarfile.TarError, EOFError, yaml.YAMLError):
        meta = None
    _META_CACHE[key] = meta
    return meta


def _normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://([^/]*)(.*)$", url)
    if not m:
        return url
    return f"{m[1].lower()}://{m[2].lower()}{m[3]}"


def _index_origins(directory: Path) -> dict[tuple[str, str], frozenset[str]]:
    """(name, version) -> repository URLs, from Helm index files in ``directory``."""
    import yaml

    origins: dict[tuple[str, str], set[str]] = {}
    try:
        files = [p for p in directory.iterdir() if p.name == "index.yaml" or p.name.endswith("-index.yaml")]
    except OSError:
        return {}
    for index in files:
        key = _stat_key(index)
        if key is None or key[2] > 50_000_000:
            continue
        if key not in _INDEX_CACHE:
            parsed: dict[tuple[str, str], frozenset[str]] = {}
            try:
                loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
                data = yaml.load(index.read_text(encoding="utf-8"), Loader=loader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                data = None
            entries = data.get("entries") if isinstance(data, dict) else None
            for name, versions in (entries or {}).items():
                for entry in versions or ():
                    if not isinstance(entry, dict):
                        continue
                    bases = {
                        _normalize_url(str(u).rsplit("/", 1)[0])
                        for u in entry.get("urls") or ()
                        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", str(u))
                    }
                    if bases:
                        parsed[(str(name), str(entry.get("version", "")))] = frozenset(bases)
            _INDEX_CACHE[key] = parsed
        for k, v in _INDEX_CACHE[key].items():
            origins.setdefault(k, set()).update(v)
    return {k: frozenset(v) for k, v in origins.items()}


def _scan_chart_dir(directory: Path) -> list[_Candidate]:
    paths: list[Path] = []
    if (directory / "Chart.yaml").is_file():
        paths.append(directory)
    else:
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            return []
        for entry in entries:
            if entry.is_dir() and (entry / "Chart.yaml").is_file():
                paths.append(entry)
            elif _is_archive(entry):
                paths.append(entry)
    origins = _index_origins(directory) if paths else {}
    out = []
    for path in paths:
        meta = _chart_meta(path)
        if meta:
            out.append(_Candidate(meta[0], meta[1], path, origins.get(meta)))
    return out


def _vendored_names(chart: Path, packaged: bool, tree: Path | None = None) -> set[str]:
    names: set[str] = set()
    if packaged:
        try:
            with tarfile.open(chart, "r:*") as tar:
                for member in tar:
                    parts = member.name.lstrip("./").split("/")
                    if len(parts) == 4 and parts[1] == "charts" and parts[3] == "Chart.yaml":
                        fh = tar.extractfile(member)
                        meta = _meta_from_text(fh.read().decode("utf-8", "replace")) if fh else None
                        if meta:
                            names.add(meta)
                    elif len(parts) == 3 and parts[1] == "charts" and parts[2].endswith(("gz")) and member.isfile():
                        fh = tar.extractfile(member)
                        if fh is not None:
                            try:
                                with tarfile.open(fileobj=fh, mode="r:*") as sub:
                                    for m2 in sub:
                                        p2 = m2.name.lstrip("./").split("/")
                                        if len(p2) == 2 and p2[1] == "Chart.yaml":
                                            f2 = sub.extractfile(m2)
                                            meta = _meta_from_text(f2.read().decode("utf-8", "replace")) if f2 else None
                                            if meta:
                                                names.add(meta)
                                            break
                            except (tarfile.TarError, EOFError, OSError):
                                pass
        except (tarfile.TarError, EOFError, OSError):
            pass
        return names
    charts = chart / "charts"
    if charts.is_dir():
        for entry in charts.iterdir():
            if tree is not None and not within(entry, tree):
                continue
            if entry.is_dir() or _is_archive(entry):
                chart_meta = _chart_meta(entry)
                if chart_meta:
                    names.add(chart_meta[0])
    return names


def _meta_from_text(text: str) -> str | None:
    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    return str(data["name"]) if isinstance(data, dict) and data.get("name") else None


def _plan_dependencies(info: ChartInfo, packaged: bool, chart_dirs: Sequence[Path], tree: Path | None = None) -> _Plan:
    plan = _Plan()
    if not info.dependencies:
        return plan
    # a chart-dirs folder outside the scanned tree is never read (render reports the refusal)
    chart_dirs = [d for d in chart_dirs if tree is None or within(d, tree)]
    vendored = _vendored_names(info.root, packaged, tree)
    base = info.root.parent if packaged else info.root
    scanned: list[_Candidate] | None = None
    for dep in info.dependencies:
        name = str(dep.get("name") or "")
        if not name or name in vendored:
            continue
        constraint = str(dep.get("version") or "")
        repo = str(dep.get("repository") or "")
        reasons: list[str] = []
        chosen: _Candidate | None = None
        if repo.startswith("file://"):
            local = Path(repo[len("file://") :])
            local = local if local.is_absolute() else base / local
            outside = tree is not None and not within(local, tree)
            meta = _chart_meta(local) if local.exists() and not outside else None
            if outside:
                reasons.append(f"refused {repo}: it resolves to {_real(local)}, outside the scanned tree, which is never read")
            elif meta is None:
                reasons.append(f"{repo} does not hold a chart")
            elif meta[0] != name:
                reasons.append(f'{repo} holds chart "{meta[0]}", not "{name}"')
            elif constraint and not satisfies(meta[1], constraint):
                reasons.append(f"{repo} holds version {meta[1]}, which does not satisfy {constraint}")
            else:
                chosen = _Candidate(meta[0], meta[1], local)
        if chosen is None and chart_dirs:
            if scanned is None:
                scanned = [c for d in chart_dirs for c in _scan_chart_dir(Path(d))]
            good: list[_Candidate] = []
            repo_is_url = bool(re.match(r"^(https?|oci)://", repo))
            for cand in scanned:
                if cand.name != name:
                    continue
                if repo_is_url and cand.origins is not None and _normalize_url(repo) not in cand.origins:
                    reasons.append(f"{cand.path} comes from {', '.join(sorted(cand.origins))}, not {repo}")
                elif constraint and not satisfies(cand.version, constraint):
                    reasons.append(f"{cand.path} is version {cand.version}, which does not satisfy {constraint}")
                else:
                    good.append(cand)
            if good:
                best = good[0]
                for cand in good[1:]:
                    va, vb = _parse_version(cand.version), _parse_version(best.version)
                    if va is not None and (vb is None or _cmp(va, vb) > 0):
                        best = cand
                chosen = best
            elif not any(c.name == name for c in scanned):
                reasons.append("no chart of that name in the configured chart-dirs")
        elif chosen is None:
            reasons.append("it is not vendored under charts/ and no chart-dirs are configured")
        if chosen is not None:
            plan.add.append((dep, chosen))
        else:
            plan.missing.append((dep, reasons))
    return plan


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _copy_tree(src: Path, dst: Path, tree: Path | None = None) -> None:
    """A copy of ``src`` (hard links where possible, links followed), leaving out every symbolic
    link that leads outside ``tree``."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        if tree is None:
            return set()
        return {n for n in names if os.path.islink(os.path.join(directory, n)) and not within(os.path.join(directory, n), tree)}

    shutil.copytree(src, dst, symlinks=False, copy_function=_link_or_copy, ignore=ignore)


def _place(src: Path, charts: Path, name: str, tree: Path | None = None) -> Path | None:
    """Copy a dependency into ``charts``; the folder it was copied to (None for an archive)."""
    charts.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        target, n = charts / name, 1
        while target.exists():
            n += 1
            target = charts / f"{name}-{n}"
        _copy_tree(src, target, tree)
        return target
    else:
        target = charts / src.name
        if not target.exists():
            _link_or_copy(str(src), str(target))
        return None


def _last_index(node: Any) -> int:
    """Offset just past the last character of a node's own content."""
    value = node.value
    if isinstance(value, str) or getattr(node, "flow_style", False):
        return node.end_mark.index
    ends = [node.start_mark.index]
    for item in value:
        if isinstance(item, tuple):
            ends.extend(_last_index(x) for x in item)
        else:
            ends.append(_last_index(item))
    return max(ends)


def _drop_entries(text: str, drop: Sequence[int]) -> str:
    """Chart.yaml/requirements.yaml text without the dependency entries
    ``drop`` (positions); everything else is kept byte for byte."""
    import yaml

    node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    items = _dep_nodes(node)
    spans: list[tuple[int, int]] = []
    for i in sorted(set(drop), reverse=True):
        item = items[i]
        start = item.start_mark.index
        dash = text.rfind("-", 0, start)
        line_start = text.rfind("\n", 0, start) + 1
        if dash < line_start or text[line_start:dash].strip() or text[dash + 1 : start].strip():
            break  # not a block sequence entry: rewrite the document instead
        eol = text.find("\n", _last_index(item))
        spans.append((line_start, len(text) if eol < 0 else eol + 1))
    else:
        for start, end in spans:  # last entry first, so offsets stay valid
            text = text[:start] + text[end:]
        return text
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    deps = data.get("dependencies") or []
    data["dependencies"] = [d for i, d in enumerate(deps) if i not in set(drop)]
    return yaml.safe_dump(data, sort_keys=False)


def _assemble(
    chart: Path, packaged: bool, info: ChartInfo | None, plan: _Plan, tmp: Path, tree: Path | None = None, placed: dict[Path, Path] | None = None
) -> Path:
    """A temporary chart: ``chart`` + resolved dependencies - unresolvable ones, without the
    symbolic links that lead outside ``tree``. ``placed`` receives each dependency's folder in
    the copy -> the folder it was copied from (a chart-dirs or ``file://`` dependency)."""

    def refused(entry: Path) -> bool:
        return tree is not None and entry.is_symlink() and not within(entry, tree)

    if packaged:
        extract = tmp / "extract"
        extract.mkdir()
        with tarfile.open(chart, "r:*") as tar:
            tar.extractall(extract, filter="data")
        tops = [p for p in extract.iterdir() if p.is_dir()]
        if len(tops) != 1:
            raise HelmChartError("chart archive must contain exactly one top-level directory")
        dest = tops[0]
    else:
        dest = tmp / chart.name
        dest.mkdir()
        for entry in chart.iterdir():
            if entry.name in ("charts", ".git", ".hg", ".svn") or refused(entry):
                continue
            if entry.is_dir():
                _copy_tree(entry, dest / entry.name, tree)
            elif entry.is_file():
                _link_or_copy(str(entry), str(dest / entry.name))
        if (chart / "charts").is_dir() and not refused(chart / "charts"):
            (dest / "charts").mkdir()
            for entry in (chart / "charts").iterdir():
                if refused(entry):
                    continue
                if entry.is_dir():
                    _copy_tree(entry, dest / "charts" / entry.name, tree)
                elif entry.is_file():
                    _link_or_copy(str(entry), str(dest / "charts" / entry.name))
    done: set[Path] = set()
    for dep, cand in plan.add:
        if cand.path in done:
            continue
        done.add(cand.path)
        where = _place(cand.path, dest / "charts", cand.name, tree)
        if placed is not None and where is not None:
            placed[where] = Path(_real(cand.path))
    if plan.missing and info is not None:
        by_file: dict[str, list[int]] = {}
        positions = {id(d): i for i, d in enumerate(info.dependencies)}
        for dep, _ in plan.missing:
            by_file.setdefault(dep["_file"], []).append(positions[id(dep)])
        for filename, drop in by_file.items():
            target = dest / filename
            text = target.read_text(encoding="utf-8")
            target.unlink()  # may be a hard link to the user's file
            target.write_text(_drop_entries(text, drop), encoding="utf-8")
    return dest


# --------------------------------------------------------------------------
# the scanned tree: nothing outside it is read into a render
# --------------------------------------------------------------------------

_WALK_LIMIT = 200_000


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(path)


def within(path: str | os.PathLike, tree: str | os.PathLike) -> bool:
    """Whether ``path``, symbolic links resolved, lies in ``tree`` (itself resolved)."""
    real, top = _real(path), _real(tree)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def outside_links(chart: Path, tree: Path) -> list[tuple[str, str]]:
    """(path relative to ``chart``, resolved target) of every symbolic link below ``chart`` that
    leads outside ``tree``.  Linked folders inside the tree are walked too (Helm's loader follows
    them); each real folder once, so link loops end."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    stack: list[tuple[str, str]] = [(str(chart), "")]
    count = 0
    while stack:
        directory, prefix = stack.pop()
        real = _real(directory)
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            count += 1
            if count > _WALK_LIMIT:
                return out
            rel = f"{prefix}{entry.name}"
            try:
                link = entry.is_symlink()
                if link and not within(entry.path, tree):
                    out.append((rel, _real(entry.path)))
                    continue
                if entry.is_dir():
                    stack.append((entry.path, rel + "/"))
            except OSError:
                continue
    return sorted(out)


_FILES_CALL = re.compile(r"\.Files\.(Get|GetBytes|Glob|Lines|AsConfig|AsSecrets)\s+(?:\(\s*)?[\"`]([^\"`]*)[\"`]")


def files_refusals(chart: Path, tree: Path) -> list[HelmProblem]:
    """A ``.Files.Get``/``.Files.Glob``... of a literal path outside the chart in a template: Helm
    only serves the chart's own files, so it gets nothing; say so (the path is refused)."""
    import posixpath

    problems: list[HelmProblem] = []
    templates = chart / "templates"
    if not templates.is_dir() or not within(templates, tree):
        return problems
    count = 0
    for dirpath, dirnames, filenames in os.walk(templates):
        dirnames[:] = sorted(d for d in dirnames if within(os.path.join(dirpath, d), tree))
        for name in sorted(filenames):
            count += 1
            if count > _WALK_LIMIT:
                return problems
            path = os.path.join(dirpath, name)
            if not within(path, tree) or not os.path.isfile(path):
                continue
            try:
                if os.path.getsize(path) > 10_000_000:
                    continue
                with open(path, "rb") as fh:
                    text = fh.read().decode("utf-8", "replace")
            except OSError:
                continue
            if ".Files." not in text:
                continue
            rel = Path(path).relative_to(chart).as_posix()
            for m in _FILES_CALL.finditer(text):
                arg = m.group(2)
                norm = posixpath.normpath(arg) if arg else arg
                if arg.startswith("/") or norm == ".." or norm.startswith("../"):
                    problems.append(
                        HelmProblem(
                            rel,
                            _line_at(text, m.start()),
                            f"refused path {arg!r} in `.Files.{m.group(1)}`: it is outside the chart, and nothing"
                            " outside the chart (or the scanned tree) is read; Helm gives it no content",
                            "outside-tree",
                            "warning",
                        )
                    )
    return problems


def _link_problems(links: Sequence[tuple[str, str]], where: str = "") -> list[HelmProblem]:
    return [
        HelmProblem(
            f"{where}{rel}",
            1,
            f"refused {where}{rel}: it is a symbolic link to {target}, outside the scanned tree, so it was left"
            " out of the render (nothing outside the scanned tree is read)",
            "outside-tree",
            "warning",
        )
        for rel, target in links
    ]


def _dep_enabled(dep: dict, values: dict) -> bool:
    """Helm's processDependencyEnabled for one dependency of the top chart."""
    enabled = True
    tags = values.get("tags") if isinstance(values, dict) else None
    dep_tags = dep.get("tags") or []
    if isinstance(tags, dict) and dep_tags:
        states = [tags[t] for t in dep_tags if isinstance(tags.get(t), bool)]
        if states and not any(states):
            enabled = False
        elif any(states):
            enabled = True
    for path in str(dep.get("condition") or "").split(","):
        path = path.strip()
        if not path:
            continue
        node: Any = values
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, bool):
            return node
    return enabled


def _missing_problems(plan: _Plan, values: dict, rendered_ok: bool) -> list[HelmProblem]:
    problems = []
    for dep, reasons in plan.missing:
        name = dep.get("name")
        desc = ", ".join(
            f"{k} {dep[k]}" for k in ("version", "repository") if dep.get(k)
        )
        msg = f'dependency "{name}"' + (f" ({desc})" if desc else "") + f" is declared in {dep['_file']} but not available offline"
        if reasons:
            msg += ": " + "; ".join(reasons)
        msg += (
            ". Make it available: vendor it with `helm dependency build`, add the chart"
            " (directory or .tgz) under charts/, or point `[tool.pitfall.helm] chart-dirs`"
            " at a directory holding it."
        )
        disabled = not _dep_enabled(dep, values)
        if disabled:
            msg += " It is disabled by its condition/tags for these values, so nothing is lost."
            severity = "note"
        else:
            msg += (
                " The chart was rendered without it, so coverage is partial."
                if rendered_ok
                else " Rendering without it failed (see the render error), so coverage is partial."
            )
            severity = "warning"
        problems.append(HelmProblem(dep["_file"], int(dep["_line"]), msg, "missing-dependency", severity))
    return problems


# --------------------------------------------------------------------------
# render
# --------------------------------------------------------------------------


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return str(path)


def _problem_from_failure(
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
    message = _clean_message(raw, chart_name, replace)
    if stage == "values-file":
        f = Path(resp.get("file", ""))
        m = re.search(r"yaml: line (\d+)", raw)
        return HelmProblem(_rel(f, root), int(m.group(1)) if m else 1, f"cannot read values file: {message}", "render-error", "error")
    if stage == "set":
        return HelmProblem("Chart.yaml", 1, f"invalid --set value {resp.get('expr')!r}: {message}", "render-error", "error")
    if stage in ("unavailable", "crash"):
        return HelmProblem("Chart.yaml", 1, f"the Helm renderer failed: {message}", "render-error", "error")
    files_root = root if root.is_dir() else None
    if resp.get("type") == "HelmValuesError" and "schema" in raw:
        schema_path, schema_line = _schema_location(raw, files_root)
        return HelmProblem(schema_path, schema_line, message, "render-error", "error")
    path, line = _locate(raw, chart_name, files_root)
    invalid = stage == "load" or resp.get("type") in ("HelmChartLoadError", "HelmChartInvalidError")
    if path is None:
        path = "Chart.yaml"
    if invalid and path == "Chart.yaml" and line == 1:
        line = chart_line
    return HelmProblem(path, line, message, "invalid-chart" if invalid else "render-error", "error")


def _classify_cli(stderr: str) -> str:
    text = stderr
    if re.search(r"Chart\.yaml|validation: chart\.|error unpacking subchart|cannot load |chart metadata", text):
        return "load"
    return "render"


def _render_cli(
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


def _cli_values(chart_root: Path, packaged: bool, req: dict, tree: Path | None = None) -> tuple[dict, HelmProblem | None]:
    """Merged values for a ``helm template`` render (Python approximation:
    the chart's own defaults, not its subcharts')."""
    import yaml

    try:
        if packaged:
            text = _archive_files(chart_root, ("values.yaml",))[1].get("values.yaml", "")
        else:
            p = chart_root / "values.yaml"
            text = p.read_text(encoding="utf-8") if p.is_file() and (tree is None or within(p, tree)) else ""
        defaults = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, UnicodeDecodeError, tarfile.TarError, yaml.YAMLError):
        defaults = {}
    user: dict = {}
    for f in req["values_files"]:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
            return {}, HelmProblem(_rel(Path(f), chart_root), line, f"cannot read values file: {exc}", "render-error", "error")
        if isinstance(data, dict):
            user = _merge_maps(user, data)
    user = _merge_maps(user, req.get("extra_values") or {})
    for expr in req["set_values"]:
        try:
            if _sdk_available():
                import helm_python as hp

                parsed = hp.parse_set_string(expr)
            else:
                parsed = _parse_set_fallback(expr)
        except Exception as exc:
            return {}, HelmProblem("Chart.yaml", 1, f"invalid --set value {expr!r}: {exc}", "render-error", "error")
        user = _merge_set(user, parsed)
    return _coalesce(defaults if isinstance(defaults, dict) else {}, user), None


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
    packaged = _is_archive(chart)
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

    use_sdk = backend == "sdk" or (backend == "auto" and _sdk_available())
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
                        f"refused values file {f}: it resolves to {_real(f)}, outside the scanned tree, which is never read",
                        "outside-tree",
                        "warning",
                    )
                )
        req["values_files"] = kept_values
        if not packaged:
            refused = outside_links(chart, tree)
            problems.extend(_link_problems(refused))
            problems.extend(files_refusals(chart, tree))
    plan = _Plan()
    if tree is not None and info is not None and info.dependencies:
        for d in chart_dirs:
            if not within(d, tree):
                problems.append(
                    HelmProblem(
                        "Chart.yaml",
                        1,
                        f"refused chart-dirs folder {d}: it resolves to {_real(d)}, outside the scanned tree, which is never read",
                        "outside-tree",
                        "warning",
                    )
                )
    if info is not None:
        try:
            plan = _plan_dependencies(info, packaged, [Path(d) for d in chart_dirs], tree)
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
    overrides = _chart_overrides(chart) if not packaged else {}
    stage = bool(plan.add or plan.missing or refused or marked or overrides)
    reuse = _STAGED.get()
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
    stage_tmp = _temporary_directory() if stage and kept is None else None
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
                target = _assemble(chart, packaged, info, plan, Path(stage_tmp.name), tree, placed=placed)
                replace[str(target)] = str(chart)
                for rel, text in overrides.items():
                    staged = target / rel
                    if staged.is_file():  # a file the copy holds (never a new path)
                        staged.unlink()  # may be a hard link to the user's file
                        staged.write_text(text, encoding="utf-8")
                if marked:
                    from linter.helm import origin as helmorigin

                    nonce = helmorigin.new_nonce()
                    sources = _instrument(target, placed, nonce)
            except (OSError, tarfile.TarError, HelmChartError, ValueError) as exc:
                problems.append(HelmProblem("Chart.yaml", 1, f"cannot prepare the chart for rendering: {exc}", "invalid-chart", "error"))
                # never render the chart itself when that would read outside the scanned tree
                target = None if refused else chart
            if reuse is not None:
                reuse[stage_key] = (target, sources, nonce) if target != chart else (chart, {}, None)
                _STAGED_TEMPS.get().append(stage_tmp)
        chart_name = info.name if info is not None else None
        chart_line = info_error.line if info_error is not None else 1
        if target is None:
            use_sdk = True  # nothing to render: skip both backends
        elif use_sdk:
            req["chart"] = os.path.abspath(target)
            resp = _run_sdk(req, timeout)
            if resp.get("stage") == "unavailable" and backend == "auto" and shutil.which("helm"):
                use_sdk = False
            elif resp.get("ok"):
                docs = _docs_from_manifests(resp["manifests"], nonce)
                merged = resp.get("values") or {}
            else:
                problems.append(_problem_from_failure(_unmarked(resp, nonce), root=root, chart_name=chart_name, replace=replace, timeout=timeout, chart_line=chart_line))
        if not use_sdk and target is not None:
            helm_bin = helm_bin or shutil.which("helm") or "helm"
            cli_tmp = _temporary_directory()
            merged, values_problem = _cli_values(root, packaged, req, tree)
            if values_problem is not None:
                problems.append(values_problem)
            else:
                resp = _render_cli(helm_bin, target, req, Path(cli_tmp.name), timeout)
                if resp.get("ok"):
                    stream, line_origins = resp["stream"], None
                    if nonce is not None:
                        from linter.helm import origin as helmorigin

                        stream, line_origins = helmorigin.strip(stream, nonce)
                    docs = split_rendered(stream, line_origins)
                else:
                    problems.append(_problem_from_failure(_unmarked(resp, nonce), root=root, chart_name=chart_name, replace=replace, timeout=timeout, chart_line=chart_line))
        if info_error is not None and not any(p.kind == "invalid-chart" for p in problems):
            # Helm accepted what our reading of Chart.yaml rejected: still say so.
            problems.append(HelmProblem(info_error.path, info_error.line, info_error.message, "invalid-chart", "error"))
        rendered_ok = not any(p.severity == "error" for p in problems)
        problems[:0] = _missing_problems(plan, merged, rendered_ok)
    finally:
        if tmp_obj is not None:
            tmp_obj.cleanup()
        if cli_tmp is not None:
            cli_tmp.cleanup()
    return RenderResult(tuple(docs), tuple(problems), merged, sources)


# staged chart copies kept for the renders of one chart (see reuse_staging)
_STAGED: ContextVar[dict[tuple, tuple[Path | None, dict[int, str], str | None]] | None] = ContextVar("pitfall_helm_staged", default=None)
_STAGED_TEMPS: ContextVar[list[tempfile.TemporaryDirectory]] = ContextVar("pitfall_helm_staged_temps")


@contextlib.contextmanager
def reuse_staging() -> Iterator[None]:
    """Within this block, renders of the same chart share one staged copy (dependencies
    placed, templates instrumented): value sets and hint checks differ only in values. The
    copies are removed when the block ends."""
    temps: list[tempfile.TemporaryDirectory] = []
    token = _STAGED.set({})
    token2 = _STAGED_TEMPS.set(temps)
    try:
        yield
    finally:
        _STAGED.reset(token)
        _STAGED_TEMPS.reset(token2)
        for tmp in temps:
            tmp.cleanup()


def _chart_overrides(chart: Path) -> dict[str, str]:
    """The unsaved buffers (:data:`OVERRIDES`) of files inside ``chart``, by path relative to it."""
    given = OVERRIDES.get()
    if not given:
        return {}
    top = _real(chart)
    out = {}
    for path, text in given.items():
        real = _real(path)
        if real.startswith(top.rstrip(os.sep) + os.sep):
            out[os.path.relpath(real, top)] = text
    return out


_INSTRUMENT_LIMIT = 2 * 1024 * 1024  # bytes: a larger template renders without markers


def _instrument(staged: Path, placed: dict[Path, Path], nonce: str) -> dict[int, str]:
    """Write origin markers into every template of the staged chart and of its subcharts
    (replacing the staged file, never the user's: staged files may be hard links). Returns
    file index -> source path: relative to the chart, or absolute for a dependency placed from
    outside it (``placed``: staged folder -> the folder it was copied from)."""
    from linter.helm import origin as helmorigin

    sources: dict[int, str] = {}
    roots = sorted(((p, src) for p, src in placed.items()), key=lambda item: -len(str(item[0])))
    for folder, _, files in os.walk(staged):
        here = Path(folder)
        parts = here.relative_to(staged).parts
        if "templates" not in parts:
            continue
        for name in sorted(files):
            path = here / name
            if name == "NOTES.txt" or path.is_symlink():
                continue
            try:
                if path.stat().st_size > _INSTRUMENT_LIMIT:
                    continue
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            source = next(((src, path.relative_to(p)) for p, src in roots if within(path, p)), None)
            shown = str(source[0] / source[1]) if source else path.relative_to(staged).as_posix()
            index = len(sources)
            marked = helmorigin.instrument_cached(helmorigin.determinize(text), index, nonce)
            if marked == text:
                continue
            sources[index] = shown
            path.unlink()
            path.write_text(marked, encoding="utf-8")
    return sources


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
    if not _sdk_available():
        return []
    if tree is None:
        tree = SCAN_TREE.get()
    plan = _Plan()
    if chart_dirs and chart.is_dir():
        try:
            plan = _plan_dependencies(chart_info(chart), False, [Path(d) for d in chart_dirs], tree)
        except (OSError, HelmChartError):
            plan = _Plan()
    if chart.is_dir() and (plan.add or (tree is not None and outside_links(chart, tree))):
        with _temporary_directory() as tmp:
            try:
                staged = _assemble(chart, False, None, _Plan(add=plan.add), Path(tmp), tree)
            except (OSError, HelmChartError, ValueError, tarfile.TarError):
                return []
            problems = _lint_chart(staged, values, timeout)
        return [HelmProblem(p.path, p.line, p.message.replace(str(staged), str(chart)), p.kind, p.severity) for p in problems]
    return _lint_chart(chart, values, timeout)


def _lint_chart(chart: Path, values: dict | None, timeout: float) -> list[HelmProblem]:
    resp = _run_sdk({"op": "lint", "chart": os.path.abspath(chart), "values": values}, timeout)
    try:
        name: str | None = chart_info(chart).name
    except HelmChartError:
        name = None
    if not resp.get("ok"):
        if resp.get("stage") == "unavailable":
            return []
        p = _problem_from_failure(resp, root=chart, chart_name=name, replace={}, timeout=timeout)
        return [HelmProblem(p.path, p.line, p.message, "timeout" if p.kind == "timeout" else "lint", p.severity)]
    problems = []
    files_root = chart if chart.is_dir() else None
    for msg in resp["report"].get("messages") or ():
        raw = str(msg.get("error", ""))
        path = str(msg.get("path", "") or "")
        loc_path, line = _locate(raw, name, files_root)
        if loc_path is not None:
            path = loc_path
        elif os.path.isabs(path):
            path = _rel(Path(path), chart)
            path = "Chart.yaml" if path in (".", "") or os.path.isabs(path) else path
        if not path or path.endswith("/"):
            path = path or "Chart.yaml"
        severity = _LINT_SEVERITY.get(int(msg.get("severity", 0) or 0), "note")
        problems.append(HelmProblem(path, line, _clean_message(raw, name), "lint", severity))
    return problems
