"""pitfall: a linter for the pitfalls that take services down."""

from __future__ import annotations

__version__ = "0.1.0"
