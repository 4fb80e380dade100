"""Paths -> units: walk directories, honour .gitignore and excludes, map files to charts."""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from linter.core.config import Settings

if TYPE_CHECKING:  # pathspec loads when a run first reads ignore patterns
    import pathspec

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


class Watch(Protocol):
    """Told each path an answer depends on, before it is looked at (``linter.core.cache.Snapshot``):
    a folder's listing, a file's bytes or, with ``exists``, only whether it is there."""

    def __call__(self, path: str, exists: bool = False) -> None: ...


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
    return kind_of(path.name)


def kind_of(name: str) -> str | None:
    """The unit kind of a file named ``name`` (None: not a file pitfall lints)."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if 0 < dot < len(name) - 1 else ""  # as ``Path.suffix`` reads it
    if suffix in PYTHON_SUFFIXES:
        return "python"
    if suffix in YAML_SUFFIXES:
        return "yaml"
    if suffix in CERT_SUFFIXES or name in CERT_NAMES:
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


def chart_root(path: Path, stop: Path | None = None, watch: Watch | None = None) -> Path | None:
    """Nearest folder at or above ``path`` holding a Chart.yaml (``watch`` is told each place looked at)."""
    current = path if _is_dir(path) else path.parent
    for directory in (current, *current.parents):
        if watch is not None:
            watch(str(directory / "Chart.yaml"), exists=True)
        if _is_file(directory / "Chart.yaml"):
            return directory
        if stop is not None and directory == stop:
            break
    return None


def _any_of(patterns: Iterable[str]) -> Callable[[str], Any] | None:
    """``match`` of one regex that matches what any of ``patterns`` matches (None: no pattern)."""
    alternatives = [f"(?:{p})" for p in patterns]
    return re.compile("|".join(alternatives)).match if alternatives else None


class IgnoreSpec:
    """Gitignore-style patterns (a ``.gitignore``, ``test-paths``): ``pathspec``'s answer, asked
    only of a path that one of the ignoring patterns matches (most paths match none, and the spec
    tries its patterns one by one)."""

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> IgnoreSpec:
        import pathspec

        return cls(pathspec.GitIgnoreSpec.from_lines(lines))

    def __init__(self, spec: pathspec.PathSpec) -> None:
        from pathspec.util import normalize_file

        self.spec = spec
        self._normalize = normalize_file
        self._candidate: Callable[[str], Any] | None = None
        # the patterns that ignore (a negation only takes a path back): their regexes as one,
        # named groups made plain so that they can stand side by side; a pattern this cannot
        # read leaves every path to the spec
        sources: list[str] = []
        for pattern in spec.patterns:
            if not getattr(pattern, "include", None):
                continue
            regex = getattr(pattern, "regex", None)
            if not isinstance(regex, re.Pattern) or not isinstance(regex.pattern, str) or "(?P=" in regex.pattern:
                return
            sources.append(re.sub(r"\(\?P<\w+>", "(?:", regex.pattern))
        try:
            self._candidate = _any_of(sources) or (lambda path: None)
        except re.error:
            self._candidate = None

    def match_file(self, rel: str) -> bool:
        if self._candidate is not None and self._candidate(self._normalize(rel)) is None:
            return False
        return bool(self.spec.match_file(rel))


class _Ignores:
    """Exclude globs and nested .gitignore files."""

    def __init__(self, settings: Settings, root: Path, watch: Watch | None = None) -> None:
        self.patterns = tuple(settings.exclude) + tuple(settings.extend_exclude)
        self.root = root
        self.watch = watch
        self.use_git = settings.respect_gitignore
        self._specs: dict[str, IgnoreSpec | None] = {}
        self._chains: dict[str, list[tuple[str, IgnoreSpec]]] = {}
        # folders the walk listed: (a `.gitignore` is among its names, a `.git` is)
        self._listed: dict[str, tuple[bool, bool]] = {}
        # each glob (as fnmatch.fnmatchcase reads it) matches the name, the display path or
        # (with a "/") what lies below it, or (without) one of the path's folders: one regex
        # of all the globs for each of the three questions
        globs = [pattern.rstrip("/") for pattern in self.patterns]
        self._whole = _any_of(fnmatch.translate(g) for g in globs)
        self._below = _any_of(fnmatch.translate(g.rstrip("*").rstrip("/") + "/*") for g in globs if "/" in g)
        self._folder = _any_of(fnmatch.translate(g) for g in globs if "/" not in g)

    def excluded(self, path: Path | str, rel: str | None = None) -> bool:
        """``rel``: the path's display path when the caller has it (a path found by the walk)."""
        if self._whole is None:
            return False
        if rel is None:
            rel = display_path(Path(path), self.root)
        if self._whole(os.path.basename(path)) or self._whole(rel):
            return True
        if self._below is not None and self._below(rel):
            return True
        if self._folder is not None:
            folders = Path(rel).parts[:-1] if rel.startswith("/") else rel.split("/")[:-1]
            return any(self._folder(part) for part in folders)
        return False

    def listed(self, directory: str, names: AbstractSet[str]) -> None:
        """The walk listed ``directory``: what it holds need not be looked up again."""
        self._listed[directory] = (".gitignore" in names, ".git" in names)

    def _spec(self, directory: str) -> IgnoreSpec | None:
        if directory not in self._specs:
            spec = None
            gi = Path(directory, ".gitignore") if self._listed.get(directory, (True, True))[0] else None
            if gi is not None and self.watch is not None:
                self.watch(str(gi))
            if gi is not None and _is_file(gi):
                try:
                    spec = IgnoreSpec.from_lines(gi.read_text(encoding="utf-8", errors="replace").splitlines())
                except (OSError, ValueError):
                    spec = None
            self._specs[directory] = spec
        return self._specs[directory]

    def gitignored(self, path: Path | str, is_dir: bool, *, resolved: bool = False) -> bool:
        """``resolved``: ``path`` is already canonical (found by the walk below a resolved top)."""
        if not self.use_git:
            return False
        text = str(path) if resolved else str(_resolve(Path(path)))
        for directory, spec in self._chain(os.path.dirname(text)):
            rel = text[len(directory) :].lstrip("/") + ("/" if is_dir else "")
            if spec.match_file(rel):
                return True
        return False

    def _exists(self, path: str) -> bool:
        if self.watch is not None:  # its folder's listing: a `.git` folder itself changes with every commit
            self.watch(os.path.dirname(path))
        return os.path.exists(path)

    def _chain(self, directory: str) -> list[tuple[str, IgnoreSpec]]:
        """The .gitignore specs that apply in ``directory``: its own and its parents', up to the
        folder holding ``.git``."""
        chain = self._chains.get(directory)
        if chain is None:
            spec = self._spec(directory)
            chain = [(directory, spec)] if spec is not None else []
            parent = os.path.dirname(directory)
            listed = self._listed.get(directory)
            if listed is not None:  # its listing (watched) said whether a `.git` is there
                git = listed[1] and os.path.exists(os.path.join(directory, ".git"))
            else:
                git = self._exists(os.path.join(directory, ".git"))
            if parent != directory and not git:
                chain = chain + self._chain(parent)
            self._chains[directory] = chain
        return chain


def discover(
    paths: Sequence[str], settings: Settings, *, cwd: Path, force_exclude: bool = False, watch: Watch | None = None
) -> tuple[list[Unit], list[str]]:
    """Units to lint, and messages about paths that do not exist. ``watch``: told, before it is
    looked at, each path the answer depends on (a folder listed, a file read or looked for),
    for ``linter.core.cache.Snapshot``."""
    root = cwd.resolve()
    ignores = _Ignores(settings, root, watch)
    units: dict[str, Unit] = {}
    missing: list[str] = []

    def add(kind: str, path: Path) -> None:
        key = str(_resolve(path))
        if key not in units:
            units[key] = Unit(kind, display_path(path, root), key)

    def add_found(kind: str, key: str, rel: str) -> None:  # a canonical path from the walk
        if key not in units:
            units[key] = Unit(kind, rel, key)

    for raw in paths or ["."]:
        path = (cwd / raw) if not os.path.isabs(raw) else Path(raw)
        if watch is not None:
            watch(str(path))
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
            chart = chart_root(path, watch=watch) if unit_kind(path) in ("yaml", None) or path.name.endswith(".tpl") else None
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
        chart = chart_root(_resolve(path), watch=watch)
        if chart is not None:
            add("chart", chart)
            continue
        for kind, found, rel in _walk(_resolve(path), ignores, root):
            if rel is None:
                add(kind, Path(found))
            else:
                add_found(kind, found, rel)
    return sorted(units.values(), key=lambda u: u.path), missing


def _walk(top: Path, ignores: _Ignores, root: Path) -> Iterator[tuple[str, str, str | None]]:
    """Units below ``top`` (resolved), their paths and their display paths relative to ``root``
    (None: to be worked out by the caller). Symlinks are not followed, so every path found below a resolved
    top is canonical and its display path is plain string work; a folder that cannot be listed
    and a symlink loop named like a file pitfall lints are units of kind "path" (findings).
    Folders are listed with ``os.scandir``, whose entries know whether they are links."""
    if _is_file(top / "Chart.yaml"):
        yield "chart", str(top), None
        return
    root_text = str(root)
    prefix = root_text.rstrip("/") + "/"

    def shown(path: str) -> str:
        if path == root_text:
            return "."
        return path[len(prefix) :] if path.startswith(prefix) else Path(path).as_posix()

    watch = ignores.watch
    pending = [str(top)]
    while pending:
        dirpath = pending.pop()
        if watch is not None:
            watch(dirpath)
        try:
            with os.scandir(dirpath) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # a folder that cannot be listed
            yield "path", dirpath, None
            continue
        ignores.listed(dirpath, {entry.name for entry in entries})
        folders: list[str] = []
        for entry in entries:
            name, text = entry.name, entry.path
            try:
                link = entry.is_symlink()
                folder = not link and entry.is_dir(follow_symlinks=False)
            except OSError:  # looked at as a file: its kind, then its opening, say the rest
                link = folder = False
            if folder or (link and os.path.isdir(text)):
                if link or ignores.excluded(text, shown(text)) or ignores.gitignored(text, True, resolved=True):
                    continue
                chart_file = os.path.join(text, "Chart.yaml")
                if os.path.isfile(chart_file):
                    if watch is not None:
                        watch(chart_file, exists=True)
                    yield "chart", text, shown(text)
                    continue
                folders.append(text)
                continue
            kind = kind_of(name)
            if kind is None:
                if name.endswith(".tgz") and watch is not None:
                    watch(text)
                if name.endswith(".tgz") and _is_packaged_chart(Path(text)):
                    yield "chart", text, None
                continue
            if ignores.excluded(text, shown(text)):
                continue
            if link:  # not followed; but a loop is a broken path, said as a finding
                if watch is not None:
                    watch(text)
                if _is_loop(Path(text)) and not ignores.gitignored(Path(text), False):
                    yield "path", text, None
                continue
            if ignores.gitignored(text, False, resolved=True):
                continue
            yield kind, text, shown(text)
        pending.extend(reversed(folders))  # depth first, in name order


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
