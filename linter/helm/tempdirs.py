"""The run's temporary folders (chart copies, renderer logs): one ``pitfall-helm-*`` folder that
is removed however the run ends.

A small janitor process waits for the end of its standard input, whose write end only the
process that called :func:`own_temp_root` and the processes it forks hold: when the last of
them ends (even killed with SIGKILL; forked workers and renderers die with it), it removes the
folder and exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

_TEMP_ROOT: str | None = None  # the run's folder for temporary files (see own_temp_root)
_JANITOR: subprocess.Popen | None = None
_TEMP_OWNER = 0
_JANITOR_CODE = (
    "import shutil, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "sys.stdin.buffer.read()\n"
    "shutil.rmtree(sys.argv[1], ignore_errors=True)\n"
)


def own_temp_root() -> None:
    """Put every temporary folder of this run (of this process and of the processes it forks)
    inside one ``pitfall-helm-*`` folder that is removed however the run ends."""
    global _TEMP_ROOT, _JANITOR, _TEMP_OWNER
    if _TEMP_ROOT is not None:
        return
    root = tempfile.mkdtemp(prefix="pitfall-helm-")
    try:
        janitor = subprocess.Popen(
            [sys.executable, "-S", "-c", _JANITOR_CODE, root],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        shutil.rmtree(root, ignore_errors=True)
        return
    _TEMP_ROOT, _JANITOR, _TEMP_OWNER = root, janitor, os.getpid()


def _remove_temp_root() -> None:
    global _TEMP_ROOT, _JANITOR
    if _TEMP_ROOT is None or os.getpid() != _TEMP_OWNER:
        return
    shutil.rmtree(_TEMP_ROOT, ignore_errors=True)
    if _JANITOR is not None:
        for stream in (_JANITOR.stdin, _JANITOR.stdout, _JANITOR.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        try:
            _JANITOR.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _JANITOR.kill()
    _TEMP_ROOT = _JANITOR = None


atexit.register(_remove_temp_root)


def _root() -> str | None:
    return _TEMP_ROOT if _TEMP_ROOT is not None and os.path.isdir(_TEMP_ROOT) else None


def temporary_directory() -> tempfile.TemporaryDirectory:
    """A temporary folder inside the run's folder (when there is one), removed when closed."""
    return tempfile.TemporaryDirectory(prefix="pitfall-helm-", dir=_root())


def make_directory() -> str:
    """A temporary folder inside the run's folder (when there is one); the caller removes it."""
    return tempfile.mkdtemp(prefix="pitfall-helm-", dir=_root())
