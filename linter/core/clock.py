"""The clock of an analysis, and how long its answer holds.

A result is a function of its inputs, except where a check compares a date with the present: a
certificate's validity (``linter.certs.checks``). Such a check reads the time through :func:`now`
and says, through :func:`until`, each moment its answer would change (the certificate becomes
valid, expires, enters the expiry threshold, a "N days" in its message counts one more day).
``linter.core.engine.lint_unit`` starts the record before a unit and stores the earliest
moment in ``UnitResult.expires``: the results cache serves the result until then and no longer.
"""

from __future__ import annotations

from datetime import datetime, timezone

_moments: list[float] = []


def now() -> datetime:
    return datetime.now(timezone.utc)


def start() -> None:
    """A new unit: no moment recorded."""
    _moments.clear()


def until(moment: datetime) -> None:
    """The answer being worked out may differ from ``moment`` on (a time already past: it may
    differ right away)."""
    _moments.append(moment.timestamp())


def mark() -> int:
    """Where the record stands (for :func:`since`)."""
    return len(_moments)


def since(mark: int) -> list[float]:
    """The moments recorded after ``mark``: a memo of a clock-dependent answer keeps them and
    hands them back to :func:`replay` each time it serves the answer."""
    return _moments[mark:]


def replay(moments: list[float]) -> None:
    _moments.extend(moments)


def horizon() -> float | None:
    """The earliest moment recorded since :func:`start` (seconds since the epoch), None: none."""
    return min(_moments) if _moments else None
