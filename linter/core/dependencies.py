"""What a scanned project depends on, read from its manifests (never by running its code).

A pack with ``applies-to: fastapi>=0.104`` is active when the project declares that
distribution in a version the specifier allows. The project's declarations are read from the
files Python projects use to say so, at the root of the scan and in sub-projects a few folders
down (a monorepo's ``backend/pyproject.toml``):

- ``pyproject.toml``: ``[project]`` dependencies and optional dependencies, ``[dependency-groups]``,
  Poetry's ``[tool.poetry.dependencies]`` and its groups;
- ``requirements*.txt``/``.in`` and the ``.txt``/``.in`` files of a ``requirements/`` folder;
- ``setup.cfg`` (``install_requires``, ``extras_require``) and the literal lists of ``setup.py``
  (parsed, not run);
- ``Pipfile``;
- the pinned versions of ``poetry.lock``, ``uv.lock``, ``pdm.lock`` and ``Pipfile.lock``.

Each declaration keeps the file it came from, so ``pitfall packs`` can say why a pack is on.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from linter.core.model import Pack
from linter.core.toml import tomllib

if TYPE_CHECKING:
    from linter.core.discover import Watch

MAX_DEPTH = 3
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
SKIP_DIRS = frozenset({"node_modules", "site-packages", "dist-packages", "venv", "__pycache__", "build", "dist"})
LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock")


@dataclass(frozen=True)
class Declared:
    """One dependency the project declares: the requirement, its file, and the version pinned by
    a lock file (None for a requirement's specifier)."""

    name: str  # canonical distribution name
    requirement: str  # as written (normalised by packaging)
    source: str  # the manifest, relative to the scan root
    pinned: str | None = None

    def versions(self) -> list[Version]:
        """The versions this declaration says are in use: the pinned one, or the lower bounds
        and exact pins of its specifier."""
        if self.pinned is not None:
            try:
                return [Version(self.pinned)]
            except InvalidVersion:
                return []
        from packaging.requirements import InvalidRequirement, Requirement

        out = []
        try:
            spec = Requirement(self.requirement).specifier
        except InvalidRequirement:
            return []
        for s in spec:
            if s.operator in ("==", "===", ">=", "~=", ">") and "*" not in s.version:
                try:
                    out.append(Version(s.version))
                except InvalidVersion:
                    continue
        return out


# PEP 508 names a distribution first; PEP 503 makes the name canonical. Requirements are parsed
# (packaging.requirements, slow to import) only for the distributions a caller asks about.
_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)", re.ASCII)
_SEPARATORS = re.compile(r"[-_.]+")


def canonical_name(name: str) -> str:
    """A distribution name as PEP 503 compares it (``Django_Redis`` -> ``django-redis``)."""
    return _SEPARATORS.sub("-", name).lower()


def requirement_name(spec: str) -> str | None:
    """The canonical name of the distribution a PEP 508 requirement names, None if it names none."""
    m = _NAME.match(spec)
    return canonical_name(m.group(1)) if m is not None else None


def _requirement(text: str, source: str, want: Collection[str] | None) -> Declared | None:
    if want is not None and requirement_name(text) not in want:
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(text.strip())
    except (InvalidRequirement, TypeError):
        return None
    return Declared(canonical_name(req.name), str(req), source)


def _read_text(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _toml(path: Path) -> dict[str, object]:
    text = _read_text(path)
    if text is None:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:  # an invalid manifest declares nothing; the scan is not about it
        return {}
    return data if isinstance(data, dict) else {}


def _poetry_spec(name: str, value: object) -> str:
    """Poetry's ``name = "^1.2"`` (or a table with ``version``) as a PEP 508 requirement (the
    caret and tilde forms keep their lower bound, which is what applies-to compares)."""
    version = value.get("version") if isinstance(value, dict) else value
    if not isinstance(version, str) or version.strip() in ("", "*"):
        return name
    version = version.strip()
    if version[0] in "^~" and not version.startswith("~="):
        return f"{name}>={version.lstrip('^~').strip()}"
    if version[0].isdigit():
        return f"{name}=={version}"
    return f"{name}{version}"


def _from_pyproject(path: Path, rel: str, want: Collection[str] | None) -> Iterator[Declared]:
    data = _toml(path)
    project = data.get("project")
    specs: list[object] = []
    if isinstance(project, dict):
        specs.extend(project.get("dependencies") or [])
        for group in (project.get("optional-dependencies") or {}).values():
            specs.extend(group or [])
    groups = data.get("dependency-groups")
    for group in groups.values() if isinstance(groups, dict) else ():
        specs.extend(g for g in group or [] if isinstance(g, str))
    for spec in specs:
        if isinstance(spec, str) and (d := _requirement(spec, rel, want)):
            yield d
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
        groups = poetry.get("group")
        if isinstance(groups, dict):
            tables.extend(g.get("dependencies") for g in groups.values() if isinstance(g, dict))
        for table in tables:
            if not isinstance(table, dict):
                continue
            for name, value in table.items():
                if canonical_name(name) == "python":
                    continue
                if d := _requirement(_poetry_spec(name, value), rel, want):
                    yield d


_CONTINUATION = re.compile(r"\\\s*$")


def _from_requirements(path: Path, rel: str, want: Collection[str] | None) -> Iterator[Declared]:
    text = _read_text(path)
    if text is None:
        return
    for line in text.splitlines():
        line = _CONTINUATION.sub("", line.split(" #", 1)[0]).strip()
        if not line or line.startswith(("#", "-", "--")) or "://" in line:
            continue
        line = line.split(" --", 1)[0]  # per-requirement options: --hash=...
        if d := _requirement(line, rel, want):
            yield d


def _from_setup_cfg(path: Path, rel: str, want: Collection[str] | None) -> Iterator[Declared]:
    import configparser

    text = _read_text(path)
    if text is None:
        return
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return
    values = []
    if parser.has_option("options", "install_requires"):
        values.append(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        values.extend(v for _, v in parser.items("options.extras_require"))
    for value in values:
        for line in value.splitlines():
            if (line := line.split("#", 1)[0].strip()) and (d := _requirement(line, rel, want)):
                yield d


def _from_setup_py(path: Path, rel: str, want: Collection[str] | None) -> Iterator[Declared]:
    import ast

    text = _read_text(path)
    if text is None or "setup" not in text:
        return
    try:
        with warnings.catch_warnings():  # about the project's setup.py: not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg not in ("install_requires", "extras_require"):
                continue
            try:
                value = ast.literal_eval(kw.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            groups = value.values() if isinstance(value, dict) else [value]
            for group in groups:
                for spec in group if isinstance(group, (list, tuple)) else ():
                    if isinstance(spec, str) and (d := _requirement(spec, rel, want)):
                        yield d


def _from_pipfile(path: Path, rel: str, want: Collection[str] | None) -> Iterator[Declared]:
    data = _toml(path)
    for section in ("packages", "dev-packages"):
        table = data.get(section)
        if not isinstance(table, dict):
            continue
        for name, value in table.items():
            version = value.get("version") if isinstance(value, dict) else value
            spec = name if not isinstance(version, str) or version.strip() == "*" else f"{name}{version.strip()}"
            if d := _requirement(spec, rel, want):
                yield d


_PACKAGE_TABLE = re.compile(r"^\[\[package\]\][ \t]*\r?$", re.M)


def _lock_packages(path: Path, wanted: Collection[str] | None) -> object:
    """The ``[[package]]`` array of a lock file. With ``wanted``, only the entries whose text
    names one of them are parsed (each entry, with its sub-tables, is TOML on its own; a lock of
    a large project is megabytes); should one not parse alone, the whole file is."""
    if wanted is None:
        return _toml(path).get("package")
    text = _read_text(path)
    if text is None:
        return None
    forms = {form for name in wanted for form in (name, name.replace("-", "_"), name.replace("-", "."))}
    starts = [m.start() for m in _PACKAGE_TABLE.finditer(text)]
    entries = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)])]
    try:
        return [tomllib.loads(e)["package"][0] for e in entries if any(f in e.lower() for f in forms)]
    except (tomllib.TOMLDecodeError, KeyError, IndexError, TypeError):
        return _toml(path).get("package")


def _from_lock(path: Path, rel: str, wanted: Collection[str] | None = None) -> Iterator[Declared]:
    packages = _lock_packages(path, wanted)
    for package in packages if isinstance(packages, list) else ():
        if isinstance(package, dict) and isinstance(package.get("name"), str) and isinstance(package.get("version"), str):
            name = canonical_name(package["name"])
            yield Declared(name, name, rel, pinned=package["version"])


def _from_pipfile_lock(path: Path, rel: str) -> Iterator[Declared]:
    text = _read_text(path)
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return
    for section in ("default", "develop"):
        table = data.get(section) if isinstance(data, dict) else None
        for name, value in (table or {}).items():
            version = value.get("version") if isinstance(value, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                yield Declared(canonical_name(name), canonical_name(name), rel, pinned=version[2:])


def _mentions(path: Path, wanted: Collection[str] | None) -> bool:
    """Whether a lock file can pin one of ``wanted`` (canonical names; None: any): a lock file of
    a large project is megabytes of TOML, parsed only when it names a distribution asked about."""
    if wanted is None:
        return True
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return False
        text = path.read_bytes().lower()
    except OSError:
        return False
    return any(form.encode() in text for name in wanted for form in {name, name.replace("-", "_"), name.replace("-", ".")})


def _manifests(
    folder: Path, rel: str, names: frozenset[str], subfolders: frozenset[str], wanted: Collection[str] | None, watch: Watch | None = None
) -> Iterator[Declared]:
    """The declarations of one folder, whose file names are ``names`` (only the manifests there
    are opened; ``watch`` is told each before it is)."""

    def seen(path: Path) -> Path:
        if watch is not None:
            watch(str(path))
        return path

    def at(name: str) -> tuple[Path, str]:
        return seen(folder / name), f"{rel}/{name}" if rel else name

    readers: tuple[tuple[str, Callable[[Path, str, Collection[str] | None], Iterator[Declared]]], ...] = (
        ("pyproject.toml", _from_pyproject),
        ("setup.cfg", _from_setup_cfg),
        ("setup.py", _from_setup_py),
        ("Pipfile", _from_pipfile),
    )
    for name, read in readers:
        if name in names:
            yield from read(*at(name), wanted)
    if "Pipfile.lock" in names and _mentions(seen(folder / "Pipfile.lock"), wanted):
        yield from _from_pipfile_lock(*at("Pipfile.lock"))
    for name in LOCK_FILES:
        if name in names and _mentions(seen(folder / name), wanted):
            yield from _from_lock(*at(name), wanted)
    for name in sorted(n for n in names if n.startswith("requirements") and n.endswith((".txt", ".in"))):
        yield from _from_requirements(*at(name), wanted)
    if "requirements" in subfolders:
        inner = seen(folder / "requirements")  # its listing
        for path in sorted([*inner.glob("*.txt"), *inner.glob("*.in")]):
            yield from _from_requirements(seen(path), f"{rel}/requirements/{path.name}" if rel else f"requirements/{path.name}", wanted)


def _project_folders(root: Path, watch: Watch | None = None) -> Iterator[tuple[Path, str, frozenset[str], frozenset[str]]]:
    """The scan root and its sub-folders down to MAX_DEPTH, each with the names of its files and
    of its sub-folders, listed once (hidden, virtual-environment and build folders left out;
    symbolic links not followed, so nothing outside the root is read)."""
    pending: list[tuple[Path, str, int]] = [(root, "", 0)]
    while pending:
        folder, rel, depth = pending.pop(0)
        if watch is not None:
            watch(str(folder))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        files: set[str] = set()
        folders: set[str] = set()
        for entry in entries:
            try:
                if entry.is_file(follow_symlinks=False):
                    files.add(entry.name)
                elif entry.is_dir(follow_symlinks=False):
                    folders.add(entry.name)
            except OSError:
                continue
        yield folder, rel, frozenset(files), frozenset(folders)
        if depth >= MAX_DEPTH:
            continue
        for name in sorted(folders):
            if not name.startswith(".") and name not in SKIP_DIRS:
                pending.append((folder / name, f"{rel}/{name}" if rel else name, depth + 1))


def installed_file(module: str) -> tuple[str | None, int | None, int | None]:
    """Where module ``module`` is installed (its entry file), with that file's size and
    modification time, found without importing it: an upgrade rewrites the file. ``None`` for
    what cannot be found."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None)
    try:
        st = os.stat(origin) if origin else None
    except OSError:
        st = None
    return origin, st.st_size if st else None, st.st_mtime_ns if st else None


def declared_dependencies(root: Path, wanted: Collection[str] | None = None, watch: Watch | None = None) -> list[Declared]:
    """Every dependency declared by the project at ``root`` and its sub-projects (a folder that
    cannot be read declares nothing; the scan reports it where it matters). ``wanted``: the
    distributions the caller asks about (canonical names); lock files that name none of them
    are not parsed, and only their declarations are kept. ``watch``: told each folder listed and
    each manifest looked at, before it is (``linter.core.cache.remembered``)."""
    want = None if wanted is None else frozenset(canonical_name(n) for n in wanted)
    out: list[Declared] = []
    for folder, rel, names, subfolders in _project_folders(root, watch):
        try:
            out.extend(d for d in _manifests(folder, rel, names, subfolders, want, watch) if want is None or d.name in want)
        except OSError:
            continue
    return out


def wanted_by(packs: Iterable[Pack]) -> frozenset[str]:
    """The distributions the ``applies-to`` of ``packs`` name."""
    return frozenset(name for p in packs for spec in p.applies_to if (name := requirement_name(spec)) is not None)


def satisfied(spec: str, declared: Sequence[Declared]) -> tuple[bool, list[Declared]]:
    """Whether the project declares ``spec`` (a PEP 508 requirement) and the declarations that
    decide it. A declaration without a version (``fastapi``) counts as any version; a lock file's
    pin decides over the specifiers beside it."""
    name = requirement_name(spec)
    mine = [d for d in declared if d.name == name]
    if not mine:
        return False, []
    from packaging.requirements import Requirement

    need = Requirement(spec)
    pinned = [d for d in mine if d.pinned is not None]
    evidence = pinned or mine
    versions = [v for d in evidence for v in d.versions()]
    if versions and not any(need.specifier.contains(v, prereleases=True) for v in versions):
        return False, evidence
    return True, evidence
