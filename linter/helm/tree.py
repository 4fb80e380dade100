"""The scanned tree: nothing outside it is read into a render.

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

import os
import re
from collections.abc import Sequence
from contextvars import ContextVar
from pathlib import Path

from linter.helm.model import HelmProblem
from linter.helm.output import line_at

#: The scanned tree of the current run (set by the chart unit around its work): ``render``
#: and ``lint_chart`` read nothing outside it when they are not given ``tree``.
SCAN_TREE: ContextVar[Path | None] = ContextVar("pitfall_helm_scan_tree", default=None)

_WALK_LIMIT = 200_000


def real(path: str | os.PathLike) -> str:
    return os.path.realpath(path)


def within(path: str | os.PathLike, tree: str | os.PathLike) -> bool:
    """Whether ``path``, symbolic links resolved, lies in ``tree`` (itself resolved)."""
    resolved, top = real(path), real(tree)
    return resolved == top or resolved.startswith(top.rstrip(os.sep) + os.sep)


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
        resolved = real(directory)
        if resolved in seen:
            continue
        seen.add(resolved)
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
                    out.append((rel, real(entry.path)))
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
                            line_at(text, m.start()),
                            f"refused path {arg!r} in `.Files.{m.group(1)}`: it is outside the chart, and nothing"
                            " outside the chart (or the scanned tree) is read; Helm gives it no content",
                            "outside-tree",
                            "warning",
                        )
                    )
    return problems


def link_problems(links: Sequence[tuple[str, str]], where: str = "") -> list[HelmProblem]:
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


def chart_relative(path: Path, root: Path) -> str:
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).as_posix()
    except ValueError:
        return str(path)
