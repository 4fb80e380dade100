"""Project-wide signature index: which functions accept ``timeout``/``deadline``/``context``/``ctx``.

The context rules (``CTX102``) ask "does the function this call reaches accept the parameter the
caller was given?", across modules of the scanned project. The answer comes from a first pass
over the Python units, before the per-file analysis:

- ``build_index(sources)`` is pure: from ``(path, source bytes)`` pairs it builds a small,
  picklable ``ProjectIndex`` (module name -> function or ``Class.method`` name -> where it accepts
  each watched parameter). Only functions that accept one of the watched names get an entry.
  A file whose text holds none of the watched names as a word is skipped (``may_define``); the
  others are parsed by CPython's ``ast`` and only their module and class levels are walked. No
  libcst here, and no second reading of ``def`` headers from the text.
- ``index_units(units)`` is the I/O edge the runner calls: it reads the units, asks the disk which
  folders are packages, and reads the modules that functions with a watched parameter import
  when they are not units themselves (the pre-commit hook passes only the changed files).

The index is an input of the pure core (``engine.lint_unit`` gets it through the rule set), never
global state: an editor or an incremental run can rebuild it for the files that changed and pass
the new value in. Without an index a rule sees the signatures of the file it analyses only.
"""

from __future__ import annotations

import ast
import re
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from linter import core

if TYPE_CHECKING:
    from linter.core.discover import Watch

WATCHED = ("timeout", "deadline", "context", "ctx")

# a `def` header that can be a caller CTX102 checks: a timeout or deadline, or a context it must
# be given (`context=None` means "the ambient one": such a function is not asked to pass it on);
# the imports of a file that holds one are followed to modules that are not units of the run
CALLER_HEADER = re.compile(
    rb"def[ \t]+\w+[ \t]*\((?:[^()]*\([^()]*\))*[^()]*?"
    rb"(?:\b(?:timeout|deadline)\b|\b(?:context|ctx)\b(?![ \t]*(?::[^,)=]*)?=))"
)

# decorators that keep a function's call signature (matched on the last dotted component)
_KEEPS_SIGNATURE = frozenset(
    {"staticmethod", "classmethod", "abstractmethod", "cache", "lru_cache", "contextmanager", "asynccontextmanager", "override"}
)


@dataclass(frozen=True, slots=True)
class Signature:
    """Where one function accepts the watched parameters.

    ``params`` holds ``(name, positional index or None when keyword-only, passable by keyword)``
    for each watched parameter; the index counts ``self``/``cls``. ``kind`` is ``function``,
    ``method``, ``classmethod`` or ``staticmethod``. ``bounded``: the watched parameters whose
    default is a positive number (``timeout=5``): the function bounds itself when not given one.
    """

    kind: str
    params: tuple[tuple[str, int | None, bool], ...]
    bounded: frozenset[str] = frozenset()

    def accepts(self, name: str, *, bound: bool) -> tuple[int | None, bool] | None:
        """(positional index as the caller counts it, keyword allowed) or None.

        ``bound``: the call goes through an instance (``obj.m()``, ``self.m()``, a constructor)
        or a class method through its class, so the first parameter is filled implicitly.
        """
        for pname, index, keyword in self.params:
            if pname != name:
                continue
            if index is not None and bound and self.kind in ("method", "classmethod"):
                index -= 1
            return index, keyword
        return None


def signature_of(node: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> Signature | None:
    """The watched parameters of a ``def`` (None: it takes none, or a decorator may change it)."""
    kind = "method" if in_class else "function"
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
        if name not in _KEEPS_SIGNATURE:
            return None  # @overload stubs, @property, wrappers that may change the signature
        if in_class and name in ("staticmethod", "classmethod"):
            kind = name
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    params: list[tuple[str, int | None, bool]] = []
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    bounded: set[str] = set()
    for i, a in enumerate(positional):
        if a.arg in WATCHED:
            params.append((a.arg, i, i >= len(args.posonlyargs)))
            if _positive_number(defaults[i]):
                bounded.add(a.arg)
    for a, default in zip(args.kwonlyargs, args.kw_defaults):
        if a.arg in WATCHED:
            params.append((a.arg, None, True))
            if _positive_number(default):
                bounded.add(a.arg)
    return Signature(kind, tuple(params), frozenset(bounded)) if params else None


def _positive_number(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
        and node.value > 0
    )


@dataclass(frozen=True, slots=True)
class ProjectIndex:
    """Signatures of the scanned project's functions that accept a watched parameter.

    ``functions``: module name -> ``f`` / ``Class.method`` -> signature (a module name that two
    files claim gets no entry). ``modules``: unit path -> module name. ``aliases``: package
    module -> name re-exported from its ``__init__`` -> the absolute name it imports.
    ``fallback``: other names a module may be imported under (namespace packages, src layouts).
    """

    functions: Mapping[str, Mapping[str, Signature]] = field(default_factory=dict)
    modules: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    fallback: Mapping[str, str] = field(default_factory=dict)

    def module_of(self, path: str) -> str:
        found = self.modules.get(path)
        return found if found is not None else dotted_path(path)

    def lookup(self, qualname: str) -> tuple[str, Signature] | None:
        """``pkg.mod.f`` / ``pkg.mod.Class.m`` -> (name inside the module, signature)."""
        return self._lookup(qualname, 0)

    def _lookup(self, qualname: str, depth: int) -> tuple[str, Signature] | None:
        if depth > 4:
            return None
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            inner = ".".join(parts[cut:])
            funcs = self.functions.get(module)
            if funcs is None and module in self.fallback:
                funcs = self.functions.get(self.fallback[module])
            if funcs is not None:
                sig = funcs.get(inner)
                if sig is not None:
                    return inner, sig
            alias = self.aliases.get(module, {}).get(parts[cut])
            if alias is not None:
                return self._lookup(".".join([alias, *parts[cut + 1 :]]), depth + 1)
            if funcs is not None:
                return None
        return None


def dotted_path(path: str) -> str:
    """``pkg/mod.py`` -> ``pkg.mod``; ``pkg/__init__.py`` -> ``pkg`` (no package information)."""
    stem = path.rsplit(".", 1)[0] if path.endswith((".py", ".pyi")) else path
    parts = [p for p in stem.split("/") if p and p != "."]
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_name(path: str, packages: frozenset[str] | set[str]) -> str:
    """Import name of ``path``: the file's stem under the chain of enclosing package folders."""
    parts = [p for p in path.split("/") if p and p != "."]
    if not parts:
        return ""
    stem = parts[-1].rsplit(".", 1)[0]
    dirs = parts[:-1]
    names = [] if stem == "__init__" else [stem]
    while dirs and "/".join(dirs) in packages:
        names.insert(0, dirs[-1])
        dirs = dirs[:-1]
    if not names:  # an __init__.py outside any package chain: the folder is the module
        names = dirs[-1:] or [stem]
    return ".".join(names)


def absolute(name: str, current: str, is_package: bool) -> str | None:
    """Resolve a relative name (``.mod.f``, ``..pkg.f``) against the module that imports it."""
    if not name.startswith("."):
        return name
    level = len(name) - len(name.lstrip("."))
    rest = name[level:]
    base = current.split(".") if current else []
    if not is_package:
        base = base[:-1]
    if level > 1:
        if level - 1 > len(base):
            return None
        base = base[: len(base) - (level - 1)]
    joined = ".".join([*base, rest] if rest else base)
    return joined or None


_WATCHED_WORD = re.compile(rb"\b(?:timeout|deadline|context|ctx)\b")


def may_define(data: bytes) -> bool:
    """Whether a file can define a function with a watched parameter: the parameter's name is a
    word of its text as Python reads identifiers (NFKC: ``ｔimeout`` is ``timeout``; a file in
    another encoding than UTF-8 may be anything). A file that cannot is not parsed, unless
    ``PITFALL_NO_FAST_PATHS`` is set."""
    if _WATCHED_WORD.search(data) is not None or not core.FAST_PATHS:
        return True
    if data.isascii():
        return False
    if b"coding" in data:
        return True  # an encoding declaration (or the word in a comment): maybe not UTF-8
    try:
        text = unicodedata.normalize("NFKC", data.decode("utf-8"))
    except UnicodeDecodeError:
        return True
    return _WATCHED_WORD.search(text.encode("utf-8", "surrogatepass")) is not None


# statements whose blocks define names at the level they are in (a `def` inside them is reached by name)
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)


def _scan(tree: ast.Module) -> dict[str, Signature]:
    found: dict[str, Signature] = {}
    clashes: set[str] = set()

    def add(name: str, sig: Signature | None) -> None:
        if sig is None:
            return
        old = found.get(name)
        if old is not None and old != sig:
            clashes.add(name)  # two definitions disagree (if/else variants): trust neither
        found[name] = sig

    def walk(body: Sequence[ast.stmt], prefix: str, in_class: bool) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                add(prefix + stmt.name, signature_of(stmt, in_class))
            elif isinstance(stmt, ast.ClassDef):
                walk(stmt.body, f"{prefix}{stmt.name}.", True)
            elif isinstance(stmt, _BLOCKS) or stmt.__class__.__name__ == "TryStar":
                for block in ("body", "orelse", "finalbody"):
                    walk(getattr(stmt, block, ()), prefix, in_class)
                for handler in getattr(stmt, "handlers", ()):
                    walk(handler.body, prefix, in_class)

    walk(tree.body, "", False)
    for name in clashes:
        found.pop(name, None)
    return found


_FROM_IMPORT = re.compile(rb"^from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n\\]|\\[\s\S])*)", re.M)


def _reexports_text(data: bytes, current: str) -> dict[str, str]:
    """Top-level ``from x import a, b as c`` lines of a package ``__init__`` (text, no parse)."""
    out: dict[str, str] = {}
    for m in _FROM_IMPORT.finditer(data):
        base = m.group(1).decode("ascii", "replace")
        if base == "__future__":
            continue
        target = absolute(base, current, True) if base.startswith(".") else base
        if not target:
            continue
        names = re.sub(rb"#[^\n]*", b"", m.group(2)).strip(b"()").replace(b"\\", b" ")
        for item in names.split(b","):
            parts = item.split()
            if len(parts) == 1 and parts[0] != b"*":
                local = parts[0]
            elif len(parts) == 3 and parts[1] == b"as":
                local = parts[2]
            else:
                continue
            out[local.decode("ascii", "replace")] = f"{target}.{parts[0].decode('ascii', 'replace')}"
    return out


class SignatureMemo(Protocol):
    """Signatures already computed, by file content (the results cache keeps them between runs)."""

    def get(self, data: bytes) -> tuple[bool, dict[str, Signature] | None]:
        """(known, signatures): ``known`` is False when ``data`` was never scanned."""
        ...

    def put(self, data: bytes, sigs: dict[str, Signature] | None) -> None: ...


#: computes :func:`file_signatures` for many ``(data, path)`` pairs, in order (the runner may
#: spread them over processes); by default one after another in this process
ComputeMany = Callable[[Sequence[tuple[bytes, str]]], "list[dict[str, Signature] | None]"]


class _RunMemo:
    """Within one ``index_units`` call: a file is parsed once however often the index is rebuilt."""

    def __init__(self, outer: SignatureMemo | None) -> None:
        self.outer = outer
        self.known: dict[bytes, dict[str, Signature] | None] = {}

    def get(self, data: bytes) -> tuple[bool, dict[str, Signature] | None]:
        if data in self.known:
            return True, self.known[data]
        if self.outer is not None:
            hit, sigs = self.outer.get(data)
            if hit:
                self.known[data] = sigs
            return hit, sigs
        return False, None

    def put(self, data: bytes, sigs: dict[str, Signature] | None) -> None:
        self.known[data] = sigs
        if self.outer is not None:
            self.outer.put(data, sigs)


def compute_serially(items: Sequence[tuple[bytes, str]]) -> list[dict[str, Signature] | None]:
    return [file_signatures(data, path) for data, path in items]


def file_signatures(data: bytes, path: str) -> dict[str, Signature] | None:
    """The signatures one file's bytes define (``{}``: none), None when it does not parse."""
    try:
        with warnings.catch_warnings():  # SyntaxWarnings are about the scanned code: not ours to print
            warnings.simplefilter("ignore")
            tree = ast.parse(data, path)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return _scan(tree)


def build_index(
    sources: Iterable[tuple[str, bytes]],
    packages: Iterable[str] | None = None,
    *,
    memo: SignatureMemo | None = None,
    compute: ComputeMany | None = None,
    callee_only: Callable[[str], bool] | None = None,
) -> ProjectIndex:
    """The index of a project from its Python files (posix paths relative to the scan root).

    ``packages``: the folders that hold an ``__init__.py`` (default: those among ``sources``).
    Pure: the same input gives the same index. Files that do not parse are skipped (the analysis
    reports them). ``memo``: signatures known by content (the results cache's); ``compute``: how
    the others are computed (default: :func:`compute_serially`; the same answers in any case).
    ``callee_only(path)``: the file is never analysed as a caller (test code, where no rule that
    reads the index runs); such a file is parsed only when a caller can reach it (see
    :func:`_reachable`), since no lookup can end in it otherwise.
    """
    items = [(p, d) for p, d in sources if p.endswith(".py")]
    if packages is None:
        packages = {p.rsplit("/", 1)[0] for p, _ in items if p.rsplit("/", 1)[-1] == "__init__.py" and "/" in p}
    else:
        packages = set(packages)
    modules: dict[str, str] = {}
    claims: dict[str, list[str]] = {}
    suffixes: dict[str, set[str]] = {}
    for path, _ in items:
        name = module_name(path, packages)
        modules[path] = name
        claims.setdefault(name, []).append(path)
        full = dotted_path(path).split(".")
        for i in range(len(full)):
            suffix = ".".join(full[i:])
            if suffix:
                suffixes.setdefault(suffix, set()).add(name)
    ambiguous = {n for n, paths in claims.items() if len(paths) > 1}
    aliases: dict[str, dict[str, str]] = {}
    wanted: list[tuple[str, str, bytes]] = []
    for path, data in items:
        name = modules[path]
        if name in ambiguous or not name:
            continue
        if path.rsplit("/", 1)[-1] == "__init__.py" and b"import" in data:
            found = _reexports_text(data, name)
            if found:
                aliases[name] = found
        if may_define(data):
            wanted.append((name, path, data))
    if callee_only is not None:
        deferred = {path for _name, path, _data in wanted if callee_only(path)}
        if deferred:
            callers = [(modules[p], p, d) for p, d in items if p not in deferred and not callee_only(p)]
            reach = _reachable(callers, aliases)
            wanted = [w for w in wanted if w[1] not in deferred or _reached(w[0], reach)]
    answers: dict[str, dict[str, Signature] | None] = {}
    todo: list[tuple[str, str, bytes]] = []
    for name, path, data in wanted:
        hit, sigs = memo.get(data) if memo is not None else (False, None)
        if hit:
            answers[path] = sigs
        else:
            todo.append((name, path, data))
    if todo:
        computed = (compute or compute_serially)([(data, path) for _name, path, data in todo])
        for (_name, path, data), sigs in zip(todo, computed):
            answers[path] = sigs
            if memo is not None:
                memo.put(data, sigs)
    functions: dict[str, dict[str, Signature]] = {}
    for name, path, _data in wanted:
        sigs = answers[path]
        if sigs:
            functions[name] = sigs
    targets = functions.keys() | aliases.keys()
    fallback = {
        s: next(iter(names))
        for s, names in suffixes.items()
        if len(names) == 1 and s not in claims and next(iter(names)) in targets
    }
    return ProjectIndex(functions, modules, aliases, fallback)


def _reachable(callers: Iterable[tuple[str, str, bytes]], aliases: Mapping[str, Mapping[str, str]]) -> tuple[set[str], set[str]]:
    """Where the callers' lookups may start: (bases, prefixes). A lookup's name is a base (a name
    an import binds, :func:`_lookup_bases`, or a name a package reached re-exports) followed by
    attributes, and the module it ends in is one of its prefixes, under that name or a shorter
    (fallback) one: see :func:`_reached`."""
    bases: set[str] = set()
    for name, path, data in callers:
        bases |= _lookup_bases(data, name, path.endswith("__init__.py"))
    done: set[str] = set()
    while True:
        prefixes = {".".join(p[:i]) for p in (b.split(".") for b in bases) for i in range(1, len(p) + 1)}
        todo = [m for m in aliases if m not in done and _reached(m, (bases, prefixes))]
        if not todo:
            return bases, prefixes
        for module in todo:
            done.add(module)
            bases.update(aliases[module].values())


def _reached(module: str, reach: tuple[set[str], set[str]]) -> bool:
    """Whether a lookup may end in ``module``: one of its names (itself or a dotted suffix, the
    fallback names) is a prefix of a base, or lies under a base."""
    bases, prefixes = reach
    parts = module.split(".")
    for i in range(len(parts)):
        if ".".join(parts[i:]) in prefixes:
            return True
        if any(".".join(parts[i:j]) in bases for j in range(i + 1, len(parts) + 1)):
            return True
    return False


def _lookup_bases(data: bytes, current: str, is_package: bool) -> set[str]:
    """The absolute names a file's imports bind, which its calls are resolved through:
    ``import a.b`` binds ``a``, ``import a.b as c`` binds ``a.b``, ``from m import x`` binds
    ``m.x`` and ``from m import *`` every ``m.<name>``."""
    out: set[str] = set()
    for source, name, aliased in _import_items(data, current, is_package):
        if source is None:
            out.add(name if aliased else name.split(".")[0])
        elif name:
            out.add(source if name == "*" else f"{source}.{name}")
    return out


_IMPORT = re.compile(
    rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|(?:[^\n\\]|\\[\s\S])*)|import[ \t]+((?:[^\n\\;]|\\[\s\S])*))",
    re.M,
)


def imported_modules(data: bytes, current: str, is_package: bool) -> set[str]:
    """Absolute names a file may import modules under: ``from m import a`` gives ``m`` and
    ``m.a`` (``a`` may be a submodule), ``import a.b as c`` gives ``a.b``."""
    out: set[str] = set()
    for source, name, _aliased in _import_items(data, current, is_package):
        if source is None:
            out.add(name)
        elif not name:
            out.add(source)
        elif name != "*":
            out.add(f"{source}.{name}")
    return out


def _import_items(data: bytes, current: str, is_package: bool) -> Iterator[tuple[str | None, str, bool]]:
    """The imports of a file's text, read by a regular expression: ``(None, "a.b", aliased)`` for
    ``import a.b [as c]``; for ``from m import x [as y]`` first ``(m, "", False)``, then
    ``(m, "x", aliased)`` for each name (``*`` too), a relative ``m`` made absolute (one that
    cannot be gives nothing)."""
    for m in _IMPORT.finditer(data):
        if m.group(3) is not None:
            for item in m.group(3).replace(b"\\", b" ").split(b","):
                parts = item.split()
                if parts:
                    yield None, parts[0].decode("ascii", "replace"), len(parts) == 3 and parts[1] == b"as"
            continue
        base = m.group(1).decode("ascii", "replace")
        target = absolute(base, current, is_package) if base.startswith(".") else base
        if not target:
            continue
        yield target, "", False
        names = re.sub(rb"#[^\n]*", b"", m.group(2)).strip(b"()").replace(b"\\", b" ")
        for item in names.split(b","):
            parts = item.split()
            if parts:
                yield target, parts[0].decode("ascii", "replace"), len(parts) == 3 and parts[1] == b"as"


def read_source(abspath: str, max_file_size: int | None = None) -> bytes | None:
    """A Python file's bytes as the index reads them (a UTF-8 BOM left out); None when it
    cannot be read or is over ``max_file_size``."""
    from linter.core.discover import Unreadable, read_file

    try:
        data = read_file(abspath, max_file_size if max_file_size is not None else 1 << 62)
    except Unreadable:
        return None
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def index_units(
    units: Iterable[object],
    *,
    max_file_size: int | None = None,
    memo: SignatureMemo | None = None,
    compute: ComputeMany | None = None,
    callee_only: Callable[[str], bool] | None = None,
    watch: Watch | None = None,
) -> ProjectIndex:
    """Read the Python units of a run and index them (the runner's I/O edge). ``watch``: told
    each path looked up or read beyond the units' own files, before it is.

    Package folders are those with an ``__init__.py`` on disk, units or not. A module that a
    function with a watched parameter imports but that is not among the units (the pre-commit
    hook passes only the changed files) is read from disk when it lies in the importing file's
    source tree, so a run over a few files resolves the same callees as a run over the project.
    Such a module is never read from outside the scanned tree: a symbolic link (to a module or a
    package folder) that leads out of it is not followed.
    """
    import os

    def inside(path: str, top: str) -> bool:
        real = os.path.realpath(path)
        return real == top or real.startswith(top.rstrip(os.sep) + os.sep)

    def tree_of(display: str, abspath: str) -> str | None:
        """The scan root ``display`` is relative to (resolved), when it is relative."""
        abspath = abspath.rstrip("/")
        if display and not os.path.isabs(display) and not display.startswith("../") and abspath.endswith("/" + display):
            return os.path.realpath(abspath[: -len(display) - 1] or "/")
        return None

    sources: dict[str, bytes] = {}
    where: dict[str, str] = {}  # display path -> absolute path
    trees: dict[str, str | None] = {}  # display path -> the scanned tree it was found in
    for unit in units:
        if getattr(unit, "kind", None) != "python":
            continue
        path, abspath = unit.path, unit.abspath  # type: ignore[attr-defined]
        data = read_source(abspath, max_file_size)
        if data is not None and path.endswith(".py"):
            sources[path] = data
            where[path] = abspath
            trees[path] = tree_of(path, abspath)

    packages: set[str] = set()
    checked: set[str] = set()
    run_memo = _RunMemo(memo)  # the index is rebuilt as imports are followed: parse each file once

    def find_packages(path: str) -> None:
        disp, real = path, where[path]
        while "/" in disp.strip("/"):
            disp, real = disp.rsplit("/", 1)[0], os.path.dirname(real)
            if disp in checked:
                return
            checked.add(disp)
            init = os.path.join(real, "__init__.py")
            if watch is not None:
                watch(init, exists=True)
            if not os.path.isfile(init):
                return
            packages.add(disp)

    for path in list(sources):
        find_packages(path)
    index = build_index(sources.items(), packages, memo=run_memo, compute=compute, callee_only=callee_only)
    frontier = list(sources)
    for _ in range(3):  # a caller's import, a package re-export, the module it names
        known = set(index.modules.values())
        found: dict[str, str] = {}
        found_tree: dict[str, str] = {}
        for path in frontier:
            data = sources[path]
            name = index.module_of(path)
            init = path.endswith("__init__.py")
            wanted: set[str] = set()
            if CALLER_HEADER.search(data):
                wanted |= imported_modules(data, name, init)
            if init:
                wanted |= {t.rsplit(".", 1)[0] for t in index.aliases.get(name, {}).values()}
            # the source root: the folder the module's dotted name starts from
            depth = name.count(".") + 1 + (1 if init else 0)
            parts = path.split("/")
            if not name or depth > len(parts):
                continue
            disp_root = "/".join(parts[: len(parts) - depth])
            real_root = where[path]
            for _ in range(depth):
                real_root = os.path.dirname(real_root)
            # the tree modules may come from: the scan root, else the importing file's source root
            tree = trees.get(path) or os.path.realpath(real_root)
            for module in wanted - known:
                rel = module.replace(".", "/")
                for candidate in (f"{rel}.py", f"{rel}/__init__.py"):
                    disp = f"{disp_root}/{candidate}" if disp_root else candidate
                    if disp in sources or disp in found:
                        break
                    real = os.path.join(real_root, *candidate.split("/"))
                    if watch is not None:
                        watch(real)
                    if os.path.isfile(real):
                        if inside(real, tree):
                            found[disp] = real
                            found_tree[disp] = tree
                        break  # a module (or package folder) linked to outside the tree is not read
        added = []
        for disp, real in sorted(found.items()):
            data = read_source(real, max_file_size)
            if data is not None:
                sources[disp] = data
                where[disp] = real
                trees[disp] = found_tree[disp]
                find_packages(disp)
                added.append(disp)
        if not added:
            break
        index = build_index(sources.items(), packages, memo=run_memo, compute=compute, callee_only=callee_only)
        frontier = added
    return index
