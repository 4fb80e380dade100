"""``python -m linter``: the pitfall command line."""

from __future__ import annotations

from .cli import entry

if __name__ == "__main__":
    entry()
