"""Pass status per pack version: ``pitfall check --attest FILE`` and ``pitfall verify``.

The attestation is the checklist's result as a service's release metadata: which packs (by
version) ran, and whether each passed at the configured ``fail-on``. ``pitfall verify`` is the
release-approval gate that reads it back. Valid against ``schemas/attestation.schema.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from linter import __version__
from linter.core.model import SEVERITY_RANK, Finding, Pack, Rule

if TYPE_CHECKING:
    from dulwich.objects import ObjectID

FORMAT = 1
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")


def git_dirs(root: Path) -> tuple[Path, Path, Path] | None:
    """(the work tree folder, its git folder, the common git folder) of the repository holding
    ``root``, found by reading ``.git`` (a folder, or a worktree's or submodule's ``gitdir:``
    file) without running git (its configuration can run commands); None outside one."""
    for folder in (root, *root.parents):
        dot = folder / ".git"
        try:
            if dot.is_file():
                line = dot.read_text(encoding="utf-8").strip()
                if not line.startswith("gitdir:"):
                    return None
                dot = (folder / line[len("gitdir:") :].strip()).resolve()
            if not dot.is_dir():
                continue
            common = dot
            if (dot / "commondir").is_file():
                common = (dot / (dot / "commondir").read_text(encoding="utf-8").strip()).resolve()
            return folder, dot, common
        except (OSError, UnicodeDecodeError):
            return None
    return None


def git_commit(root: Path) -> str | None:
    """The checked-out commit, read from ``.git`` without running git; None outside a
    repository or when the ref cannot be read."""
    found = git_dirs(root)
    if found is None:
        return None
    _, dot, common = found
    try:
        head = (dot / "HEAD").read_text(encoding="utf-8").strip()
        if _SHA.match(head):
            return head
        if not head.startswith("ref:"):
            return None
        ref = head[4:].strip()
        for base in (dot, common):
            loose = base / ref
            if loose.is_file():
                value = loose.read_text(encoding="utf-8").strip()
                return value if _SHA.match(value) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _SHA.match(sha):
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None


def git_commit_time(root: Path, commit: str) -> str | None:
    """When ``commit`` was committed (its committer time, UTC, as SARIF writes a date-time), read
    from the repository's object store with dulwich (loose or packed objects; git is not run);
    None when it cannot be read."""
    found = git_dirs(root)
    if found is None or not _SHA.match(commit):
        return None
    try:
        from dulwich.object_store import DiskObjectStore

        store = DiskObjectStore(str(found[2] / "objects"))
    except Exception:  # no dulwich, or no object store there
        return None
    try:
        # a hex object id: `commit` matched _SHA above (ObjectID is dulwich's NewType of such bytes)
        when = getattr(store[cast("ObjectID", commit.encode("ascii"))], "commit_time", None)
    except Exception:  # missing, damaged or not a commit (a shallow or partial clone)
        return None
    finally:
        store.close()
    if not isinstance(when, int):
        return None
    try:
        return datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def attestation(
    findings: Sequence[Finding], packs: Sequence[Pack], rules: dict[str, Rule], *, fail_on: str, root: Path
) -> dict[str, Any]:
    threshold = SEVERITY_RANK[fail_on]
    summary: dict[str, dict[str, Any]] = {
        p.name: {"name": p.name, "version": p.version, "passed": True, "findings": {"error": 0, "warning": 0, "note": 0}, "suppressed": 0}
        for p in packs
    }
    for f in findings:
        rule = rules.get(f.rule_id)
        entry = summary.get(rule.pack) if rule is not None else None
        if entry is None:
            continue
        if f.suppression is not None:
            entry["suppressed"] += 1
            continue
        entry["findings"][f.severity] += 1
        if threshold and SEVERITY_RANK[f.severity] >= threshold:
            entry["passed"] = False
    listed = sorted(summary.values(), key=lambda e: e["name"])
    return {
        "format": FORMAT,
        "project": root.resolve().name,
        "commit": git_commit(root.resolve()),
        "pitfall": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "fail-on": fail_on,
        "passed": all(e["passed"] for e in listed),
        "packs": listed,
    }


def verify(doc: dict[str, Any], requirements: Sequence[str]) -> list[str]:
    """Why the attestation does not meet ``requirements`` (``timeouts>=0.3``, ``pod-security``);
    empty when it does. Raises ValueError for a requirement that does not parse."""
    by_name = {p["name"]: p for p in doc["packs"]}
    problems: list[str] = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ValueError(f"--require {text!r}: {exc}") from None
        pack = by_name.get(req.name)
        if pack is None:
            problems.append(f"{req.name}: not among the packs that ran")
            continue
        try:
            version = Version(pack["version"])
        except InvalidVersion:
            problems.append(f"{req.name}: version {pack['version']!r} is not a version")
            continue
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            problems.append(f"{req.name} {pack['version']}: does not satisfy {req.specifier}")
        if not pack["passed"]:
            counts = ", ".join(f"{n} {s}" for s, n in pack["findings"].items() if n)
            problems.append(f"{req.name} {pack['version']}: failed at fail-on {doc['fail-on']} ({counts})")
    return problems


def write(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
