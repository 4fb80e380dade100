"""Settings: ``[tool.pitfall]`` in the nearest pyproject.toml, or ``.pitfall.toml``.

Validated by ``schemas/config.schema.json``; an unknown key or a bad value stops the run
with the file, the line and the key. ``--config 'key = value'`` overrides one setting
(TOML syntax, dotted keys for tables) and the CLI flags override both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from linter.report.feedback import Policy
from linter.core.packs import PackError, schema_validator, validation_error
from linter.core.toml import tomllib

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".pitfall_cache",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "*.egg-info",
)

#: Test, fixture and documentation code (gitignore-style patterns, matched against the path
#: relative to the scan root). Rules run there only when their YAML says ``in-tests: true``.
DEFAULT_TEST_PATHS = (
    "test/",
    "tests/",
    "testing/",
    "testdata/",
    "test_data/",
    "fixtures/",
    "__tests__/",
    "docs/",
    "doc/",
    "doctests/",
    "examples/",
    "benchmarks/",
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
)


@dataclass(frozen=True, slots=True)
class HelmSettings:
    values: tuple[str, ...] = ()
    set: tuple[str, ...] = ()
    release_name: str = "release-name"
    namespace: str = "default"
    chart_dirs: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ("defaults", "ingress", "tls", "monitoring")
    timeout: float = 30.0
    backend: str = "auto"


@dataclass(frozen=True, slots=True)
class Settings:
    root: str = "."
    config_path: str | None = None
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    preview: bool = False
    fail_on: str = "warning"
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    extend_test_paths: tuple[str, ...] = ()
    respect_gitignore: bool = True
    #: Python modules that say they are generated ("DO NOT EDIT", "Code generated", "@generated") are not analysed
    exclude_generated: bool = True
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    packs: tuple[str, ...] = ()
    pack_versions: tuple[tuple[str, str], ...] = ()
    max_file_size: int = 1024 * 1024
    jobs: int = 0
    cache: bool = True
    #: where project caches are kept (default: the user's cache folder, see linter/core/cache.py)
    cache_dir: str | None = None
    cert_expiry_days: int = 30
    max_timeout: float = 300.0
    unit_timeout: float = 60.0
    #: MiB one unit's analysis may add to the process's resident memory (0: no limit)
    unit_memory: int = 1024
    pss_version: str = "latest"
    pss_level: str = "restricted"
    exempt_namespaces: tuple[str, ...] = ("kube-system",)
    rule_options: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()
    helm: HelmSettings = field(default_factory=HelmSettings)
    feedback: Policy = field(default_factory=Policy)

    def options_for(self, rule_id: str) -> dict[str, Any]:
        for rid, opts in self.rule_options:
            if rid == rule_id:
                return dict(opts)
        return {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, (HelmSettings, Policy)):
                value = {h.name.replace("_", "-"): _plain(getattr(value, h.name)) for h in fields(value)}
            out[f.name.replace("_", "-")] = _plain(value)
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) for v in value):
            return {k: _plain(v) for k, v in value}
        return [_plain(v) for v in value]
    return value


def load_toml(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def find_config(start: Path) -> Path | None:
    """Nearest ``.pitfall.toml``, or ``pyproject.toml`` with a [tool.pitfall] table."""
    start = start.resolve()
    for directory in (start, *start.parents):
        dotfile = directory / ".pitfall.toml"
        if dotfile.is_file():
            return dotfile
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            try:
                if "pitfall" in load_toml(pyproject).get("tool", {}):
                    return pyproject
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return pyproject  # reported properly when loaded
    return None


def _table(path: Path) -> dict[str, Any]:
    try:
        data = load_toml(path)
    except (OSError, UnicodeDecodeError) as exc:  # tomllib decodes the bytes as UTF-8 itself
        raise PackError(path, None, None, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise PackError(path, int(m.group(1)) if m else None, None, f"invalid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("pitfall", {})
        if not isinstance(table, dict):
            raise PackError(path, None, "tool.pitfall", "must be a table")
        return table
    return data


def _toml_line(path: Path, key: str | None) -> int | None:
    """Best line for a dotted settings key in a TOML file (tomllib keeps no positions)."""
    if not key:
        return None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    prefix = ["tool", "pitfall"] if path.name == "pyproject.toml" else []
    parts = [p for p in key.split(".") if not p.isdigit()]
    table: list[str] = []
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    best = None
    for i, raw in enumerate(lines, 1):
        m = header.match(raw)
        if m:
            table = [t.strip().strip('"') for t in m.group(1).split(".")]
            if table == prefix + parts:
                best = best or i
            continue
        if table[: len(prefix)] != prefix:
            continue
        rel = table[len(prefix) :]
        km = re.match(r'^\s*([A-Za-z0-9_."\'-]+)\s*=', raw)
        if not km:
            continue
        dotted = rel + [p.strip().strip("\"'") for p in km.group(1).split(".")]
        if dotted == parts:
            return i
        if dotted == parts[: len(dotted)] and best is None:
            best = i
    return best


def _validate(data: dict[str, Any], origin: Path | str) -> None:
    if not data:  # nothing to check (and no JSON Schema machinery to load for it)
        return
    validator = schema_validator("config")
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return
    err = validation_error(Path(str(origin)), None, errors[0])
    line = _toml_line(Path(origin), err.key) if isinstance(origin, Path) else None
    raise PackError(origin, line, err.key, err.detail)


def parse_override(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PackError("--config", None, None, f"`{text}` is neither a file nor a valid `key = value` TOML setting: {exc}") from None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_settings(
    *,
    cwd: Path | None = None,
    config_args: Sequence[str] = (),
    start: Path | None = None,
) -> Settings:
    """Resolve settings: config file (explicit or nearest), then ``--config`` overrides."""
    cwd = cwd or Path.cwd()
    explicit: Path | None = None
    overrides: list[str] = []
    for arg in config_args:
        candidate = (cwd / arg) if not os.path.isabs(arg) else Path(arg)
        if "=" not in arg and not candidate.is_file():
            raise PackError(arg, None, "--config", "no such configuration file")
        if "=" not in arg or candidate.is_file():
            explicit = candidate
        else:
            overrides.append(arg)
    path = explicit or find_config(start or cwd)
    data: dict[str, Any] = {}
    if path is not None:
        data = _table(path)
        _validate(data, path)
    for text in overrides:
        one = parse_override(text)
        try:
            _validate(one, "--config")
        except PackError as exc:
            raise PackError("--config", None, exc.key, f"{exc.detail} in `{text}`") from None
        data = _merge(data, one)
    if overrides:  # the file and each override were checked alone; now together
        _validate(data, path or "--config")
    root = path.parent if path is not None else cwd
    return from_dict(data, root=root, config_path=path)


def from_dict(data: dict[str, Any], *, root: Path, config_path: Path | None) -> Settings:
    kwargs: dict[str, Any] = {"root": str(root), "config_path": str(config_path) if config_path else None}
    simple = {f.name for f in fields(Settings)} - {"root", "config_path", "helm", "feedback", "per_file_ignores", "pack_versions", "rule_options"}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name in simple:
            kwargs[name] = tuple(value) if isinstance(value, list) else value
    if "per-file-ignores" in data:
        kwargs["per_file_ignores"] = tuple((k, tuple(v)) for k, v in data["per-file-ignores"].items())
    if "pack-versions" in data:
        kwargs["pack_versions"] = tuple(sorted(data["pack-versions"].items()))
    if "rule-options" in data:
        kwargs["rule_options"] = tuple(sorted((k, tuple(sorted(v.items()))) for k, v in data["rule-options"].items()))
    if "packs" in data:
        kwargs["packs"] = tuple(str((root / p).resolve()) for p in data["packs"])
    if "cache-dir" in data:
        kwargs["cache_dir"] = str((root / os.path.expanduser(data["cache-dir"])).resolve())
    if "feedback" in data:
        kwargs["feedback"] = Policy(**{k.replace("-", "_"): v for k, v in data["feedback"].items()})
    if "helm" in data:
        h = data["helm"]
        hk: dict[str, Any] = {}
        for key, value in h.items():
            hk[key.replace("-", "_")] = tuple(value) if isinstance(value, list) else value
        for key in ("values", "chart_dirs"):
            if key in hk:
                hk[key] = tuple(str((root / p).resolve()) for p in hk[key])
        kwargs["helm"] = HelmSettings(**hk)
    return Settings(**kwargs)


def with_cli(settings: Settings, **changes: Any) -> Settings:
    """CLI flags override the file: only the flags that were given (not None)."""
    given = {k: v for k, v in changes.items() if v is not None}
    return replace(settings, **given) if given else settings
