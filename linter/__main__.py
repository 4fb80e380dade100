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
    _exit(code)


def _exit(code: int) -> None:
    """End the process as ``sys.exit`` would, without tearing the interpreter down: what a
    shutdown does that matters (wait for threads that are not daemons, run the ``atexit``
    handlers, which end the worker and renderer processes and remove temporary folders, flush
    the output) is done here, and freeing every object one by one (tens of milliseconds after
    a run that read a large cache) is left to the operating system."""
    import atexit

    try:
        shutdown = getattr(sys.modules.get("threading"), "_shutdown", None)
        if shutdown is not None:
            shutdown()  # what Py_FinalizeEx does first
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    except OSError:  # the reader went away, or the disk is full: nothing more can be said
        code = code or 2
    except KeyboardInterrupt:
        code = 130
    os._exit(code)


if __name__ == "__main__":
    entry()
