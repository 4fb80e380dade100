"""The staged copy a chart is rendered from: the chart (hard links) with its resolved
dependencies placed under ``charts/``, unresolvable ones dropped from Chart.yaml, symbolic links
that lead outside the scanned tree left out, unsaved editor buffers written in, and templates
carrying origin markers (see ``origin``). Renders of one chart share one copy
(:func:`reuse_staging`). The user's chart is never written to.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from linter.helm.chart import dep_nodes
from linter.helm.dependencies import Plan
from linter.helm.model import ChartInfo, HelmChartError
from linter.helm.tree import real, within
from linter.kubernetes.yamldocs import SAFE_LOADER

# unsaved editor buffers: real path of a chart file -> its text, rendered instead of the file
OVERRIDES: ContextVar[dict[str, str] | None] = ContextVar("pitfall_helm_overrides", default=None)


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

    node = yaml.compose(text, Loader=SAFE_LOADER)
    items = dep_nodes(node)
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
    data = yaml.load(text, Loader=SAFE_LOADER)
    deps = data.get("dependencies") or []
    data["dependencies"] = [d for i, d in enumerate(deps) if i not in set(drop)]
    return yaml.safe_dump(data, sort_keys=False)


def assemble(
    chart: Path, packaged: bool, info: ChartInfo | None, plan: Plan, tmp: Path, tree: Path | None = None, placed: dict[Path, Path] | None = None
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
            placed[where] = Path(real(cand.path))
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


# staged chart copies kept for the renders of one chart (see reuse_staging)
STAGED: ContextVar[dict[tuple, tuple[Path | None, dict[int, str], str | None]] | None] = ContextVar("pitfall_helm_staged", default=None)
STAGED_TEMPS: ContextVar[list[tempfile.TemporaryDirectory]] = ContextVar("pitfall_helm_staged_temps")


@contextlib.contextmanager
def reuse_staging() -> Iterator[None]:
    """Within this block, renders of the same chart share one staged copy (dependencies
    placed, templates instrumented): value sets and hint checks differ only in values. The
    copies are removed when the block ends."""
    temps: list[tempfile.TemporaryDirectory] = []
    token = STAGED.set({})
    token2 = STAGED_TEMPS.set(temps)
    try:
        yield
    finally:
        STAGED.reset(token)
        STAGED_TEMPS.reset(token2)
        for tmp in temps:
            tmp.cleanup()


def chart_overrides(chart: Path) -> dict[str, str]:
    """The unsaved buffers (:data:`OVERRIDES`) of files inside ``chart``, by path relative to it."""
    given = OVERRIDES.get()
    if not given:
        return {}
    top = real(chart)
    out = {}
    for path, text in given.items():
        resolved = real(path)
        if resolved.startswith(top.rstrip(os.sep) + os.sep):
            out[os.path.relpath(resolved, top)] = text
    return out


_INSTRUMENT_LIMIT = 2 * 1024 * 1024  # bytes: a larger template renders without markers


def instrument(staged: Path, placed: dict[Path, Path], nonce: str) -> dict[int, str]:
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
