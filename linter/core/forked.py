"""Work handed to a forked copy of this process while this one goes on.

The child starts with everything this process has loaded, computes one value, writes it down a
pipe and ends without running any exit handler (the temporary folders and processes of the run
stay the parent's). The parent reads the value when it needs it. A child is an accelerator only:
whatever goes wrong in it (an exception, a crash, a platform with no ``fork``), the caller
computes the value itself, so every error is reported by the process the user started.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class Forked(Generic[T]):
    """One forked child computing one value (``start``), read back once (``result``)."""

    __slots__ = ("pid", "fd")

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd

    @classmethod
    def start(cls, work: Callable[[], T | None], encode: Callable[[T], bytes] | None = None) -> Forked[T] | None:
        """A child computing ``work()``, its value sent as ``encode(value)`` (default: pickled;
        None sends nothing).
        None when no child can be had: no ``fork`` (Windows), other threads running (a child
        could wait forever on a lock one of them held), or the system refused the process."""
        threading = sys.modules.get("threading")
        if not hasattr(os, "fork") or (threading is not None and threading.active_count() > 1):
            return None
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read)
                signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C reaches the parent too: it decides
                # what the child might print goes nowhere, and a reader of the run's output (a
                # pipe) waits for no child of it
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                value = work()
                if value is not None:
                    if encode is None:
                        import pickle

                        encode = pickle.dumps
                    view = memoryview(encode(value))
                    while view:
                        view = view[os.write(write, view) :]
                    code = 0
            except BaseException:  # noqa: BLE001 - nothing may leave the child: the parent does the work instead
                pass
            finally:
                os._exit(code)
        os.close(write)
        return cls(pid, read)

    def result(self, decode: Callable[[bytes], T] | None = None) -> T | None:
        """The child's value (waiting for it; ``decode``, default: unpickled), or None when it
        sent none or did not end well (a child killed mid-write leaves a truncated value). A
        pickle is read only from this process's own child."""
        chunks = []
        try:
            while chunk := os.read(self.fd, 1 << 20):
                chunks.append(chunk)
        except OSError:
            chunks = []
        finally:
            ended_well = self._end()
        if not (chunks and ended_well):
            return None
        if decode is None:
            import pickle

            decode = pickle.loads
        try:
            return decode(b"".join(chunks))
        except Exception:  # noqa: BLE001 - not a value of ours: the parent does the work instead
            return None

    def cancel(self) -> None:
        """End the child without waiting for its value (nothing when it has ended already)."""
        if self.pid > 0:  # after `_end` the pid is -1, which `kill` would take as every process
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self._end()

    def _end(self) -> bool:
        """Close the pipe and reap the child; whether it exited with status 0 (it sent its whole
        value). False once ended, or when the child was reaped elsewhere."""
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1
        ended_well = False
        if self.pid > 0:
            try:
                _, status = os.waitpid(self.pid, 0)
                ended_well = os.waitstatus_to_exitcode(status) == 0
            except OSError:  # reaped already (a SIGCHLD handler), or not ours any more
                pass
            self.pid = -1
        return ended_well
