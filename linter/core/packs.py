"""Load, validate and select rule packs.

A pack is a folder with ``pack.yaml`` and one ``<ID>-<name>.yaml`` file per rule. Every file
of a user's pack is validated against the JSON Schemas in ``schemas/``; an invalid pack stops
the run with a ``PackError`` that names the file, the line and the key. The built-in packs ship
with pitfall and are validated by its test suite (``tests/test_packs.py``), not on every run:
that validation was half of the start-up time. What every run reads before any file is kept
between runs in a ``Memo`` (the signed cache, ``linter.core.cache.startup_memo``) when the run
uses the cache: the built-in packs' YAML as data, keyed by the files' sizes and modification
times, and the folders of the installed plugin packs, keyed by those of the import path.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from packaging.version import Version

from linter.core.dependencies import Declared, installed_file, satisfied
from linter.core.model import Example, FixSpec, Pack, Rule

if TYPE_CHECKING:
    import yaml
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


class Memo(Protocol):
    """Named JSON values kept between runs (``linter.core.cache.Store``)."""

    def read(self, name: str) -> Any: ...

    def write(self, name: str, value: Any) -> None: ...


class PackError(Exception):
    """An invalid pack, rule or configuration file: always names file, line and key."""

    def __init__(self, path: str | Path, line: int | None, key: str | None, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.key = key
        self.detail = message
        where = f"{self.path}:{line}" if line else self.path
        what = f" (key `{key}`)" if key else ""
        super().__init__(f"{where}: {message}{what}")


def data_dir(name: str) -> Path:
    """``rules`` or ``schemas``: inside the wheel (linter/_data) or the source checkout."""
    package = Path(__file__).resolve().parents[1]  # a folder on disk: pitfall is never imported from a zip
    packaged = package / "_data" / name
    if packaged.is_dir():
        return packaged
    return package.parent / name


@functools.lru_cache(maxsize=None)
def schema_validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator, FormatChecker

    # the schemas ship with pitfall: tests/test_packs.py checks them against the metaschema
    schema = json.loads((data_dir("schemas") / f"{name}.schema.json").read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=FormatChecker())


# --------------------------------------------------------------------------- YAML with marks


def load_yaml_with_marks(path: Path, *, marks: bool = True) -> tuple[Any, yaml.Node | None]:
    """The file's data, and its node tree for error lines (``marks=False``: data only, one parse)."""
    import yaml  # here: a run whose packs come from the startup memo parses no YAML

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PackError(path, None, None, f"cannot read: {exc}") from None
    if not marks:  # built-in packs: trusted text, one fast parse
        from linter.kubernetes.yamldocs import SAFE_LOADER

        try:
            return yaml.load(text, Loader=SAFE_LOADER), None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise PackError(path, mark.line + 1 if mark is not None else None, None, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
    # anything else through the guarded loader: alias bombs, runaway nesting and duplicate keys
    # are errors, not a hang
    from linter.kubernetes.yamldocs import load_documents

    loaded = load_documents(text)
    if loaded.problems:
        problem = loaded.problems[0]
        raise PackError(path, problem.span.line, None, problem.message)
    if len(loaded.documents) > 1:
        raise PackError(path, loaded.documents[1].span.line, None, "a pack file holds one YAML document")
    if not loaded.documents:
        return None, None
    return loaded.documents[0].data, loaded.documents[0].root


def node_line(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """Line of the deepest node on ``path`` (the key's line for mapping entries)."""
    if node is None:
        return None
    import yaml

    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    line = k.start_mark.line + 1
                    node = v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def validation_error(path: Path, node: yaml.Node | None, error: ValidationError) -> PackError:
    loc = list(error.absolute_path)
    key: str | None = ".".join(str(p) for p in loc) or None
    message = error.message
    if error.validator == "additionalProperties":
        unknown = re.findall(r"'([^']+)'", error.message)
        if unknown:
            extra = [u for u in unknown if u not in (error.schema.get("properties") or {})]
            if extra:
                loc.append(extra[0])
                key = ".".join(str(p) for p in loc)
                message = f"unknown key `{extra[0]}`"
    elif error.validator == "required":
        missing = re.findall(r"'([^']+)'", error.message)
        if missing:
            key = ".".join([*(str(p) for p in loc), missing[0]])
            message = f"missing required key `{missing[0]}`"
    return PackError(path, node_line(node, loc), key, message)


def _best_error(validator: Draft202012Validator, data: Any) -> ValidationError | None:
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(data))
    if not errors:
        return None
    return best_match(errors)


# --------------------------------------------------------------------------- loading


def builtin_pack_dirs() -> list[Path]:
    root = data_dir("rules")
    return sorted(p for p in root.iterdir() if (p / "pack.yaml").is_file())


PLUGIN_GROUP = "pitfall.packs"


def _remembered(memo: Memo | None, name: str, stamp: list[Any], kind: type, compute: Callable[[], Any]) -> Any:
    """``compute()``, or the value ``memo`` kept under ``name`` for the same ``stamp`` (pitfall's
    version is part of every stamp: a value is read back only by the code that wrote it)."""
    from linter import __version__

    stamp = [__version__, *stamp]
    kept = memo.read(name) if memo is not None else None
    if isinstance(kept, dict) and kept.get("stamp") == stamp and isinstance(kept.get("value"), kind):
        return kept["value"]
    value = compute()
    if memo is not None:
        memo.write(name, {"stamp": stamp, "value": value})
    return value


def plugin_pack_dirs(memo: Memo | None = None) -> list[tuple[Path, str]]:
    """Packs of installed distributions: an entry point in the ``pitfall.packs`` group names a
    package whose folder holds pack folders (or is one). ``(pack folder, distribution)``.

    The entry points are read from the installed distributions' metadata; with a ``memo``, the
    folders found are kept under the modification times of the import path's folders (an
    install or removal creates or deletes a ``.dist-info`` folder there, which changes them)."""
    import sys

    def entry_points() -> list[list[str]]:
        from importlib import metadata, resources

        found = []
        for ep in sorted(metadata.entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
            dist = ep.dist.name if ep.dist is not None else ep.name
            try:
                found.append([str(resources.files(ep.module)), dist])
            except (ImportError, TypeError, ValueError) as exc:
                raise PackError(f"entry point {ep.name} = {ep.value}", None, PLUGIN_GROUP, f"cannot locate the pack of {dist}: {exc}") from None
        return found

    stamp: list[Any] = []
    for entry in sys.path:
        try:
            stamp.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            stamp.append([entry, None])
    folders = _remembered(memo, "plugins.json", stamp, list, entry_points)
    return [(d, str(dist)) for folder, dist in folders for d in pack_dirs(Path(folder))]


def builtin_data(dirs: Sequence[Path], memo: Memo | None) -> dict[str, Any]:
    """The data of every YAML file of the built-in packs ``dirs`` by path, from ``memo`` when
    no file changed since it was kept (same names, sizes and modification times, same PyYAML).
    Only data that JSON keeps exactly is kept; other files are read each time."""
    import time

    files = sorted(f for d in dirs for f in d.glob("*.yaml"))
    stamp: list[Any] = [list(installed_file("yaml"))]
    newest = 0
    for f in files:
        st = f.stat()
        stamp.append([str(f), st.st_size, st.st_mtime_ns])
        newest = max(newest, st.st_mtime_ns)
    if time.time_ns() - newest < 2_000_000_000:
        memo = None  # a file changed within the clock's granularity of now: a later change could keep its stamp

    def parse() -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in files:
            value = load_yaml_with_marks(f, marks=False)[0]
            if json.loads(json.dumps(value)) == value:  # no dates, no non-string keys
                data[str(f)] = value
        return data

    result: dict[str, Any] = _remembered(memo, "builtin-packs.json", stamp, dict, parse)
    return result


def pack_dirs(path: Path) -> list[Path]:
    """A pack folder, or a folder whose children are packs."""
    if (path / "pack.yaml").is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if (p / "pack.yaml").is_file())
        if found:
            return found
    raise PackError(path, None, None, "not a pack folder (no pack.yaml here or in its subfolders)")


TRUST_FLAG = "--trust-pack-code"


def load_pack(
    folder: Path, *, builtin: bool, validate: bool | None = None, trust_code: bool = False, origin: str | None = None,
    preloaded: dict[str, Any] | None = None,
) -> Pack:
    """``validate``: check every file against the schemas (default: for packs that are not built in).
    ``preloaded``: the data of files already read, by path (``builtin_data``).

    ``trust_code``: a pack that is not built in may name Python hooks (``visitor``, ``check``,
    ``unless``); without it such a pack is an error, so a pack in a scanned repository can never
    make pitfall import code."""
    validate = not builtin if validate is None else validate
    meta_path = folder / "pack.yaml"
    preloaded = preloaded or {}
    if str(meta_path) in preloaded:
        meta, meta_node = preloaded[str(meta_path)], None
    else:
        meta, meta_node = load_yaml_with_marks(meta_path, marks=validate)
    if validate:
        error = _best_error(schema_validator("pack"), meta)
        if error is not None:
            raise validation_error(meta_path, meta_node, error)
    for i, spec in enumerate(meta.get("applies-to", ()) if validate else ()):
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            Requirement(spec)
        except InvalidRequirement as exc:
            raise PackError(meta_path, node_line(meta_node, ["applies-to", i]), f"applies-to.{i}", str(exc)) from None
    rules = []
    for rule_path in sorted(folder.glob("*.yaml")):
        if rule_path.name == "pack.yaml":
            continue
        rules.append(load_rule(rule_path, meta, validate=validate, hooks=builtin or trust_code, data=preloaded.get(str(rule_path))))
    pack_version = Version(meta["version"])
    for rule in rules:
        if Version(rule.since) > pack_version:
            raise PackError(rule.source, None, "since", f"since {rule.since} is newer than pack version {meta['version']}")
    return Pack(
        name=meta["name"],
        prefix=meta["prefix"],
        version=meta["version"],
        description=meta["description"].strip(),
        path=str(folder),
        applies_to=tuple(meta.get("applies-to", ())),
        rules=tuple(rules),
        builtin=builtin,
        origin=origin or ("built-in" if builtin else "folder"),
    )


def _examples(items: Iterable[Any]) -> tuple[Example, ...]:
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Example(code=item))
        else:
            out.append(
                Example(
                    code=item["code"],
                    fixed=item.get("fixed"), path=item.get("path"),
                    config=tuple(sorted((item.get("config") or {}).items())),
                    files=tuple(sorted((item.get("files") or {}).items())),
                    errors=tuple(sorted(item.get("errors") or ())),
                )
            )
    return tuple(out)


def load_rule(path: Path, pack_meta: dict[str, Any], *, validate: bool = True, hooks: bool = True, data: Any = None) -> Rule:
    node = None
    if data is None:
        data, node = load_yaml_with_marks(path, marks=validate)
    if validate:
        error = _best_error(schema_validator("rule"), data)
        if error is not None:
            raise validation_error(path, node, error)
    if not hooks:
        _refuse_hooks(path, data, node)
    elif validate:
        _check_hooks(path, data, node)
    rid, name = data["id"], data["name"]
    if path.name != f"{rid}-{name}.yaml":
        raise PackError(path, node_line(node, ["id"]), "id", f"file must be named {rid}-{name}.yaml")
    if not rid.startswith(pack_meta["prefix"]):
        raise PackError(path, node_line(node, ["id"]), "id", f"id must start with the pack prefix {pack_meta['prefix']}")
    digit = {"tool": "0", "python": "1", "file": "1", "kubernetes": "2", "chart": "2"}[data["target"]]
    if rid[3] != digit:
        raise PackError(path, node_line(node, ["id"]), "id", f"{data['target']} rules use target digit {digit} ({rid[:3]}{digit}xx)")
    fix = None
    if "fix" in data:
        f = data["fix"]
        kind = next(k for k in ("add-kwarg", "set-kwarg", "replace") if k in f)
        fix = FixSpec(kind=kind, text=f[kind], title=f["title"], applicability=f["applicability"], safety=f.get("safety", ""))
    matcher = {k: data[k] for k in ("match", "visitor", "check", "kinds", "scope", "must", "if", "certificate", "containers", "api-groups", "defaults", "pss", "defers-to", "chart") if k in data}
    if validate and (matcher.get("must") is not None or matcher.get("if") is not None):
        from jsonschema import Draft202012Validator

        for key in ("must", "if"):
            if key in matcher:
                try:
                    Draft202012Validator.check_schema(matcher[key])
                except Exception as exc:  # jsonschema.SchemaError
                    raise PackError(path, node_line(node, [key]), key, f"not a valid JSON Schema: {getattr(exc, 'message', exc)}") from None
    pss = data.get("pss") or {}
    return Rule(
        id=rid,
        name=name,
        pack=pack_meta["name"],
        target=data["target"],
        severity=data["severity"],
        confidence=data.get("confidence", "high"),
        area=data["area"],
        summary=data["summary"].strip(),
        rationale=data["rationale"].strip(),
        message=data["message"].strip(),
        status=data.get("status", "stable"),
        since=data.get("since", "0.1.0"),
        cwe=tuple(data.get("cwe", ())),
        security_severity=data.get("security-severity"),
        references=tuple(data.get("references", ())),
        extra_tags=tuple(data.get("tags", ())),
        pss_level=pss.get("level"),
        pss_check=pss.get("check"),
        fix=fix,
        valid=_examples(data["examples"]["valid"]),
        invalid=_examples(data["examples"]["invalid"]),
        options=tuple(sorted((data.get("options") or {}).items())),
        matcher=matcher,
        source=str(path),
        replaced_by=data.get("replaced-by"),
        opt_in=bool(data.get("opt-in", False)),
        in_tests=bool(data.get("in-tests", False)),
    )


def _hook_references(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(key path, ``module:name``) of every Python hook a rule names."""
    found: list[tuple[tuple[str | int, ...], str]] = [((key,), data[key]) for key in ("visitor", "check") if key in data]
    matches = data.get("match")
    for i, item in enumerate(matches if isinstance(matches, list) else [matches] if matches else []):
        if isinstance(item, dict) and "unless" in item:
            found.append((("match", i, "unless") if isinstance(matches, list) else ("match", "unless"), item["unless"]))
    return found


def _check_hooks(path: Path, data: dict[str, Any], node: Any) -> None:
    """Resolve every hook when the pack loads, and check it follows its target's protocol: a
    ``visitor`` is a ``linter.python.visitor.Visitor`` class, a ``check`` or ``unless`` a
    function. A wrong name stops the run naming the file, line and key, not the first file it
    would have run on."""
    from .model import load_reference

    for where, ref in _hook_references(data):
        key = ".".join(str(k) for k in where)
        try:
            hook = load_reference(ref)
        except Exception as exc:  # ImportError, AttributeError, or the module's own error
            raise PackError(path, node_line(node, list(where)), key, f"`{ref}` cannot be loaded: {type(exc).__name__}: {exc}") from None
        if where == ("visitor",):
            from linter.python.visitor import Visitor

            ok, want = isinstance(hook, type) and issubclass(hook, Visitor), "a subclass of linter.python.visitor.Visitor"
        else:
            ok, want = callable(hook) and not isinstance(hook, type), "a function"
        if not ok:
            raise PackError(path, node_line(node, list(where)), key, f"`{ref}` is not {want}")


def _refuse_hooks(path: Path, data: dict[str, Any], node: Any) -> None:
    """A pack that is not trusted may use the YAML vocabulary only: no key that imports code."""
    found = _hook_references(data)
    if found:
        where, ref = found[0]
        raise PackError(
            path,
            node_line(node, list(where)),
            ".".join(str(k) for k in where),
            f"a pack that is not built in may not run Python code (`{ref if len(where) == 1 else 'unless'}`); "
            f"pass {TRUST_FLAG} on the command line to allow it",
        )


def load_packs(
    extra: Sequence[Path] = (), versions: dict[str, str] | None = None, *, config_path: str | None = None, trust_code: bool = False,
    memo: Memo | None = None,
) -> list[Pack]:
    builtin = list(builtin_pack_dirs())
    # with a memo, the built-in packs' YAML is read only when a file of theirs changed
    preloaded = builtin_data(builtin, memo) if memo is not None else None
    packs = [load_pack(d, builtin=True, preloaded=preloaded) for d in builtin]
    builtin_paths = {Path(d).resolve() for d in builtin}
    # installed plugins were chosen by whoever installed them: their hooks may run
    packs.extend(load_pack(d, builtin=False, trust_code=True, origin=f"plugin {dist}") for d, dist in plugin_pack_dirs(memo))
    for folder in extra:
        for d in pack_dirs(folder):
            if Path(d).resolve() in builtin_paths:  # a built-in pack's own folder (`pitfall rules test rules/tls`)
                continue
            packs.append(load_pack(d, builtin=False, trust_code=trust_code))
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    for pack in packs:
        if pack.name in names:
            raise PackError(Path(pack.path) / "pack.yaml", 1, "name", f"pack `{pack.name}` is already loaded from {names[pack.name]}")
        names[pack.name] = pack.path
        for rule in pack.rules:
            for ident in (rule.id, rule.name):
                if ident in seen:
                    raise PackError(rule.source, 1, "id" if ident == rule.id else "name", f"`{ident}` is already defined in {seen[ident]}")
                seen[ident] = rule.source
    for name, spec in (versions or {}).items():
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        pinned = next((p for p in packs if p.name == name), None)
        where = config_path or "configuration"
        if pinned is None:
            raise PackError(where, None, f"pack-versions.{name}", f"no pack named `{name}` is loaded")
        try:
            ok = Version(pinned.version) in SpecifierSet(spec)
        except InvalidSpecifier:
            raise PackError(where, None, f"pack-versions.{name}", f"invalid version specifier `{spec}`") from None
        if not ok:
            raise PackError(where, None, f"pack-versions.{name}", f"pack `{name}` is version {pinned.version}, which does not satisfy `{spec}`")
    return packs


# --------------------------------------------------------------------------- applies-to


def pack_applies(pack: Pack, declared: Sequence[Declared]) -> bool:
    return all(satisfied(spec, declared)[0] for spec in pack.applies_to)


# --------------------------------------------------------------------------- selection


class _Selectable(Protocol):
    """What a selector is matched against: a rule's id and name."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


def _matches(selector: str, rule: _Selectable) -> int:
    """Specificity of ``selector`` for ``rule`` (0: no match)."""
    if selector == "ALL":
        return 1
    if selector == rule.name or selector == rule.id:
        return 100
    if rule.id.startswith(selector):
        return 1 + len(selector)
    return 0


def select_rules(
    packs: Sequence[Pack],
    *,
    select: Sequence[str] = ("ALL",),
    extend_select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    preview: bool = False,
) -> list[Rule]:
    """Ruff's semantics: the most specific selector wins; ties go to ignore. An opt-in rule is
    not selected by ``ALL``, only by its id, its name or a prefix of its id."""
    chosen = []
    on = [*select, *extend_select]
    for pack in packs:
        for rule in pack.rules:
            if rule.status == "deprecated":
                continue
            if rule.status == "preview" and not preview:
                continue
            best_on = max((_matches(s, rule) for s in on if not (rule.opt_in and s == "ALL")), default=0)
            best_off = max((_matches(s, rule) for s in ignore), default=0)
            # a file that cannot be read or parsed is reported whatever is selected (its other
            # findings are lost); a chart's problems (LNT002) are a rule like the others, and
            # a chart that does not render is still a notification of the run
            always = rule.target == "tool" and rule.id == "LNT001"
            if always and best_off < 100:
                chosen.append(rule)
            elif best_on and best_on > best_off:
                chosen.append(rule)
    return sorted(chosen, key=lambda r: r.id)


def unknown_selectors(packs: Sequence[Pack], selectors: Iterable[str]) -> list[str]:
    rules = [r for p in packs for r in p.rules]
    return [s for s in selectors if not any(_matches(s, r) for r in rules)]


def with_options(rule: Rule, overrides: dict[str, Any]) -> Rule:
    if not overrides:
        return rule
    merged = dict(rule.options)
    merged.update(overrides)
    return replace(rule, options=tuple(sorted(merged.items())))


# --------------------------------------------------------------------------- lock

LOCK_NAME = "pitfall-packs.lock"


def pack_digest(pack: Pack) -> str:
    """sha256 over the pack's files (names and bytes, in name order): any edit changes it."""
    import hashlib

    digest = hashlib.sha256()
    folder = Path(pack.path)
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


def lock_document(packs: Sequence[Pack]) -> dict[str, Any]:
    return {
        "format": 1,
        "packs": [
            {"name": p.name, "version": p.version, "origin": p.origin, "digest": pack_digest(p)}
            for p in sorted(packs, key=lambda p: p.name)
        ],
    }


def check_lock(path: Path, packs: Sequence[Pack]) -> None:
    """Raise PackError naming every difference between the active packs and the lock file."""
    try:
        locked = json.loads(path.read_text(encoding="utf-8"))
        entries = {e["name"]: e for e in locked["packs"]}
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise PackError(path, None, "packs", f"not a pack lock file ({exc}); write it again with `pitfall packs lock`") from None
    now = {e["name"]: e for e in lock_document(packs)["packs"]}
    problems = []
    for name in sorted(set(entries) | set(now)):
        old, new = entries.get(name), now.get(name)
        if new is None:
            problems.append(f"{name} {entries[name].get('version')} is locked but not active")
        elif old is None:
            problems.append(f"{name} {new['version']} is active but not locked")
        elif old.get("version") != new["version"]:
            problems.append(f"{name} is {new['version']}, locked at {old.get('version')}")
        elif old.get("digest") != new["digest"]:
            problems.append(f"{name} {new['version']} differs from the locked content")
    if problems:
        raise PackError(path, None, "packs", "the packs differ from the lock: " + "; ".join(problems) + " (`pitfall packs lock` to accept them)")

