"""Dependencies: which declared subcharts a render can have, offline.

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

helm_python's ``dependency_build``/``dependency_update`` fetch from repositories (network, a
``Chart.lock``), and its ``dependency_list`` only reports on what is already under ``charts/``;
the offline resolution from ``file://`` and ``chart-dirs`` with the reason for each miss is
ours. Conditions and tags are Helm's rule (``processDependencyEnabled``), applied here to say
whether a missing dependency is disabled anyway (Helm's renderer applies them itself).
"""

from __future__ import annotations

import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from linter.helm.chart import archive_files, is_archive
from linter.helm.model import ChartInfo, HelmProblem
from linter.helm.semver import compare, parse_version, satisfies
from linter.helm.tree import real, within
from linter.kubernetes.yamldocs import SAFE_LOADER


@dataclass(slots=True)
class Candidate:
    name: str
    version: str
    path: Path
    origins: frozenset[str] | None = None  # repository base URLs, when known


@dataclass(slots=True)
class Plan:
    add: list[tuple[dict, Candidate]] = field(default_factory=list)
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
        text = target.read_text(encoding="utf-8") if path.is_dir() else archive_files(path, ("Chart.yaml",))[1].get("Chart.yaml")
        data = yaml.load(text, Loader=SAFE_LOADER) if text else None
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
                loader = SAFE_LOADER
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


def _scan_chart_dir(directory: Path) -> list[Candidate]:
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
            elif is_archive(entry):
                paths.append(entry)
    origins = _index_origins(directory) if paths else {}
    out = []
    for path in paths:
        meta = _chart_meta(path)
        if meta:
            out.append(Candidate(meta[0], meta[1], path, origins.get(meta)))
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
            if entry.is_dir() or is_archive(entry):
                chart_meta = _chart_meta(entry)
                if chart_meta:
                    names.add(chart_meta[0])
    return names


def _meta_from_text(text: str) -> str | None:
    import yaml

    try:
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        return None
    return str(data["name"]) if isinstance(data, dict) and data.get("name") else None


def plan_dependencies(info: ChartInfo, packaged: bool, chart_dirs: Sequence[Path], tree: Path | None = None) -> Plan:
    plan = Plan()
    if not info.dependencies:
        return plan
    # a chart-dirs folder outside the scanned tree is never read (render reports the refusal)
    chart_dirs = [d for d in chart_dirs if tree is None or within(d, tree)]
    vendored = _vendored_names(info.root, packaged, tree)
    base = info.root.parent if packaged else info.root
    scanned: list[Candidate] | None = None
    for dep in info.dependencies:
        name = str(dep.get("name") or "")
        if not name or name in vendored:
            continue
        constraint = str(dep.get("version") or "")
        repo = str(dep.get("repository") or "")
        reasons: list[str] = []
        chosen: Candidate | None = None
        if repo.startswith("file://"):
            local = Path(repo[len("file://") :])
            local = local if local.is_absolute() else base / local
            outside = tree is not None and not within(local, tree)
            meta = _chart_meta(local) if local.exists() and not outside else None
            if outside:
                reasons.append(f"refused {repo}: it resolves to {real(local)}, outside the scanned tree, which is never read")
            elif meta is None:
                reasons.append(f"{repo} does not hold a chart")
            elif meta[0] != name:
                reasons.append(f'{repo} holds chart "{meta[0]}", not "{name}"')
            elif constraint and not satisfies(meta[1], constraint):
                reasons.append(f"{repo} holds version {meta[1]}, which does not satisfy {constraint}")
            else:
                chosen = Candidate(meta[0], meta[1], local)
        if chosen is None and chart_dirs:
            if scanned is None:
                scanned = [c for d in chart_dirs for c in _scan_chart_dir(Path(d))]
            good: list[Candidate] = []
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
                    va, vb = parse_version(cand.version), parse_version(best.version)
                    if va is not None and (vb is None or compare(va, vb) > 0):
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


def missing_problems(plan: Plan, values: dict, rendered_ok: bool) -> list[HelmProblem]:
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
