"""Paths -> units: walk directories, honour .gitignore and excludes, map files to charts."""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from linter.core.config import Settings

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})
YAML_SUFFIXES = frozenset({".yaml", ".yml", ".json"})
CERT_SUFFIXES = frozenset({".pem", ".crt", ".cer", ".cert", ".key", ".der", ".p8", ".pk8"})
CERT_NAMES = frozenset({"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"})  # OpenSSH keys have no suffix


@dataclass(frozen=True, slots=True)
class Unit:
    kind: str  # "python" | "yaml" | "chart" | "cert" | "path" (a path that cannot be followed, see below)
    path: str  # display path (posix, relative to the scan root when inside it)
    abspath: str


# A unit of kind "path" is a path discovery found but cannot follow: a folder it cannot list, a
# symlink loop, a named path it cannot stat. It is never analysed: reading it fails, and
# `read_file` says why, so it becomes an LNT001 finding for that path like any unreadable file.


class Unreadable(Exception):
    """A file that is not read: ``reason`` says why (``too_big``: over the size cap)."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_big = too_big


_FILE_TYPES = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def read_file(abspath: str, max_size: int) -> bytes:
    """The bytes of a regular file of at most ``max_size`` bytes; raises :class:`Unreadable`.

    The one way pitfall reads a file it lints: opened without blocking (a FIFO never hangs the
    run), its type checked on the open descriptor, its size checked before and while reading.
    """
    fd, st = _open_regular(abspath)
    try:
        if st.st_size > max_size:
            raise Unreadable(f"{st.st_size} bytes is over the max-file-size limit of {max_size} bytes", too_big=True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > max_size:  # the file grew while it was read
                raise Unreadable(f"over the max-file-size limit of {max_size} bytes", too_big=True)
            chunks.append(chunk)
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def read_head(abspath: str, size: int) -> bytes:
    """The first ``size`` bytes (or fewer) of a regular file, opened as :func:`read_file` opens
    it; raises :class:`Unreadable`."""
    fd, _ = _open_regular(abspath)
    try:
        return os.read(fd, size)
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def _open_regular(abspath: str) -> tuple[int, os.stat_result]:
    """A descriptor of ``abspath``, opened without blocking, and its status; raises
    :class:`Unreadable` (the descriptor closed) unless it is a regular file."""
    try:
        fd = os.open(abspath, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise Unreadable(_why(abspath, exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # a folder discovery could not list, or one named like a file
            try:
                with os.scandir(abspath):
                    pass
            except OSError as exc:
                raise Unreadable(_why(abspath, exc)) from None
        if not stat.S_ISREG(st.st_mode):
            what = next((name for test, name in _FILE_TYPES if test(st.st_mode)), "not a file")
            raise Unreadable(f"not a regular file ({what})")
    except OSError as exc:
        os.close(fd)
        raise Unreadable(exc.strerror or str(exc)) from None
    except Unreadable:
        os.close(fd)
        raise
    return fd, st


def _why(abspath: str, exc: OSError) -> str:
    """Why ``abspath`` cannot be opened or listed, in words."""
    if exc.errno == errno.ELOOP:
        return "a symlink loop (too many levels of symbolic links)"
    reason = exc.strerror or str(exc)
    if os.path.isdir(abspath):
        return f"a folder that cannot be listed ({reason})"
    return reason


def _safely(test: Callable[[Path], bool], path: Path) -> bool:
    """``test(path)``, False where the path cannot be looked at (a folder without permission, a loop)."""
    try:
        return test(path)
    except OSError:
        return False


_is_file = functools.partial(_safely, Path.is_file)
_is_dir = functools.partial(_safely, Path.is_dir)
_is_symlink = functools.partial(_safely, Path.is_symlink)
_exists = functools.partial(_safely, Path.exists)


def _is_loop(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _resolve(path: Path) -> Path:
    """``path.resolve()``; for a symlink loop (which resolve refuses) its folder resolved plus its name."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        pass
    try:
        return path.parent.resolve() / path.name
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def unit_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return "python"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in CERT_SUFFIXES or path.name in CERT_NAMES:
        return "cert"
    return None


def display_path(path: Path, root: Path) -> str:
    resolved = _resolve(path)
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return resolved.as_posix()


def named_folders(paths: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """The folders among the command line's paths, as display paths ending in ``/``, longest first."""
    folders = {display_path(cwd / p, cwd.resolve()).rstrip("/") + "/" for p in paths if _is_dir(cwd / p)}
    return tuple(sorted((f for f in folders if f not in ("./", "/")), key=len, reverse=True))


def chart_root(path: Path, stop: Path | None = None) -> Path | None:
    """Nearest folder at or above ``path`` holding a Chart.yaml."""
    current = path if _is_dir(path) else path.parent
    for directory in (current, *current.parents):
        if _is_file(directory / "Chart.yaml"):
            return directory
        if stop is not None and directory == stop:
            break
    return None


class _Ignores:
    """Exclude globs and nested .gitignore files."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.patterns = tuple(settings.exclude) + tuple(settings.extend_exclude)
        self.root = root
        self.use_git = settings.respect_gitignore
        self._specs: dict[Path, pathspec.PathSpec | None] = {}
        self._chains: dict[str, list[tuple[str, pathspec.PathSpec]]] = {}
        # each glob (as fnmatch.fnmatchcase reads it): it matches the name, the display path or
        # (with a "/") what lies below it, or (without) one of the path's folders
        self._compiled: list[tuple[Callable[[str], Any], Callable[[str], Any] | None]] = []
        for pattern in self.patterns:
            pat = pattern.rstrip("/")
            below = re.compile(fnmatch.translate(pat.rstrip("*").rstrip("/") + "/*")).match if "/" in pat else None
            self._compiled.append((re.compile(fnmatch.translate(pat)).match, below))

    def excluded(self, path: Path, rel: str | None = None) -> bool:
        """``rel``: the path's display path when the caller has it (a path found by the walk)."""
        if rel is None:
            rel = display_path(path, self.root)
        name = path.name
        folders = Path(rel).parts[:-1] if self._compiled else ()
        for match, below in self._compiled:
            if match(name) or match(rel):
                return True
            if below is not None:
                if below(rel):
                    return True
            elif any(match(part) for part in folders):
                return True
        return False

    def _spec(self, directory: Path) -> pathspec.PathSpec | None:
        if directory not in self._specs:
            spec = None
            gi = directory / ".gitignore"
            if _is_file(gi):
                try:
                    spec = pathspec.GitIgnoreSpec.from_lines(gi.read_text(encoding="utf-8", errors="replace").splitlines())
                except (OSError, ValueError):
                    spec = None
            self._specs[directory] = spec
        return self._specs[directory]

    def gitignored(self, path: Path, is_dir: bool, *, resolved: bool = False) -> bool:
        """``resolved``: ``path`` is already canonical (found by the walk below a resolved top)."""
        if not self.use_git:
            return False
        text = str(path) if resolved else str(_resolve(path))
        for directory, spec in self._chain(os.path.dirname(text)):
            rel = text[len(directory) :].lstrip("/") + ("/" if is_dir else "")
            if spec.match_file(rel):
                return True
        return False

    def _chain(self, directory: str) -> list[tuple[str, pathspec.PathSpec]]:
        """The .gitignore specs that apply in ``directory``: its own and its parents', up to the
        folder holding ``.git``."""
        chain = self._chains.get(directory)
        if chain is None:
            spec = self._spec(Path(directory))
            chain = [(directory, spec)] if spec is not None else []
            parent = os.path.dirname(directory)
            if parent != directory and not _exists(Path(directory) / ".git"):
                chain = chain + self._chain(parent)
            self._chains[directory] = chain
        return chain


def discover(paths: Sequence[str], settings: Settings, *, cwd: Path, force_exclude: bool = False) -> tuple[list[Unit], list[str]]:
    """Units to lint, and messages about paths that do not exist."""
    root = cwd.resolve()
    ignores = _Ignores(settings, root)
    units: dict[str, Unit] = {}
    missing: list[str] = []

    def add(kind: str, path: Path) -> None:
        key = str(_resolve(path))
        if key not in units:
            units[key] = Unit(kind, display_path(path, root), key)

    def add_found(kind: str, path: Path, rel: str) -> None:  # a canonical path from the walk
        key = str(path)
        if key not in units:
            units[key] = Unit(kind, rel, key)

    for raw in paths or ["."]:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        try:
            is_dir = stat.S_ISDIR(os.stat(path).st_mode)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                missing.append(raw)
            else:  # a symlink loop, a folder on the way without permission: a finding for the path
                add("path", path)
            continue
        if not is_dir:  # a file, or something else a kind of file is named like (a FIFO)
            if force_exclude and (ignores.excluded(path) or ignores.gitignored(path, False)):
                continue
            chart = chart_root(path) if unit_kind(path) in ("yaml", None) or path.name.endswith(".tpl") else None
            if chart is not None:
                if not (force_exclude and (ignores.excluded(chart) or ignores.gitignored(chart, True))):
                    add("chart", chart)
                continue
            if path.suffix == ".tgz" and path.name.count(".") >= 1:
                add("chart", path)
                continue
            kind = unit_kind(path)
            if kind is not None:
                add(kind, path)
            continue
        if force_exclude and _resolve(path) != root and (ignores.excluded(path) or ignores.gitignored(path, True)):
            continue
        chart = chart_root(_resolve(path))
        if chart is not None:
            add("chart", chart)
            continue
        for kind, found, rel in _walk(_resolve(path), ignores, root):
            if rel is None:
                add(kind, found)
            else:
                add_found(kind, found, rel)
    return sorted(units.values(), key=lambda u: u.path), missing


def _walk(top: Path, ignores: _Ignores, root: Path) -> Iterator[tuple[str, Path, str | None]]:
    """Units below ``top`` (resolved) with their display paths relative to ``root`` (None: to be
    worked out by the caller). Symlinks are not followed, so every path found below a resolved
    top is canonical and its display path is plain string work; a folder that cannot be listed
    and a symlink loop named like a file pitfall lints are units of kind "path" (findings)."""
    if _is_file(top / "Chart.yaml"):
        yield "chart", top, None
        return
    unlisted: list[OSError] = []  # os.walk's errors: folders it could not list
    root_text = str(root)
    prefix = root_text.rstrip("/") + "/"

    def shown(path: str) -> str:
        if path == root_text:
            return "."
        return path[len(prefix) :] if path.startswith(prefix) else Path(path).as_posix()

    def cannot_list() -> Iterator[tuple[str, Path, str | None]]:
        while unlisted:
            error = unlisted.pop()
            if error.filename is not None:
                yield "path", Path(os.fsdecode(error.filename)), None

    for dirpath, dirnames, filenames in os.walk(top, onerror=unlisted.append):
        yield from cannot_list()
        base = Path(dirpath)
        keep = []
        for d in sorted(dirnames):
            sub = base / d
            text = os.path.join(dirpath, d)
            if _is_symlink(sub) or ignores.excluded(sub, shown(text)) or ignores.gitignored(sub, True, resolved=True):
                continue
            if _is_file(sub / "Chart.yaml"):
                yield "chart", sub, shown(text)
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            f = base / name
            kind = unit_kind(f)
            if kind is None:
                if name.endswith(".tgz") and _is_packaged_chart(f):
                    yield "chart", f, None
                continue
            text = os.path.join(dirpath, name)
            if ignores.excluded(f, shown(text)):
                continue
            if _is_symlink(f):  # not followed; but a loop is a broken path, said as a finding
                if _is_loop(f) and not ignores.gitignored(f, False):
                    yield "path", f, None
                continue
            if ignores.gitignored(f, False, resolved=True):
                continue
            yield kind, f, shown(text)
    yield from cannot_list()


def _is_packaged_chart(path: Path) -> bool:
    import tarfile

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO named *.tgz would block the open
            return False
        with tarfile.open(path, "r:gz") as tar:
            for i, member in enumerate(tar):
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "Chart.yaml":
                    return True
                if i > 50:
                    break
    except (OSError, tarfile.TarError, EOFError):
        return False
    return False
