"""Renderer processes: Helm's engine runs in a process that can be stopped.

A Go call cannot be interrupted from Python, and a template such as
``{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}`` runs for hours. So a
render with a time budget runs in a worker of a pebble ``ProcessPool`` (one worker per
process that renders, started with ``spawn``: the Go runtime does not survive ``fork``, and
the renderer never forks). :func:`run` gives the job's answer, or a failure answer:

- over its budget (pebble's per-task timeout): the worker is stopped (SIGTERM does its default
  there, so even a Go call ends at once) and replaced; ``{"stage": "timeout"}``;
- the worker died (a crash in native code, the kernel's OOM killer; ``ProcessExpired``):
  ``{"stage": "crash"}`` with the exit code and the end of what the worker wrote to its
  standard error (kept in a log file, never shown on the user's terminal);
- no worker could start (the pool broke): ``{"stage": "unavailable"}``; the next call builds a
  new pool.

A worker dies with the process that started it (:func:`die_with_parent`: the kernel's death
signal where the worker was started from the main thread, else a watchdog thread), so no
renderer outlives a run however it ends. Each process has its own pool (a pool is never used
across ``fork``); :func:`prestart` and :func:`warm` start a renderer before its first render,
so that its start-up (python, importing pebble, helm_python and the Go runtime: ~0.2 s)
overlaps other work.

This module is imported by the renderer too: it imports nothing heavy.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from pebble import ProcessPool

#: a request to the renderer and its answer: JSON-like dictionaries (see ``backends``)
Answer: TypeAlias = dict
Job: TypeAlias = Callable[[dict], Answer]

_LOCK = threading.Lock()
_POOLS: dict[int, tuple[ProcessPool, IO[bytes]]] = {}  # process id -> its pool and its renderers' log


def set_pdeathsig() -> bool:
    """Ask the kernel to SIGKILL this process when its parent (thread) ends; Linux only."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) == 0  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def die_with_parent(parent: int, deathsig: bool) -> None:
    """In a child process: end when the process that started it ends, however it ends (no orphan).

    ``deathsig`` (the child was started from its parent's main thread, which lives as long as
    the parent): the kernel kills it with the parent (Linux ``PR_SET_PDEATHSIG``). Always, a
    watchdog thread ends it when its parent changes (it was re-parented)."""
    if deathsig:
        set_pdeathsig()
    if os.getppid() != parent:  # the parent ended before the death signal was armed
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


class _Inherited:
    """A file descriptor of the parent that a spawned renderer receives a copy of (as
    multiprocessing passes a pipe): the renderers' log, an unnamed file that leaves nothing
    behind however the processes end."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple:
        from multiprocessing import reduction

        return (_inherited, (reduction.DupFd(self.fd),))


def _inherited(dup: Any) -> int:
    fd: int = dup.detach()
    return fd


def _init_renderer(parent: int, deathsig: bool, log: int) -> None:
    """A renderer's start: die with its parent, keep native output away from the user's
    terminal and output, load helm_python (and the Go runtime) before the first job."""
    import signal

    die_with_parent(parent, deathsig)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # stopped at once, even inside a Go call
    try:
        os.ftruncate(log, 0)  # the log of this renderer only (a pool's renderers run one at a time)
        os.lseek(log, 0, os.SEEK_SET)
        os.dup2(log, 2)
        os.close(log)
    except OSError:
        pass
    os.dup2(2, 1)
    try:
        import helm_python  # noqa: F401
    except Exception:  # reported by the first job (stage "unavailable")
        pass


def _ready() -> None:
    """A job that does nothing: scheduled to start a pool's renderer."""


def _pool() -> ProcessPool:
    """This process's pool (created, and its renderer started, on first use)."""
    import multiprocessing
    import multiprocessing.util

    from pebble import ProcessPool

    pid = os.getpid()
    with _LOCK:
        entry = _POOLS.get(pid)
        if entry is not None:
            return entry[0]
        me = multiprocessing.current_process()
        if me.daemon:
            # a worker of a multiprocessing pool is daemonic, and multiprocessing refuses
            # children to those (they would outlive it); a renderer dies with its parent
            # (die_with_parent), so this process may start one
            with contextlib.suppress(AssertionError):  # (the setter refuses a process started here)
                me.daemon = False
        log = tempfile.TemporaryFile()
        deathsig = threading.current_thread() is threading.main_thread()
        pool = ProcessPool(
            max_workers=1,
            initializer=_init_renderer,
            initargs=(pid, deathsig, _Inherited(log.fileno())),
            context=multiprocessing.get_context("spawn"),
        )
        _POOLS[pid] = (pool, log)
        # a multiprocessing child joins its non-daemon children (the renderer) when it ends:
        # stop the pool before that
        multiprocessing.util.Finalize(None, _shutdown, exitpriority=10)
        pool.schedule(_ready)  # the renderer starts now, from this thread
        return pool


def _discard(pool: ProcessPool) -> None:
    with _LOCK:
        entry = _POOLS.get(os.getpid())
        if entry is None or entry[0] is not pool:
            return
        del _POOLS[os.getpid()]
    pool.stop()
    pool.join(timeout=5)
    entry[1].close()


def _log_tail() -> str:
    """The end of what this process's renderer wrote to its standard error."""
    with _LOCK:
        entry = _POOLS.get(os.getpid())
    if entry is None:
        return ""
    try:
        fd = entry[1].fileno()
        size = os.fstat(fd).st_size
        lines = os.pread(fd, 8192, max(0, size - 8192)).decode("utf-8", "replace").splitlines()[-20:]
    except (OSError, ValueError):
        return ""
    return "; ".join(x.rstrip() for x in lines if x.strip())[-2000:]


_GRACE = 5.0  # seconds a request may wait for a renderer beyond its own budget


def run(job: Job, request: dict, timeout: float) -> Answer:
    """``job(request)`` in this process's renderer, stopped after ``timeout`` seconds. A pool
    that broke (its idle renderer died, or none could start) is replaced once."""
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures.process import BrokenProcessPool

    try:
        from pebble import ProcessExpired
    except ImportError as exc:  # a broken installation: the chart is reported, the run goes on
        return {"ok": False, "stage": "unavailable", "type": "ImportError", "message": f"the renderer pool cannot be used: {exc}"}

    broke = ""
    for _ in range(2):
        pool: ProcessPool | None = None
        try:
            pool = _pool()
            future = pool.schedule(job, args=(request,), timeout=timeout)
            # pebble ends a task over its timeout once a renderer runs it; the wait is bounded
            # too, so a pool that never hands the task to a renderer cannot hang the run
            answer: Answer = future.result(timeout=timeout + _GRACE)
        except FutureTimeout:
            if pool is not None and not future.done():
                future.cancel()
                _discard(pool)
                broke = "no renderer took the request"
                continue
            return {"ok": False, "stage": "timeout", "type": "Timeout", "message": ""}
        except ProcessExpired as exc:
            tail = _log_tail()
            reason = f"exit code {exc.exitcode}" + (f": {tail}" if tail else "")
            return {"ok": False, "stage": "crash", "type": "WorkerDied", "message": f"the renderer process died ({reason})"}
        except (BrokenProcessPool, RuntimeError, OSError) as exc:  # the pool broke, or could not be made
            if pool is not None:
                _discard(pool)
            broke = str(exc)
            continue
        except Exception as exc:  # the job itself raised (it answers failures; this is a bug)
            return {"ok": False, "stage": "crash", "type": type(exc).__name__, "message": str(exc)}
        return answer
    return {"ok": False, "stage": "unavailable", "type": "ImportError", "message": f"the renderer process did not start: {broke}"}


def prestart(count: int) -> None:
    """Start renderers now, for ``count`` processes that will render. 1: this process's own (it
    renders itself, or one of the processes it forks will, and which one is not known: that one
    starts its renderer as its chart unit starts, :func:`warm`). More: one in each of the first
    ``count`` processes it forks (with multiprocessing), as each is forked (a pool's first
    batches are its charts, one a worker). Does nothing when helm_python is not installed."""
    import importlib.util
    import multiprocessing.util

    if count <= 0 or importlib.util.find_spec("helm_python") is None:
        return
    if count == 1:
        warm()
        return
    import pebble  # noqa: F401  (imported once here, not in each forked process)

    first = _FORKS.prestart == 0
    _FORKS.prestart = _FORKS.count + count
    if first:
        os.register_at_fork(before=_FORKS.counted)
        multiprocessing.util.register_after_fork(_FORKS, _start_forked)


def warm() -> None:
    """Start this process's renderer now (it starts while the caller goes on)."""
    try:
        _pool()
    except Exception:  # the first render reports it
        pass


class _Forks:
    """How many processes this one forked, and up to which of them one starts a renderer at
    once (a weak-referenceable object, as multiprocessing's after-fork registry needs)."""

    count = 0
    prestart = 0

    def counted(self) -> None:
        self.count += 1


_FORKS = _Forks()


def _start_forked(forks: _Forks) -> None:
    if forks.count <= forks.prestart:
        warm()


def _shutdown() -> None:
    with _LOCK:
        mine = _POOLS.pop(os.getpid(), None)
    if mine is not None:
        mine[0].stop()
        mine[0].join(timeout=5)
        mine[1].close()


def _after_fork_in_child() -> None:
    global _LOCK
    _LOCK = threading.Lock()  # it may have been held by another thread of the parent


atexit.register(_shutdown)
os.register_at_fork(after_in_child=_after_fork_in_child)
