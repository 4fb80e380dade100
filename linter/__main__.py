"""``python -m linter`` and the ``pitfall`` console script.

Kept tiny on purpose: Ctrl-C while the heavy modules are still being imported must also end
with exit code 130 and no traceback.
"""

from __future__ import annotations

import os
import sys


def entry() -> None:
    # `python -m linter` puts the working directory (the repository being scanned) first on the
    # import path: nothing may be imported from there. Only that first entry goes (and relative
    # ones): the same folder named by an installation's .pth file (an editable install run from
    # its own checkout) stays, or the processes this one spawns could not import pitfall
    cwd = os.getcwd()
    if sys.path and sys.path[0] in ("", ".", cwd):
        del sys.path[0]
    sys.path[:] = [p for p in sys.path if p not in ("", ".")]
    try:
        from linter.cli import main

        code = main()
    except KeyboardInterrupt:
        print("pitfall: interrupted", file=sys.stderr)
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    entry()
