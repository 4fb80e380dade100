"""The results cache: a unit whose inputs did not change since an earlier run is not analysed again.

Where: the user's cache folder (``$XDG_CACHE_HOME/pitfall``, else ``~/.cache/pitfall``;
``PITFALL_CACHE_DIR`` overrides it), one folder a project (``projects/<sha256 of the project
root's real path>``); the ``cache-dir`` setting moves the project folders elsewhere. Nothing is
ever read from the scanned tree: a repository cannot plant entries.

What is trusted: nothing but data. Entries are JSON, never pickle or marshal: loading one runs no
code. Each file starts with an HMAC-SHA256 of its JSON body, under a secret key kept in the user's
cache folder (``PITFALL_CACHE_DIR`` or the default one, never ``cache-dir``, which a project's
configuration may set): a truncated, corrupted or foreign file, or one written by anyone without
the key, fails the check and is ignored (the unit is analysed again and the entry rewritten).
After the check every value is validated against the types of ``linter.core.model``.

Keys (sha256 of canonical JSON):

- the run's part: the cache format, pitfall's version and a digest of its own source files, the
  Python version, the versions of the libraries the analyzers use, every loaded pack (name,
  version, digest of its YAML files: ``packs.pack_digest``) and the source of the Python hooks of
  packs that are not built in, the selected rules with their options, and every setting that
  can change a result (all of them but ``jobs``, ``fail-on``, ``feedback``, ``cache``, ``cache-dir``,
  which act after the analysis or not on it);
- a file's part: its kind, display path, the sha256 of its bytes, whether it is test code for the
  run (``RuleSet.for_path``), for a certificate the names and sha256 of the key files beside it
  (``linter.certs.siblings.read_siblings``), and for a Python file, the digest of the signature index the run
  built (every field of ``ProjectIndex`` but ``modules``: every cross-file fact a unit may look up) and
  the file's own module name. A change to any function signature the index holds therefore
  re-analyses every Python file; a change inside a function body re-analyses that file only;
- a chart's part: every file of the chart (names, bytes, symbolic links), the folders of its
  ``file://`` dependencies, the ``helm.chart-dirs`` and the values files, the scanned tree the
  chart is confined to, and the renderer (helm-python and its version).

The bytes a key hashes are the bytes analysed: a worker stores a file's result under the hash of
what it read, a chart's under the digest taken before rendering if it is unchanged after. A stat
memo (size, mtime, inode, ctime, device -> sha256, as git's index does) saves reading unchanged
files on lookup; a file changed less than two seconds before it was hashed is not memoised (the
"racily clean" case: a change within the file system's timestamp granularity).

A result computed against the clock (a certificate's validity, ``linter.core.clock``) carries the
moment it may change, ``UnitResult.expires``: it is served until then, and analysed again after.

Not cached: results of a unit over its time budget, that crashed, or whose chart
render timed out or lost its renderer, charts rendered by the ``helm`` binary, files over
``max-file-size``. Suppressions, ``LNT003`` and notifications are part of a unit's result (they are
computed from the same inputs); the baseline, the feedback policy and ``--fix`` act after the
cache (``--fix`` lints a file again before it edits it). The language server does not use it.

Writes go to a temporary file then ``os.replace``: concurrent runs and killed runs never leave a
partial entry, and no lock is taken.

The signature index is cached per file: the scan of a file's ``def`` headers is keyed by the
sha256 of its bytes, so only changed files are scanned again (the ``scan`` hook of
``linter.python.index.index_units``).

A run over the same paths with the same run key starts from the last one's ``Snapshot``: the
units discovery found and their results, with the status of every path they depended on; it
walks the tree again only when one of those folders or files changed, and analyses only what
changed (see the class).

The start-up memo (``startup_memo``, ``<user cache>/startup/``, signed the same way) keeps what
every run reads before any file: the built-in packs' YAML as data and the installed plugin packs'
folders (``linter.core.packs.builtin_data`` and ``plugin_pack_dirs`` say what keys them).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linter.core import clock
from linter.core.forked import Forked

if TYPE_CHECKING:  # types only: the engine imports this module
    from linter.core.config import Settings
    from linter.core.discover import Unit, Watch
    from linter.core.engine import RuleSet
    from linter.core.packs import Memo
    from linter.core.model import UnitResult
    from linter.python.index import ComputeMany, ProjectIndex, Signature

FORMAT = 2
ENV = "PITFALL_CACHE_DIR"
_RACY_NS = 2_000_000_000  # a file changed this recently is hashed again next time
_MAX_MEMO = 200_000  # stat memo entries kept for a project
_NOT_KEYED = frozenset({"jobs", "fail_on", "feedback", "cache", "cache_dir"})
_VOLATILE = ("(unit-timeout)", "(unit-memory)", "the analysis crashed", "the Helm renderer failed", "cannot start worker processes")


# --------------------------------------------------------------------------- where


def user_cache_base() -> Path:
    """``PITFALL_CACHE_DIR``, else ``$XDG_CACHE_HOME/pitfall``, else ``~/.cache/pitfall``."""
    env = os.environ.get(ENV)
    if env:
        return Path(os.path.expanduser(env)).absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "pitfall"
    try:
        return Path.home() / ".cache" / "pitfall"
    except (RuntimeError, KeyError):
        raise OSError(f"no home folder to keep the cache in (set {ENV})") from None


def projects_folder(settings: Settings) -> Path:
    configured = getattr(settings, "cache_dir", None)
    base = Path(configured) if configured else user_cache_base()
    return base / "projects"


def project_folder(settings: Settings) -> Path:
    """The cache folder of the project whose root ``settings.root`` is."""
    real = os.path.realpath(str(settings.root))
    return projects_folder(settings) / hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def _secret() -> bytes | None:
    """The user's cache key (created on first use, mode 0600), or None when it cannot be had."""
    try:
        base = user_cache_base()
    except OSError:
        return None
    path = base / "key"
    try:
        return _read_key(path)
    except OSError:
        pass
    try:
        base.mkdir(parents=True, exist_ok=True)
        _tag(base)
        import secrets
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix=".key-", dir=base)
        try:
            os.write(fd, secrets.token_hex(32).encode())
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another run created meanwhile
        except FileExistsError:
            pass
        except OSError:
            os.replace(tmp, path)  # a file system without hard links
        finally:
            with _quiet():
                os.unlink(tmp)
        return _read_key(path)
    except OSError:
        return None


def _read_key(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            raise OSError("not our key")
        text = os.read(fd, 200).strip()
    finally:
        os.close(fd)
    if len(text) != 64 or any(c not in b"0123456789abcdef" for c in text):
        # a damaged key: replace it (the entries it signed are analysed again)
        os.unlink(path)
        raise OSError("damaged key")
    return bytes.fromhex(text.decode())


def _tag(folder: Path) -> None:
    """Mark a cache folder as such for backup tools (https://bford.info/cachedir/)."""
    tag = folder / "CACHEDIR.TAG"
    if not tag.exists():
        with _quiet():
            _write_atomic(tag, b"Signature: 8a477f597d28d172789f06886806bc55\n# pitfall's cache: `pitfall clean` removes it\n")


def _quiet() -> contextlib.suppress:
    """An OSError of the cache (a read-only or full disk) is never the run's error."""
    return contextlib.suppress(OSError)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with _quiet():
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------- signed JSON files


class Store:
    """Files of one project folder: ``<mac hex>\\n<canonical JSON>``."""

    def __init__(self, folder: Path, secret: bytes, root: str | None = "") -> None:
        self.folder = folder
        self.secret = secret
        self.root = root  # the project root, written beside the entries for `pitfall clean`
        self._described = root is None  # a folder of no project (``startup_memo``)

    def _path(self, name: str) -> Path:
        return self.folder / name

    def read(self, name: str) -> Any:
        """The JSON value of ``name``, or None (missing, unreadable, damaged, not ours)."""
        return self.read_file(name)[0]

    def read_file(self, name: str) -> tuple[Any, str | None]:
        """``read(name)``, and the identity of the file read (``_read_signed``; None: none read)."""
        raw, identity = _read_signed(self._path(name))
        if raw is None:
            return None, None
        mac, sep, body = raw.partition(b"\n")
        if not sep or not hmac.compare_digest(mac, self._mac(body)):
            return None, None
        try:
            return json.loads(body), identity
        except (ValueError, RecursionError):
            return None, None

    def write(self, name: str, value: Any) -> None:
        body = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
        with _quiet():
            if not self._described:
                self._describe()
            _write_atomic(self._path(name), self._mac(body) + b"\n" + body)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest().encode()

    def _describe(self) -> None:
        self._described = True
        about = self.folder / "project.json"
        if not about.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            _tag(self.folder.parent.parent)
            _write_atomic(about, json.dumps({"root": self.root}).encode() + b"\n")


def _read_signed(path: Path) -> tuple[bytes | None, str | None]:
    """The bytes of a cache file and its identity (device, inode, size, mtime of the descriptor
    read: a file written again is a new inode), or (None, None)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None, None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None, None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    return b"".join(chunks), f"{st.st_dev} {st.st_ino} {st.st_size} {st.st_mtime_ns}"


# --------------------------------------------------------------------------- results as data


def _hints(cls: type) -> list[tuple[str, Any]]:
    import typing

    found = typing.get_type_hints(cls)
    return [(f.name, found[f.name]) for f in fields(cls)]


_HINTS: dict[type, list[tuple[str, Any]]] = {}


class _Invalid(Exception):
    pass


def encode(value: Any) -> Any:
    """A result (``linter.core.model`` dataclasses) as plain JSON data."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise _Invalid(f"cannot store a {type(value).__name__}")


def decode(tp: Any, data: Any) -> Any:
    """``data`` as a value of type ``tp``; raises ``_Invalid`` for anything else."""
    import types
    import typing

    origin = typing.get_origin(tp)
    if origin in (typing.Union, getattr(types, "UnionType", typing.Union)):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise _Invalid("ambiguous type")
        return decode(rest[0], data)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(data, list):
            raise _Invalid("not a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        if len(args) != len(data):
            raise _Invalid("wrong length")
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(data, dict):
            raise _Invalid("not an object")
        hints = _HINTS.get(tp)
        if hints is None:
            hints = _HINTS[tp] = _hints(tp)
        if set(data) != {name for name, _ in hints}:
            raise _Invalid("fields differ")
        return tp(**{name: decode(t, data[name]) for name, t in hints})
    if tp is str and type(data) is str:
        return data
    if tp is int and type(data) is int:
        return data
    if tp is bool and type(data) is bool:
        return data
    if tp is float and type(data) in (int, float):
        return float(data)
    raise _Invalid(f"not a {getattr(tp, '__name__', tp)}")


def decode_result(data: Any) -> UnitResult | None:
    from linter.core.model import UnitResult

    try:
        result: UnitResult = decode(UnitResult, data)
        return result
    except (_Invalid, TypeError, ValueError, RecursionError):
        return None


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr).encode()).hexdigest()


# --------------------------------------------------------------------------- inputs


def _source_files() -> list[str]:
    """pitfall's own code: every ``.py`` file of the linter package, in name order."""
    here = str(Path(__file__).resolve().parents[1])
    found: list[str] = []
    pending = [here]
    while pending:
        folder = pending.pop()
        with _quiet(), os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.endswith(".py"):
                    found.append(entry.path)
                elif entry.name != "__pycache__" and entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return sorted(found, key=lambda p: os.path.relpath(p, here).replace(os.sep, "/"))


def _source_digest(files: Sequence[str]) -> str:
    """A change to an analyzer changes every key, released or not."""
    here = str(Path(__file__).resolve().parents[1])
    h = hashlib.sha256()
    for path in files:
        with _quiet():
            h.update(os.path.relpath(path, here).replace(os.sep, "/").encode() + b"\0" + Path(path).read_bytes() + b"\0")
    return h.hexdigest()


def remembered(memo: Memo | None, name: str, inputs: Any, compute: Callable[[Watch], Any]) -> Any:
    """``compute(watch)``, where ``compute`` tells ``watch`` each path its answer depends on before
    it reads it; or what ``memo`` kept under ``name`` for the same ``inputs`` (JSON data) while
    every such path has the status it had then (size, mtime, inode, ctime; a path that changed
    within two seconds of being looked at is not kept, as for the stat memo)."""
    key = _digest(inputs)
    if memo is not None:
        kept = memo.read(name)
        if isinstance(kept, dict) and kept.get("format") == FORMAT and kept.get("inputs") == key and isinstance(kept.get("paths"), dict):
            if _still(kept["paths"].items()):
                return kept.get("value")
    seen: dict[str, str | None] = {}
    started = time.time_ns()

    def watch(path: str, exists: bool = False) -> None:
        if path not in seen:
            seen[path] = _status(path, exists)

    value = compute(watch)
    if memo is not None and all(_settled(sig, started - _RACY_NS) for sig in seen.values()):
        memo.write(name, {"format": FORMAT, "inputs": key, "paths": seen, "value": value})
    return value


def _digests_of(files: Sequence[str], digest: Callable[[], Any]) -> Callable[[Watch], Any]:
    def compute(watch: Watch) -> Any:
        for path in files:
            watch(path)
        return digest()

    return compute


def _libraries() -> list[Any]:
    """Where the libraries the analyzers use are installed, and the size and time of their entry
    file: an upgrade rewrites them."""
    from linter.core.dependencies import installed_file

    names = ("libcst", "yaml", "ruamel.yaml", "jsonschema", "pathspec", "cryptography", "packaging", "helm_python")
    return [[name, *installed_file(name)] for name in names]


def _hook_sources(ruleset: RuleSet) -> list[Any] | None:
    """The source of the Python hooks (``module:name``) that rules of packs not built in name
    (None: one cannot be found, so results are not cached)."""
    import importlib.util
    import re

    ref = re.compile(r"^([A-Za-z_][\w.]*):[A-Za-z_]\w*$")
    external = {p.name for p in ruleset.packs if not p.builtin}
    modules: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            m = ref.match(value)
            if m and m.group(1) != "linter" and not m.group(1).startswith("linter."):
                modules.add(m.group(1))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    for rule in ruleset.rules:
        if rule.pack in external:
            walk(rule.matcher)
    out: list[Any] = []
    for name in sorted(modules):
        module = sys.modules.get(name)
        origin = getattr(module, "__file__", None)
        if origin is None:
            try:
                origin = getattr(importlib.util.find_spec(name), "origin", None)
            except (ImportError, ValueError):
                origin = None
        try:
            out.append([name, hashlib.sha256(Path(origin).read_bytes()).hexdigest()])  # type: ignore[arg-type]
        except (OSError, TypeError):
            return None
    return out


def run_key(ruleset: RuleSet, memo: Memo | None = None) -> str | None:
    """The part of every key the whole run shares (None: this run's results are not cached).
    ``memo``: where the digests of pitfall's code and of the packs' files are kept by the
    status of those files (read again only when one changed)."""
    from linter import __version__
    from linter.core.packs import pack_digest

    settings = ruleset.settings
    hooks = _hook_sources(ruleset)
    if hooks is None:
        return None
    shown: dict[str, Any] = {}
    for f in fields(settings):
        if f.name in _NOT_KEYED:
            continue
        shown[f.name] = _plain(getattr(settings, f.name))
    pack_files = [str(f) for p in ruleset.packs for f in sorted(Path(p.path).glob("*.yaml"))]
    try:
        digests = remembered(memo, "packs.json", pack_files, _digests_of(pack_files, lambda: [pack_digest(p) for p in ruleset.packs]))
    except OSError:
        return None
    if not (isinstance(digests, list) and len(digests) == len(ruleset.packs)):
        return None
    packs = [[p.name, p.version, p.origin, str(p.path), d] for p, d in zip(ruleset.packs, digests, strict=True)]
    sources = _source_files()
    return _digest(
        {
            "format": FORMAT,
            "pitfall": [__version__, remembered(memo, "source.json", sources, _digests_of(sources, lambda: _source_digest(sources)))],
            "python": [sys.implementation.name, list(sys.version_info), sys.platform],
            "libraries": _libraries(),
            "packs": packs,
            "active": sorted(p.name for p in ruleset.active_packs),
            "hooks": hooks,
            "rules": [[r.id, r.pack, _plain(r.options)] for r in ruleset.rules],
            "settings": shown,
        }
    )


def index_digest(index: ProjectIndex | None) -> str | None:
    """Every fact a unit may look up in the signature index but its own module name (which is in
    the unit's key): every field of ``ProjectIndex`` but ``modules``, a field added later too."""
    if index is None:
        return None
    return _digest({f.name: _plain(getattr(index, f.name)) for f in fields(index) if f.name != "modules"})


def _plain(value: Any) -> Any:
    """``value`` as JSON data whose text does not depend on the process (sets sorted)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _volatile(result: UnitResult) -> bool:
    texts = [f.message for f in result.findings if f.rule_id in ("LNT001", "LNT002")]
    texts += [n.message for n in result.notifications]
    if any(v in t for t in texts for v in _VOLATILE):
        return True
    return any(f.rule_id == "LNT002" and f.fingerprint.startswith("timeout:") for f in result.findings)


# --------------------------------------------------------------------------- the run's cache


class RunCache:
    """The cache of one run: lookups in the parent, stores wherever a unit is analysed (the
    forked workers inherit this object)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.key: str | None = None
        self.index_key: str | None = None
        self.memo: dict[str, list[str]] = {}  # absolute path -> [its status (``path_sig``), sha256]
        self.memo_changed = False
        self.analysed = 0  # units the run analysed (not found in the cache)
        self.watch: Watch | None = None  # told each path the signature index looks at (``Snapshot``)
        self.beside: dict[str, list[list[Any]]] = {}  # a certificate's key file candidates, as its lookup found them
        self._run_key: tuple[RuleSet, str | None] | None = None  # (the rule set, its run key)

    # ---- keys

    def _key_for(self, ruleset: RuleSet) -> str | None:
        """``run_key(ruleset)``, worked out once for the run's rule set."""
        if self._run_key is None or self._run_key[0] is not ruleset:
            self._run_key = (ruleset, run_key(ruleset, self.store))
        return self._run_key[1]

    def _unit_key(self, kind: str, path: str, digest: str, ruleset: RuleSet, siblings: Mapping[str, bytes] | None = None) -> str:
        test = ruleset.for_path(path) is not ruleset
        index = None
        if kind == "python" and ruleset.index is not None:
            index = [self.index_key, ruleset.index.module_of(path)]
        beside = sorted([name, hashlib.sha256(data).hexdigest()] for name, data in siblings.items()) if siblings else None
        return _digest([self.key, kind, path, digest, test, index, beside])

    def _chart_key(self, unit: Unit, ruleset: RuleSet) -> str | None:
        material = chart_material(unit, ruleset.settings)
        if material is None:
            return None
        test = ruleset.for_path(unit.path.rstrip("/") + "/") is not ruleset
        return _digest([self.key, "chart", unit.path, material, test])

    def _entry_name(self, key: str) -> str:
        return f"units/{key[:2]}/{key}.json"

    def _load(self, key: str, path: str) -> UnitResult | None:
        data = self.store.read(self._entry_name(key))
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            return None
        result = decode_result(data.get("result"))
        if result is None or result.path != path or (result.expires is not None and clock.now().timestamp() >= result.expires):
            return None
        return result

    def _save(self, key: str, result: UnitResult) -> None:
        if _volatile(result):
            return
        try:
            payload = encode(result)
        except _Invalid:
            return
        self.store.write(self._entry_name(key), {"format": FORMAT, "key": key, "result": payload})

    # ---- file digests, through the stat memo

    def file_digest(self, abspath: str) -> str | None:
        try:
            st = os.stat(abspath)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size > self.settings.max_file_size:
            return None
        sig = _sig_of(st)
        known = self.memo.get(abspath)
        if known is not None and known[0] == sig:
            return known[1]
        from linter.core.discover import Unreadable, read_file

        try:
            data = read_file(abspath, self.settings.max_file_size)
        except Unreadable:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if _settled(sig, time.time_ns() - _RACY_NS):
            self.memo[abspath] = [sig, digest]
            self.memo_changed = True
        return digest

    def _load_memo(self) -> None:
        data = self.store.read("stat.json")
        if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), dict):
            self.memo = {
                k: v
                for k, v in data["files"].items()
                if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], str)
            }

    def _save_memo(self) -> None:
        if not self.memo_changed:
            return
        # another run may have written meanwhile: keep its entries too
        mine = self.memo
        self._load_memo()
        merged = {**self.memo, **mine}
        if len(merged) > _MAX_MEMO:
            merged = dict(list(mine.items())[-_MAX_MEMO:])
        self.store.write("stat.json", {"format": FORMAT, "files": merged})

    # ---- the run

    def run(
        self, units: Sequence[Unit], ruleset: RuleSet, lint: Callable[[Sequence[Unit]], list[UnitResult]], progress: Callable[[int], None] | None = None
    ) -> list[UnitResult]:
        """The results of ``units``: from the cache where they are valid, from ``lint`` for the
        others (in the units' order). ``progress`` is told of the units the cache answered."""
        self.key = self._key_for(ruleset)
        if self.key is None:
            return lint(units)
        self.index_key = index_digest(ruleset.index)
        if not self.memo:
            self._load_memo()
        found: dict[str, Any] = {}
        for unit in units:
            result = self.lookup(unit, ruleset)
            if result is not None:
                found[unit.path] = result
        todo = [u for u in units if u.path not in found]
        self.analysed = len(todo)
        if found and progress is not None:
            progress(len(found))
        try:
            fresh = lint(todo) if todo else []
        finally:
            self._save_memo()
        found.update((r.path, r) for r in fresh)
        return [found[u.path] for u in units]

    def lookup(self, unit: Unit, ruleset: RuleSet) -> UnitResult | None:
        if unit.kind in ("python", "yaml", "cert"):
            digest = self.file_digest(unit.abspath)
            if digest is None:
                return None
            siblings = None
            if unit.kind == "cert":
                from linter.certs.siblings import read_siblings, sibling_paths

                self.beside[unit.abspath] = [[str(p), path_sig(str(p))] for p in sibling_paths(unit.abspath)]  # before they are read
                siblings = read_siblings(unit.abspath, self.settings.max_file_size)
            return self._load(self._unit_key(unit.kind, unit.path, digest, ruleset, siblings), unit.path)
        if unit.kind == "chart":
            key = self._chart_key(unit, ruleset)
            return self._load(key, unit.path) if key is not None else None
        return None

    # ---- stores (in the process that analysed the unit)

    def lint_file(
        self, unit: Unit, data: bytes, ruleset: RuleSet, lint: Callable[[], UnitResult], siblings: Mapping[str, bytes] | None = None
    ) -> UnitResult:
        """``lint()`` of a file read as ``data`` (a certificate's with its key files' bytes,
        ``siblings``); its result stored under the hash of ``data``."""
        if self.key is None or unit.kind not in ("python", "yaml", "cert"):
            return lint()
        result = lint()
        self._save(self._unit_key(unit.kind, unit.path, hashlib.sha256(data).hexdigest(), ruleset, siblings), result)
        return result

    def lint_chart(self, unit: Unit, ruleset: RuleSet, lint: Callable[[], UnitResult]) -> UnitResult:
        """``lint()`` of a chart, stored when none of its inputs changed while it was rendered."""
        if self.key is None:
            return lint()
        before = self._chart_key(unit, ruleset)
        result = lint()
        if before is not None and self._chart_key(unit, ruleset) == before:
            self._save(before, result)
        return result

    # ---- facts about the rules

    def rule_facts(self, ruleset: RuleSet, compute: Callable[[], tuple[bool, bool]]) -> tuple[bool, bool]:
        """``compute()`` (facts of the compiled rules), or what an earlier run with the same run
        key stored; stored for the next run."""
        key = self._key_for(ruleset)
        if key is None:
            return compute()
        stored = self.store.read("rules.json")
        if isinstance(stored, dict) and stored.get("format") == FORMAT and stored.get("key") == key:
            facts = stored.get("facts")
            if isinstance(facts, list) and len(facts) == 2 and all(type(f) is bool for f in facts):
                return facts[0], facts[1]
        value = compute()
        self.store.write("rules.json", {"format": FORMAT, "key": key, "facts": list(value)})
        return value

    # ---- the signature index

    def has_index(self) -> bool:
        """Whether an earlier run stored signatures (whose files need not be parsed again)."""
        return (self.store.folder / "index.json").is_file()

    def project_index(
        self, units: Sequence[Unit], max_file_size: int, compute: ComputeMany | None = None, callee_only: Callable[[str], bool] | None = None
    ) -> ProjectIndex:
        """The signature index of ``units``: files whose content was scanned before are not
        parsed again (``compute``, ``callee_only``: see ``index_units``)."""
        from linter.python.index import index_units

        memo = _IndexMemo(self.store.read("index.json"))
        index = index_units(units, max_file_size=max_file_size, memo=memo, compute=compute, callee_only=callee_only, watch=self.watch)
        if memo.changed or len(memo.used) != len(memo.stored):
            self.store.write("index.json", {"format": FORMAT, "files": memo.used})
        return index


class _IndexMemo:
    """The signatures of files by the SHA-256 of their content, as ``index.json`` keeps them; an
    entry that does not decode is computed again. ``used``: what the next file will hold."""

    def __init__(self, stored: Any) -> None:
        ok = isinstance(stored, dict) and stored.get("format") == FORMAT and isinstance(stored.get("files"), dict)
        self.stored: dict[str, Any] = stored["files"] if ok else {}
        self.used: dict[str, Any] = {}
        self.changed = False

    def get(self, data: bytes) -> tuple[bool, dict[str, Signature] | None]:
        from linter.python.index import Signature

        digest = hashlib.sha256(data).hexdigest()
        known = self.stored.get(digest)
        if known is not None:
            sigs = _decode_sigs(known, Signature)
            if sigs is not None:
                self.used[digest] = known
                return True, (None if sigs is _NO_SIGS else sigs)
        return False, None

    def put(self, data: bytes, sigs: dict[str, Signature] | None) -> None:
        self.used[hashlib.sha256(data).hexdigest()] = _encode_sigs(sigs)
        self.changed = True


def _encode_sigs(sigs: dict[str, Any] | None) -> Any:
    if sigs is None:
        return False
    return {name: [s.kind, [list(p) for p in s.params], sorted(s.bounded)] for name, s in sigs.items()}


def _decode_sigs(data: Any, Signature: type) -> Any:
    """The signatures of a memo entry (``_NO_SIGS``: the file does not parse), None when the
    entry is not valid."""
    if data is False:
        return _NO_SIGS
    if not isinstance(data, dict):
        return None
    out = {}
    try:
        for name, (kind, params, bounded) in data.items():
            if not isinstance(kind, str) or not all(isinstance(b, str) for b in bounded):
                return None
            ps = []
            for pname, index, keyword in params:
                if not isinstance(pname, str) or not (index is None or type(index) is int) or type(keyword) is not bool:
                    return None
                ps.append((pname, index, keyword))
            out[name] = Signature(kind, tuple(ps), frozenset(bounded))
    except (TypeError, ValueError):
        return None
    return out


class _NoSigs:
    """The memo's answer for a file whose scan found it unparsable."""


_NO_SIGS = _NoSigs()


def startup_memo(settings: Settings) -> Store | None:
    """What every run reads before any file (``linter.core.packs.Memo``): kept in the user's
    cache folder, signed like the results, for runs that use the cache."""
    if not getattr(settings, "cache", True):
        return None
    try:
        secret = _secret()
        folder = user_cache_base() / "startup"
    except OSError:
        return None
    return Store(folder, secret, None) if secret is not None else None


def open_cache(settings: Settings) -> RunCache | None:
    """The cache of a run with ``settings`` (None: disabled, or no usable cache folder)."""
    if not getattr(settings, "cache", True):
        return None
    try:
        secret = _secret()
        folder = project_folder(settings)
    except OSError:
        return None
    if secret is None:
        return None
    return RunCache(settings, Store(folder, secret, os.path.realpath(str(settings.root))))


# --------------------------------------------------------------------------- the last run of a tree


_KEPT_RUNS = 8  # snapshots kept for a project (one per set of paths and run key)


def path_sig(path: str) -> str | None:
    """A path's status (``_sig_of``); None: it does not exist (or cannot be looked at)."""
    try:
        return _sig_of(os.stat(path))
    except (OSError, ValueError):
        return None


def _sig_of(st: os.stat_result) -> str:
    """A file's status as text, ``"size mtime inode ctime device"`` (nanoseconds): what the stat
    memo, the snapshots and the memos by status compare."""
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ino} {st.st_ctime_ns} {st.st_dev}"


_THERE = "+"  # the status of a path only whose existence matters


def _status(path: str, exists: bool) -> str | None:
    """``path_sig(path)``, or with ``exists`` ``_THERE`` for a path that exists."""
    sig = path_sig(path)
    return _THERE if exists and sig is not None else sig


def _still(pairs: Iterable[Any]) -> bool:
    """Whether every ``(path, status)`` pair still holds (a status ``_THERE``: the path exists)."""
    return all(_status(path, sig == _THERE) == sig for path, sig in pairs)


def _settled(sig: str | None, limit: int) -> bool:
    """Whether the path of status ``sig`` last changed before ``limit`` (ns since the epoch)."""
    if sig is None or sig == _THERE:
        return True
    parts = sig.split()
    return max(int(parts[1]), int(parts[3])) < limit


class Snapshot:
    """What a run over these paths found, and the state of the tree it found it in: a run that
    finds the tree as it was skips discovery, and one that finds every file as it was takes the
    results too (``runs/<key>.json`` of the project folder, signed like every entry).

    The state is the status (size, mtime, inode, ctime, device) of every path the answer depends
    on, taken before the path was read or listed: each folder the walk listed (a file added,
    removed or renamed there changes its mtime), each ignore file, ``Chart.yaml``, packaged chart
    and link discovery looked at, each path the signature index looked up or read (a module that
    does not exist is recorded as missing, unless a folder whose listing is watched would show it
    appearing), each unit's file and a certificate's key file candidates. A path changed less
    than two seconds before it was looked at is not trusted ("racily clean", as for the stat
    memo): such a run saves no snapshot. Python results are taken all or none (the signature index
    joins them); charts, results that expired or were not stored, and units of kind ``path`` are
    analysed again through the per-unit cache (``Held.leftovers``).
    """

    def __init__(
        self, cache: RunCache, ruleset: RuleSet, paths: Sequence[str], cwd: Path, force_exclude: bool, checked: SnapshotCheck | None = None
    ) -> None:
        run = cache._key_for(ruleset)
        self.cache = cache
        self.checked = checked  # the newest snapshot's paths, checked ahead
        self.base = str(cwd.resolve())  # where display paths start
        self.key = None if run is None else _digest([FORMAT, run, self.base, str(cwd), list(paths), force_exclude])
        self.started = time.time_ns()
        self.tree: dict[str, str | None] = {}  # discovery's paths
        self.index: dict[str, str | None] = {}  # the signature index's paths
        self.held = False  # the run started from this snapshot's last save
        self.gaps: set[str] = set()  # the files whose results it did not hold
        cache.watch = self.index_path

    def _name(self) -> str:
        return f"runs/{self.key}.json"

    def _abspath(self, path: str) -> str:
        return f"{self.base.rstrip('/')}/{path}"

    # ---- recording (the run that saves)

    def tree_path(self, path: str, exists: bool = False) -> None:
        """Discovery's answer depends on ``path``: a folder's listing, a file's bytes, or with
        ``exists`` only whether it is there (a ``Chart.yaml``, whose status changes each time a
        render links the chart's files)."""
        if path not in self.tree:
            self.tree[path] = _status(path, exists)

    def index_path(self, path: str, exists: bool = False) -> None:
        """The signature index looked ``path`` up (``exists``) or read it."""
        if path in self.index:
            return
        sig = _status(path, exists)
        if sig is None:  # missing: a watched listing of its nearest folder would show it appear
            folder = os.path.dirname(path)
            while folder not in self.tree and path_sig(folder) is None and os.path.dirname(folder) != folder:
                folder = os.path.dirname(folder)
            if folder in self.tree:
                return
        self.index[path] = sig

    def save(self, units: Sequence[Unit], results: Sequence[UnitResult]) -> None:
        """Keep the run, when every path it looked at was settled and it has something the
        snapshot it started from lacks: a unit analysed, or a result that snapshot did not hold
        (one the per-unit cache answered, such as every Python result after a run that saved
        none of them)."""
        if self.key is None or (self.held and not self.cache.analysed and not self.gaps):
            return  # nothing new since the snapshot it started from
        if not self.cache.memo:
            self.cache._load_memo()
        if self.held and not self.cache.analysed:
            memo = self.cache.memo
            if not any(u.path in self.gaps and not _volatile(r) and u.abspath in memo for u, r in zip(units, results, strict=True)):
                return  # nothing new since the snapshot it started from
        limit = self.started - _RACY_NS
        if not all(_settled(sig, limit) for sig in (*self.tree.values(), *self.index.values())):
            return  # a path changed just before it was looked at
        entries: list[list[Any]] = []
        python_whole = True
        for unit, result in zip(units, results, strict=True):
            sig = stored = beside = None
            if unit.kind in ("python", "yaml", "cert") and not _volatile(result):
                known = self.cache.memo.get(unit.abspath)
                sig = path_sig(unit.abspath)
                if known is None or sig != known[0]:
                    sig = None  # changed since it was hashed (or never hashed)
                if unit.kind == "cert":
                    beside = self.cache.beside.get(unit.abspath)
                    if beside is None or not (_still(beside) and all(_settled(s, limit) for _, s in beside)):
                        sig = None
                if sig is not None:
                    stored = result.source_lines if not (result.findings or result.notifications or result.expires) else _encoded(result)
            if stored is None:
                sig = beside = None
                python_whole = python_whole and unit.kind != "python"
            entry = [unit.kind, unit.path, sig, stored, beside or None]
            if unit.abspath != self._abspath(unit.path):
                entry.append(unit.abspath)
            entries.append(entry)
        if not python_whole:
            for entry in entries:
                if entry[0] == "python":
                    entry[2:5] = [None, None, None]
        self.cache.store.write(self._name(), {"format": FORMAT, "key": self.key, "tree": self.tree, "index": self.index, "units": entries})
        self._prune()

    def _prune(self) -> None:
        with _quiet():
            folder = self.cache.store.folder / "runs"
            kept = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
            for old in kept[_KEPT_RUNS:]:
                old.unlink()

    # ---- the next run

    def load(self) -> Held | None:
        """The units (and results) of the last run, when the tree is as it found it; None: not."""
        if self.key is None:
            return None
        data, identity = self.cache.store.read_file(self._name())
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != self.key:
            return None
        tree, index, entries = data.get("tree"), data.get("index"), data.get("units")
        if not (isinstance(tree, dict) and isinstance(index, dict) and isinstance(entries, list)):
            return None
        from linter.core.discover import Unit
        from linter.core.model import UnitResult

        # the units and their results as the snapshot has them, built while the forked check
        # (if any) finishes; then what the check found changed is dropped
        units: list[Unit] = []
        kept: list[tuple[int, UnitResult, str, Any]] = []
        now = clock.now().timestamp()
        try:
            for i, (kind, path, sig, stored, beside, abspath) in enumerate(_entries(entries, self.base)):
                units.append(Unit(kind, path, abspath))
                if sig is None:
                    continue
                result = UnitResult(path, (), (), stored) if type(stored) is int else decode_result(stored)
                if result is not None and result.path == path and (result.expires is None or now < result.expires):
                    kept.append((i, result, abspath, beside))
        except _Invalid:
            return None
        verdict = self.checked.verdict(self._name(), identity) if self.checked is not None and identity is not None else None
        if verdict is None:
            verdict = _verify(data, self.base)
        if verdict is None or not verdict[0]:
            return None  # damaged, or the tree changed
        changed = verdict[2]
        python_held = verdict[1] and sum(u.kind == "python" for u in units) == sum(units[i].kind == "python" and i not in changed for i, *_ in kept)
        results: dict[str, UnitResult] = {}
        for i, result, abspath, beside in kept:
            unit = units[i]
            if i in changed or (unit.kind == "python" and not python_held):
                continue  # a Python file changed: every Python unit is analysed (the index joins them)
            results[unit.path] = result
            if unit.kind == "cert":  # as its lookup would have found them (a later save keeps them)
                self.cache.beside[abspath] = beside or []
        # what this run saves: the tree as verified; the index's paths as verified, or as looked at anew
        self.tree = tree
        self.index = index if python_held else {}
        self.held = True
        self.gaps = {u.path for u in units if u.kind in ("python", "yaml", "cert") and u.path not in results}
        return Held(units, results)


def _verify(data: Any, base: str) -> tuple[bool, bool, frozenset[int]] | None:
    """The paths of a snapshot's ``data`` against the tree now: (whether the tree is as it was,
    whether every path the signature index looked at is, the entries whose file or key files
    changed); None: not a snapshot's shape. Run by ``Snapshot.load``, or ahead of it by a forked
    process (``SnapshotCheck``)."""
    tree, index, entries = data.get("tree"), data.get("index"), data.get("units")
    if not (isinstance(tree, dict) and isinstance(index, dict) and isinstance(entries, list)):
        return None
    if not _still(tree.items()):
        return False, False, frozenset()
    index_held = _still(index.items())
    changed = []
    try:
        for i, (_, _, sig, _, beside, abspath) in enumerate(_entries(entries, base)):
            if sig is not None and (path_sig(abspath) != sig or (beside is not None and not _unchanged(beside))):
                changed.append(i)
    except _Invalid:
        return None
    return True, index_held, frozenset(changed)


def _entries(entries: list[Any], base: str) -> Iterator[tuple[str, str, Any, Any, Any, str]]:
    """A snapshot's unit entries as (kind, display path, status, stored result, key files'
    statuses, absolute path); raises ``_Invalid`` at one not of that shape (they are signed by
    this user's key: checked for shape, not distrusted)."""
    prefix = base.rstrip("/") + "/"
    for entry in entries:
        if type(entry) is not list or not 5 <= len(entry) <= 6:
            raise _Invalid("not a unit entry")
        kind, path, sig, stored, beside = entry[:5]
        abspath = entry[5] if len(entry) == 6 else prefix + path
        if type(kind) is not str or type(path) is not str or type(abspath) is not str:
            raise _Invalid("not a unit entry")
        yield kind, path, sig, stored, beside, abspath


class SnapshotCheck:
    """``_verify`` of the project's newest snapshot, worked out by a forked process while this
    one loads the packs (the statuses of thousands of paths are most of a run that finds nothing
    changed). Its verdict serves only the very file it read (same identity): the snapshot the run
    picks is usually the newest, of the same command run again."""

    def __init__(self, child: Forked[bytes], name: str) -> None:
        self.child = child
        self.name = name  # the snapshot file it checks

    @classmethod
    def start(cls, settings: Settings, base: Path) -> SnapshotCheck | None:
        try:
            runs = project_folder(settings) / "runs"
            with os.scandir(runs) as listing:
                newest = max((e for e in listing if e.name.endswith(".json")), key=lambda e: e.stat().st_mtime_ns, default=None)
        except OSError:
            return None
        if newest is None:
            return None

        def check() -> bytes | None:
            raw, identity = _read_signed(Path(newest.path))
            if raw is None:
                return None
            verdict = _verify(json.loads(raw.partition(b"\n")[2]), str(base))
            return None if verdict is None else json.dumps([identity, verdict[0], verdict[1], sorted(verdict[2])]).encode()

        child = Forked.start(check, bytes)
        return cls(child, f"runs/{newest.name}") if child is not None else None

    def verdict(self, name: str, identity: str) -> tuple[bool, bool, frozenset[int]] | None:
        """The child's verdict when it read the file ``name`` of ``identity``, else None (a
        check of another file is not waited for)."""
        if name != self.name:
            self.child.cancel()
            return None
        try:
            said = json.loads(self.child.result(bytes) or b"null")
        except ValueError:
            return None
        if not (isinstance(said, list) and len(said) == 4 and said[0] == identity and isinstance(said[3], list)):
            return None
        return bool(said[1]), bool(said[2]), frozenset(i for i in said[3] if type(i) is int)


def _unchanged(pairs: Any) -> bool:
    """Whether the ``[path, status]`` pairs a snapshot kept still hold (None: there are none)."""
    return pairs is None or (isinstance(pairs, list) and all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs) and _still(pairs))


def _encoded(result: UnitResult) -> Any:
    try:
        return encode(result)
    except _Invalid:
        return None


class Held:
    """What a snapshot gives back: the units discovery would find, and the results still valid
    (by display path); ``leftovers`` are the units to analyse."""

    def __init__(self, units: list[Unit], results: dict[str, UnitResult]) -> None:
        self.units = units
        self.results = results
        self.leftovers = [u for u in units if u.path not in results]

    def merge(self, fresh: Sequence[UnitResult]) -> list[UnitResult]:
        """The results in the units' order, ``fresh`` those of the leftovers."""
        found = dict(self.results)
        found.update((r.path, r) for r in fresh)
        return [found[u.path] for u in self.units]


# --------------------------------------------------------------------------- charts


def chart_material(unit: Unit, settings: Settings) -> Any:
    """Everything a chart's result is computed from, as data (None: not cacheable)."""
    from linter.helm.backends import sdk_available as _sdk_available
    from linter.helm.unit import scan_tree

    helm = settings.helm
    if helm.backend == "helm" or not (helm.backend == "sdk" or _sdk_available()):
        return None  # the helm binary: its version and environment are not inputs we can see
    chart = Path(unit.abspath)
    tree = scan_tree(unit, settings)
    parts: dict[str, Any] = {"tree": str(tree), "renderer": _renderer()}
    files = _tree_digest(chart)
    if files is None:
        return None
    parts["chart"] = files
    deps: dict[str, Any] = {}
    if chart.is_dir():
        for ref in _file_dependencies(chart):
            target = (chart / ref).resolve()
            deps[ref] = _tree_digest(target) if target.exists() else "missing"
            if deps[ref] is None:
                return None
    parts["dependencies"] = deps
    parts["chart_dirs"] = [[d, _tree_digest(Path(d)) if os.path.exists(d) else "missing"] for d in helm.chart_dirs]
    parts["values"] = [[v, _file_hash(Path(v))] for v in helm.values]
    if any(d[1] is None for d in parts["chart_dirs"]):
        return None
    return parts


@functools.lru_cache(maxsize=1)
def _renderer() -> Any:
    try:
        from importlib.metadata import version

        return ["helm-python", version("helm-python-sdk")]
    except (ImportError, ValueError):  # no metadata: the package's location stands for its version
        return ["helm-python", _libraries()[-1]]


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable: {exc.errno}"


def _tree_digest(top: Path, limit: int = 20_000) -> Any:
    """Names, bytes and links of every file below ``top`` (or of ``top``, a file), or None when
    it holds more than ``limit`` entries or a link to a folder."""
    if top.is_file():
        return _file_hash(top)
    out: list[Any] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                return None
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, top)
            if os.path.islink(full):
                out.append([rel, "link", os.readlink(full), _file_hash(Path(full))])
            else:
                out.append([rel, _file_hash(Path(full))])
            if len(out) > limit:
                return None
        if dirpath != str(top):
            out.append([os.path.relpath(dirpath, top), "folder"])
    return _digest(out)


def _file_dependencies(chart: Path) -> list[str]:
    """The ``file://`` repositories of a chart's declared dependencies (relative to it)."""
    import yaml

    try:
        data = yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return []
    deps = data.get("dependencies") if isinstance(data, dict) else None
    out = []
    for dep in deps if isinstance(deps, list) else []:
        repo = dep.get("repository") if isinstance(dep, dict) else None
        if isinstance(repo, str) and repo.startswith("file://"):
            out.append(repo[len("file://") :])
    return sorted(set(out))


# --------------------------------------------------------------------------- clean


def clean(settings: Settings, *, every: bool = False) -> tuple[list[tuple[Path, str]], list[Path]]:
    """Remove the cache of the project (``every``: of every project): (each folder removed with
    the project root it was the cache of, the folders that could not be removed)."""
    import shutil

    targets: list[Path] = []  # an OSError here (no home folder, a folder that cannot be listed) is the caller's
    if every:
        top = projects_folder(settings)
        if top.is_dir() and not top.is_symlink():
            targets = sorted(p for p in top.iterdir() if p.is_dir() and not p.is_symlink())
        startup = user_cache_base() / "startup"
        if startup.is_dir() and not startup.is_symlink():
            targets.append(startup)
    else:
        folder = project_folder(settings)
        if folder.is_dir() and not folder.is_symlink():
            targets = [folder]
    removed, failed = [], []
    for folder in targets:
        root = describe(folder)
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            failed.append(folder)
        else:
            removed.append((folder, root))
    return removed, failed


def describe(folder: Path) -> str:
    """The project root a cache folder belongs to, when it says."""
    try:
        root = json.loads((folder / "project.json").read_text(encoding="utf-8")).get("root")
    except (OSError, ValueError, AttributeError):
        root = None
    return root if isinstance(root, str) else ""


