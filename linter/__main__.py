"""``python -m linter`` and the ``pitfall`` console script.

Kept tiny on purpose: Ctrl-C while the heavy modules are still being imported must also end
with exit code 130 and no traceback.
"""

from __future__ import annotations

import sys


def entry() -> None:
    try:
        from .cli import main

        code = main()
    except KeyboardInterrupt:
        print("pitfall: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    entry()
