"""``python -m linter`` and the ``pitfall`` console script.

Kept tiny on purpose: Ctrl-C while the heavy modules are still being imported must also end
with exit code 130 and no traceback.
"""

from __future__ import annotations

import os
import sys


def entry() -> None:
    # `python -m linter` puts the working directory (the repository being scanned) first on the
    # import path: nothing may be imported from there
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]
    try:
        from linter.cli import main

        code = main()
    except KeyboardInterrupt:
        print("pitfall: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    entry()
