"""Work handed to a forked child (linter.core.forked): its value comes back, its failures and
its output stay in it, and the run's own exit handlers and files are the parent's alone."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from linter.core.forked import Forked

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="a child is forked")


def test_the_value_is_computed_in_another_process_and_read_back():
    parent = os.getpid()
    child = Forked.start(lambda: {"pid": os.getpid(), "data": list(range(100_000))})
    assert child is not None
    value = child.result()
    assert value is not None and value["pid"] != parent
    assert value["data"] == list(range(100_000))  # more than a pipe holds at once


def test_a_child_that_fails_gives_nothing_and_the_parent_goes_on():
    def boom() -> int:
        raise RuntimeError("inside the child")

    child = Forked.start(boom)
    assert child is not None and child.result() is None
    killed = Forked.start(lambda: os._exit(3))
    assert killed is not None and killed.result() is None


def test_a_value_cut_short_by_the_childs_failure_is_not_taken(monkeypatch):
    # the child writes half of its value, then fails: what came down the pipe decodes (bytes
    # take anything), but a child that did not end well sent no value
    real_write = os.write

    def half_then_fail(fd: int, data) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError("cut short")

    monkeypatch.setattr(os, "write", half_then_fail)
    child = Forked.start(lambda: b"x" * 1000, bytes)  # forked with the failing write
    monkeypatch.undo()
    assert child is not None and child.result(bytes) is None


def test_a_value_sent_in_another_encoding_is_read_back_in_it():
    child = Forked.start(lambda: b"[1, 2]", bytes)
    assert child is not None and child.result(bytes) == b"[1, 2]"


def test_a_cancelled_child_is_ended_and_reaped():
    child = Forked.start(lambda: time.sleep(60))
    assert child is not None
    pid = child.pid
    started = time.monotonic()
    child.cancel()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # gone, and no zombie left for anyone to reap
    child.cancel()  # again, once ended: nothing is signalled


def test_cancelling_a_child_whose_value_was_read_signals_nothing(monkeypatch):
    child = Forked.start(lambda: 7)
    assert child is not None and child.result() == 7
    signalled: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: signalled.append((pid, sig)))
    child.cancel()
    assert signalled == []


def test_no_child_is_forked_while_other_threads_run():
    # a child forked beside another thread could wait forever on a lock that thread held
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert Forked.start(lambda: 1) is None
    finally:
        stop.set()
        other.join()


def test_the_child_prints_nothing_and_runs_none_of_the_parents_exit_handlers(tmp_path):
    # the parent's exit handlers remove the run's temporary folders: a child ending must not
    script = textwrap.dedent(
        f"""
        import atexit, sys
        from linter.core.forked import Forked

        atexit.register(lambda: open({str(tmp_path / "exits")!r}, "a").write("exit\\n"))

        def work():
            print("from the child")
            print("to stderr", file=sys.stderr)
            return 42

        child = Forked.start(work)
        print("value", child.result())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "value 42\n"
    assert done.stderr == ""
    assert (tmp_path / "exits").read_text() == "exit\n"  # the parent's one exit, not the child's
