"""Helm's version constraints (Masterminds/semver v3): :func:`satisfies`.

helm_python exposes no constraint matcher (its ``dependency_list`` only judges the charts
already under ``charts/``, without saying why, and needs the Go runtime in the caller), so
dependency resolution from ``chart-dirs`` and ``file://`` needs this one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION_RE = re.compile(
    r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True, slots=True)
class _Ver:
    major: int
    minor: int
    patch: int
    pre: str = ""


def parse_version(text: str) -> _Ver | None:
    m = _VERSION_RE.match(str(text).strip())
    if not m:
        return None
    return _Ver(int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4] or "")


def _cmp_pre(a: str, b: str) -> int:
    if a == b:
        return 0
    if not a:
        return 1
    if not b:
        return -1
    pa, pb = a.split("."), b.split(".")
    for x, y in zip(pa, pb):
        if x == y:
            continue
        xd, yd = x.isdigit(), y.isdigit()
        if xd and yd:
            return -1 if int(x) < int(y) else 1
        if xd != yd:
            return -1 if xd else 1
        return -1 if x < y else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def compare(a: _Ver, b: _Ver) -> int:
    ta, tb = (a.major, a.minor, a.patch), (b.major, b.minor, b.patch)
    if ta != tb:
        return -1 if ta < tb else 1
    return _cmp_pre(a.pre, b.pre)


_CV = r"v?(?:\d+|[xX*])(?:\.(?:\d+|[xX*]))?(?:\.(?:\d+|[xX*]))?(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
_CV_PARTS = re.compile(
    r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_TOKEN_RE = re.compile(rf"[\s,]*(!=|>=|=>|<=|=<|~>|\^|>|<|=|~)?\s*({_CV})[\s,]*")
_HYPHEN_RE = re.compile(rf"({_CV})\s+-\s+({_CV})")


@dataclass(frozen=True, slots=True)
class _Con:
    op: str
    ver: _Ver
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


def _is_x(part: str | None) -> bool:
    return part is None or part in ("x", "X", "*")


def _parse_con(op: str, text: str) -> _Con:
    m = _CV_PARTS.match(text)
    if not m:
        raise ValueError(text)
    pre = m[4] or ""
    if _is_x(m[1]):
        return _Con(op, _Ver(0, 0, 0, pre), True, False, False)
    if _is_x(m[2]):
        return _Con(op, _Ver(int(m[1]), 0, 0, pre), True, True, False)
    if _is_x(m[3]):
        return _Con(op, _Ver(int(m[1]), int(m[2]), 0, pre), True, False, True)
    return _Con(op, _Ver(int(m[1]), int(m[2]), int(m[3]), pre), False, False, False)


def _check(v: _Ver, c: _Con) -> bool:
    con = c.ver
    if v.pre and not con.pre:
        return False  # pre-releases only match constraints that name one
    op = c.op
    if op in ("", "="):
        if not c.dirty:
            return compare(v, con) == 0
        op = "~"
    if op in ("~", "~>"):
        if compare(v, con) < 0:
            return False
        if (con.major, con.minor, con.patch) == (0, 0, 0) and not c.minor_dirty and not c.patch_dirty:
            return True
        if v.major != con.major:
            return False
        return v.minor == con.minor or c.minor_dirty
    if op == "^":
        if compare(v, con) < 0:
            return False
        if con.major > 0 or c.minor_dirty:
            return v.major == con.major
        if v.major > 0:
            return False
        if con.minor > 0 or c.patch_dirty:
            return v.minor == con.minor
        if v.minor > 0:
            return False
        return v.patch == con.patch
    if op == ">":
        if not c.dirty:
            return compare(v, con) > 0
        if v.major != con.major:
            return v.major > con.major
        if c.minor_dirty:
            return False
        if c.patch_dirty:
            return v.minor > con.minor
        return compare(v, con) > 0
    if op in (">=", "=>"):
        return compare(v, con) >= 0
    if op == "<":
        return compare(v, con) < 0
    if op in ("<=", "=<"):
        if not c.dirty:
            return compare(v, con) <= 0
        if v.major > con.major:
            return False
        return not (v.major == con.major and v.minor > con.minor and not c.minor_dirty)
    if op == "!=":
        if c.dirty:
            if con.major != v.major:
                return True
            if c.minor_dirty:
                return False
            if con.minor != v.minor:
                return True
            if c.patch_dirty:
                return _cmp_pre(v.pre, con.pre) != 0 if (v.pre or con.pre) else False
            return con.patch != v.patch
        return compare(v, con) != 0
    return False


def _parse_constraint(text: str) -> list[list[_Con]]:
    groups: list[list[_Con]] = []
    for group in str(text).split("||"):
        group = _HYPHEN_RE.sub(lambda m: f">= {m[1]}, <= {m[2]}", group.strip())
        cons: list[_Con] = []
        pos = 0
        while pos < len(group):
            m = _TOKEN_RE.match(group, pos)
            if not m or m.end() == pos:
                raise ValueError(f"improper constraint: {text}")
            cons.append(_parse_con(m[1] or "", m[2]))
            pos = m.end()
        if not cons:
            raise ValueError(f"improper constraint: {text}")
        groups.append(cons)
    return groups


def satisfies(version: str, constraint: str) -> bool:
    """Whether ``version`` meets a Helm (Masterminds semver v3) constraint:
    ``1.2.3``, ``=1.2``, ``!=1.2.3``, ``>1``, ``>=1 <2``, ``>=1, <2``,
    ``~1.2``, ``~>1.2``, ``^1.2.0``, ``1.2.x``, ``1.x``, ``*``,
    ``1.2 - 1.4.5``, ``a || b``.  An empty constraint accepts anything; an
    unparsable version or constraint accepts nothing."""
    v = parse_version(version)
    if v is None:
        return False
    if not str(constraint).strip():
        return True
    try:
        groups = _parse_constraint(constraint)
    except ValueError:
        return False
    return any(all(_check(v, c) for c in group) for group in groups)
