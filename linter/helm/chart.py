"""Chart discovery and Chart.yaml: :func:`find_chart_root`, :func:`chart_info`.

Helm's loader (``helm_python.Chart.load``) validates Chart.yaml too, and a render reports its
message (kind ``invalid-chart``); :func:`chart_info` stays ours because it runs before the
render, in the calling process (which must not load the Go runtime: it forks its workers),
reads only Chart.yaml (and requirements.yaml), and gives the file and line of each problem and
of each declared dependency, which Helm's messages do not.
"""

from __future__ import annotations

import os
import re
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from linter.helm.model import ChartInfo, HelmChartError
from linter.helm.semver import parse_version
from linter.helm.tree import SCAN_TREE, real, within
from linter.kubernetes.yamldocs import SAFE_LOADER


def find_chart_root(path: Path) -> Path | None:
    """Nearest directory at or above ``path`` holding a Chart.yaml (absolute)."""
    p = Path(path).absolute()
    if not p.is_dir():
        p = p.parent
    while True:
        if (p / "Chart.yaml").is_file():
            return p
        if p.parent == p:
            return None
        p = p.parent


def is_archive(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and (name.endswith(".tgz") or name.endswith(".tar.gz"))


def archive_files(path: Path, wanted: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Top directory of a chart archive and the text of ``wanted`` files in it."""
    found: dict[str, str] = {}
    top = ""
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            parts = member.name.lstrip("./").split("/", 1)
            if not top and parts[0]:
                top = parts[0]
            if len(parts) == 2 and parts[0] == top and parts[1] in wanted and member.isfile():
                fh = tar.extractfile(member)
                if fh is not None:
                    found[parts[1]] = fh.read().decode("utf-8", "replace")
                if len(found) == len(wanted):
                    break
    return top, found


def _read_chart_texts(root: Path) -> dict[str, str]:
    wanted = ("Chart.yaml", "requirements.yaml")
    if is_archive(root):
        try:
            return archive_files(root, wanted)[1]
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise HelmChartError(f"cannot read chart archive: {exc}") from exc
    texts = {}
    tree = SCAN_TREE.get()
    for name in wanted:
        if tree is not None and (root / name).is_symlink() and not within(root / name, tree):
            raise HelmChartError(
                f"refused {name}: it is a symbolic link to {real(root / name)}, outside the scanned tree, which is never read",
                name,
            )
        try:
            texts[name] = (root / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise HelmChartError(f"cannot read {name}: {exc}", name) from exc
    return texts


def compose(text: str, filename: str) -> Any:
    import yaml

    try:
        return yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        # like go-yaml, name the line where the unfinished construct started
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise HelmChartError(f"cannot load {filename}: yaml: line {line}: {problem}", filename, line) from exc


def _node_value(node: Any, filename: str = "Chart.yaml") -> Any:
    import yaml

    if node is None:
        return None
    try:
        return yaml.SafeLoader(" ").construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise HelmChartError(f"cannot load {filename}: yaml: line {line}: {getattr(exc, 'problem', None) or exc}", filename, line) from exc


def _key_lines(node: Any) -> dict[str, int]:
    lines: dict[str, int] = {}
    if node is not None and node.tag.endswith(":map"):
        for key, _ in node.value:
            lines.setdefault(str(key.value), key.start_mark.line + 1)
    return lines


def dep_nodes(node: Any) -> list[Any]:
    if node is None or not node.tag.endswith(":map"):
        return []
    for key, value in node.value:
        if key.value == "dependencies" and value.tag.endswith(":seq"):
            return list(value.value)
    return []


def _valid_semver(version: str) -> bool:
    return parse_version(version) is not None


_ALIAS_RE = re.compile(r"^[a-zA-Z0-9_-]+$")


def chart_info(root: Path) -> ChartInfo:
    """Read and validate a chart's Chart.yaml the way Helm's loader does.

    ``root`` is a chart directory or a packaged ``.tgz``.  Raises
    :class:`HelmChartError` (path, line, message in Helm's words) when the
    chart definition is invalid.  Dependencies come from Chart.yaml, or from
    requirements.yaml for ``apiVersion: v1`` charts; each is a copy of the
    declared mapping plus ``_file`` and ``_line`` (where it is declared).
    """
    root = Path(root)
    texts = _read_chart_texts(root)
    if "Chart.yaml" not in texts:
        raise HelmChartError("Chart.yaml file is missing")
    node = compose(texts["Chart.yaml"], "Chart.yaml")
    data = _node_value(node)
    lines = _key_lines(node)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise HelmChartError("cannot load Chart.yaml: Chart.yaml is not a mapping")

    def fail(message: str, key: str | None) -> HelmChartError:
        return HelmChartError(f"validation: {message}", "Chart.yaml", lines.get(key or "", 1))

    api = str(data.get("apiVersion") or "v1")
    name = data.get("name")
    name = "" if name is None else str(name)
    version = data.get("version")
    version = "" if version is None else str(version)
    ctype = data.get("type")
    ctype = "" if ctype is None else str(ctype)
    if not name:
        raise fail("chart.metadata.name is required", "name")
    if name != os.path.basename(name) or name in (".", ".."):
        raise fail(f'chart.metadata.name "{name}" is invalid', "name")
    if not version:
        raise fail("chart.metadata.version is required", "version")
    if not _valid_semver(version):
        raise fail(f'chart.metadata.version "{version}" is invalid', "version")
    if ctype not in ("", "application", "library"):
        raise fail("chart.metadata.type must be application or library", "type")

    dep_file, dep_node = "Chart.yaml", node
    raw_deps = data.get("dependencies")
    if not raw_deps and api == "v1" and "requirements.yaml" in texts:
        dep_file = "requirements.yaml"
        dep_node = compose(texts["requirements.yaml"], dep_file)
        req = _node_value(dep_node, dep_file)
        raw_deps = req.get("dependencies") if isinstance(req, dict) else None
    if raw_deps is None:
        raw_deps = []
    if not isinstance(raw_deps, list):
        raise HelmChartError("cannot load Chart.yaml: dependencies must be a list", dep_file, lines.get("dependencies", 1))
    nodes = dep_nodes(dep_node)
    deps: list[dict] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_deps):
        line = nodes[i].start_mark.line + 1 if i < len(nodes) else lines.get("dependencies", 1)
        if not isinstance(raw, dict):
            raise HelmChartError(f"cannot load {dep_file}: dependency {i + 1} is not a mapping", dep_file, line)
        dep = dict(raw)
        alias = dep.get("alias")
        if alias and not _ALIAS_RE.match(str(alias)):
            raise HelmChartError(f'validation: dependency "{dep.get("name")}" has disallowed characters in the alias', dep_file, line)
        key = str(alias or dep.get("name") or "")
        if key in seen:
            raise HelmChartError(f'validation: more than one dependency with name or alias "{key}"', dep_file, line)
        seen.add(key)
        dep["_file"] = dep_file
        dep["_line"] = line
        deps.append(dep)
    return ChartInfo(root=root, name=name, version=version, type=ctype or "application", dependencies=tuple(deps))
