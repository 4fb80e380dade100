"""Apply fix edits: by applicability, only where they cannot damage code, atomically, or as a diff.

Where a fix's edits land in a file's text, and the text after them, is :mod:`linter.core.edits`.

Safety. ``--fix`` and ``--diff`` go through :func:`fix_unit`, which applies a file's fixes only

- to the bytes they were computed from (the file is read and linted again; a file that changed
  since it was linted is skipped, and it is compared once more, under a lock, before writing);
- when every edit lands inside the file and outside string literals (else that fix is dropped);
- when the fixed file still compiles as well as it did (else none of the file's fixes is applied);
- when writing keeps what the file is: its encoding, BOM and line breaks, permissions, owner and
  group, hard links (rewritten in place) and symbolic links (never replaced; never followed out
  of the scanned tree); read-only files are not rewritten.

Every file left alone for one of these reasons gets a warning notification naming it. A YAML
file's fixes are computed by :mod:`linter.kubernetes.yamlfix` and applied round after round
(:func:`_fix_yaml`: the same rereading, relinting and writing; the fixed file must load as well
as it did); a chart's values hints are set in its ``values.yaml`` (:func:`_fix_chart`).
"""

from __future__ import annotations

import ast
import difflib
import errno
import io
import json
import os
import re
import stat
import tempfile
import time
import tokenize
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from linter.core.edits import BOM, Applied, edit_text
from linter.core.model import Finding, Notification, UnitResult

if TYPE_CHECKING:
    from linter.core.discover import Unit
    from linter.core.engine import RuleSet

_LOCK_WAIT = 10.0  # seconds to wait for another pitfall run that is writing the same file


def fixable(findings: Sequence[Finding], *, unsafe: bool) -> list[Finding]:
    return [
        f
        for f in findings
        if f.fix is not None and f.suppression is None and (f.fix.applicability == "safe" or unsafe)
    ]


# --------------------------------------------------------------------------- checking the result


def _level(data: bytes, filename: str) -> tuple[int, str]:
    """How well Python source compiles: 3 compiles, 2 CPython parses it, 1 libcst parses it
    (newer syntax than the running interpreter), 0 none; with the first error seen."""
    error = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SyntaxWarning and DeprecationWarning of the file's code
        try:
            compile(data, filename, "exec", dont_inherit=True)
            return 3, ""
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
            error = _describe(exc)
        try:
            ast.parse(data, filename)
            return 2, error
        except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
            pass
    try:
        from linter.python.analyzer import parse_module

        parse_module(data.decode("utf-8-sig"))
        return 1, error
    except Exception:  # ParserSyntaxError, RecursionError, UnicodeDecodeError
        return 0, error


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        where = f" (line {exc.lineno})" if exc.lineno else ""
        return f"{exc.msg}{where}"
    return str(exc) or type(exc).__name__


def broken_by(before: bytes, after: bytes, filename: str) -> str | None:
    """Why the fixed Python source ``after`` is worse than ``before`` (None: it is not)."""
    was, _ = _level(before, filename)
    now, error = _level(after, filename)
    if now >= was:
        return None
    return f"the fixed code would not compile: {error}" if error else "the fixed code would not parse"


# --------------------------------------------------------------------------- writing


def fix_roots(paths: Sequence[str], cwd: Path) -> tuple[str, ...]:
    """The folders (and files) fixes may write in: the scan root, and each path named on the
    command line that is not reached through a symbolic link inside the scan root, nor is one."""
    base = os.path.realpath(cwd)
    roots = {base}
    for p in paths:
        lexical = os.path.normpath(os.path.join(os.path.abspath(cwd), p))
        if os.path.islink(lexical):
            continue  # a link named on the command line: its target must be in another root
        inside = _within(lexical, os.path.abspath(cwd))
        if inside:
            # a symbolic link between the scan root and the path leads elsewhere: not a root
            rel = os.path.relpath(lexical, os.path.abspath(cwd))
            probe = os.path.abspath(cwd)
            linked = False
            for part in Path(rel).parts:
                probe = os.path.join(probe, part)
                if os.path.islink(probe):
                    linked = True
                    break
            if linked:
                continue
        roots.add(os.path.realpath(lexical))
    return tuple(sorted(roots))


def _within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


class NotWritten(Exception):
    """Why a fixed file was not written (the file is left as it was)."""


def write_fixed(path: str | Path, expected: bytes, new: bytes, *, roots: Sequence[str] = ()) -> None:
    """Replace the content of ``path`` by ``new`` if it still is ``expected``; raise
    :class:`NotWritten` (saying why) and change nothing otherwise.

    The file is never a symbolic link here (it is not replaced, nor followed out of ``roots``).
    A file with other hard links, an owner or group this process cannot give a new file, or a
    folder it cannot create a file in is rewritten in place (the same inode: links, owner and
    permissions stay); any other file through a temporary file in its folder renamed over it,
    with its permission bits, owner and group. The content is compared to ``expected`` under an
    exclusive lock, which a concurrent pitfall run writing the same file waits for.
    """
    p = os.path.abspath(path)
    try:
        st = os.lstat(p)
    except OSError as exc:
        raise NotWritten(f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISLNK(st.st_mode):
        target = os.path.realpath(p)
        if roots and not any(_within(target, r) for r in roots):
            raise NotWritten("it is a symbolic link to a file outside the scanned tree")
        raise NotWritten("it is a symbolic link (the file it points to is fixed when linted as itself)")
    real = os.path.realpath(p)
    if roots and not any(_within(real, r) for r in roots):
        raise NotWritten("it is reached through a symbolic link to outside the scanned tree")
    if not stat.S_ISREG(st.st_mode):
        raise NotWritten("it is not a regular file")
    if not st.st_mode & stat.S_IWUSR:
        raise NotWritten("it is read-only")
    fd = _open_locked(real)
    try:
        st = os.fstat(fd)
        if not st.st_mode & stat.S_IWUSR:
            raise NotWritten("it is read-only")
        if _read_all(fd, len(expected) + 1) != expected:
            raise NotWritten("it changed since it was linted")
        if not _replace(real, st, new):
            _write_in_place(fd, new)
    finally:
        os.close(fd)  # releases the lock


def _open_locked(path: str) -> int:
    """A read-write descriptor of the file at ``path``, exclusively locked, and still the file
    at ``path`` once the lock is held (another run may have replaced it meanwhile)."""
    flags = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no advisory locks
        fcntl = None  # type: ignore[assignment]
    for _ in range(5):
        try:
            fd = os.open(path, flags)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise NotWritten("it is a symbolic link") from None
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise NotWritten("no permission to write it") from None
            raise NotWritten(f"cannot open it ({exc.strerror or exc})") from None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise NotWritten("it is not a regular file")
            if fcntl is not None:
                deadline = time.monotonic() + _LOCK_WAIT
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except OSError as exc:
                        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                            break  # no locks on this file system: the content check still runs
                        if time.monotonic() > deadline:
                            raise NotWritten("another process holds a lock on it") from None
                        time.sleep(0.02)
            held, now = os.fstat(fd), os.stat(path, follow_symlinks=False)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced while we waited for the lock: open the new file
    raise NotWritten("it changed since it was linted")


def _read_all(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    os.lseek(fd, 0, os.SEEK_SET)
    while total < limit:
        chunk = os.read(fd, min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _write_in_place(fd: int, new: bytes) -> None:
    try:
        view = memoryview(new)
        os.lseek(fd, 0, os.SEEK_SET)
        done = 0
        while done < len(new):
            done += os.write(fd, view[done:])
        os.ftruncate(fd, len(new))
        os.fsync(fd)
    except OSError as exc:
        raise NotWritten(f"writing it failed ({exc.strerror or exc}); it may be incomplete") from None


def _replace(path: str, st: os.stat_result, new: bytes) -> bool:
    """Write ``new`` to a temporary file beside ``path`` with its metadata and rename it over
    ``path``; False (nothing done) when the file must be rewritten in place instead."""
    if st.st_nlink > 1:
        return False  # the other links would keep the old content
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is not None and euid != 0 and st.st_uid != euid:
        return False  # a new file would belong to us, not to the file's owner
    folder = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".pitfall-tmp", dir=folder)
    except OSError:
        return False  # a folder we cannot create files in
    try:
        try:
            if euid is not None and hasattr(os, "fchown"):
                made = os.fstat(fd)
                if (made.st_uid, made.st_gid) != (st.st_uid, st.st_gid):
                    os.fchown(fd, st.st_uid if euid == 0 else -1, st.st_gid)
            if hasattr(os, "fchmod"):
                os.fchmod(fd, stat.S_IMODE(st.st_mode))
            else:  # pragma: no cover - Windows
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
            if not _copy_xattrs(path, fd):
                raise PermissionError
        except OSError:
            os.close(fd)
            os.unlink(tmp)
            return False  # owner, group or attributes cannot be kept on a new file
        with os.fdopen(fd, "wb") as fh:
            fh.write(new)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise NotWritten(f"writing it failed ({exc.strerror or exc})") from None
        raise
    _sync_folder(folder)
    return True


def _copy_xattrs(path: str, fd: int) -> bool:
    """Copy the extended attributes (ACLs among them) of ``path`` to ``fd``; False if one cannot be."""
    if not hasattr(os, "listxattr"):
        return True
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return True  # no extended attributes on this file system
    for name in names:
        try:
            value = os.getxattr(path, name, follow_symlinks=False)
            try:
                if os.getxattr(fd, name) == value:
                    continue
            except OSError:
                pass
            os.setxattr(fd, name, value)
        except OSError:
            return False
    return True


def _sync_folder(folder: str) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# --------------------------------------------------------------------------- one unit


def _diff_lines(text: str) -> list[str]:
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)


def unified_diff(path: str, before: str, after: str) -> str:
    """A diff ``patch -p1`` and ``git apply`` read: lines end at ``\\n`` only (``\\r`` and form
    feeds stay in the line), and a last line without one is marked."""
    out = []
    for line in difflib.unified_diff(_diff_lines(before), _diff_lines(after), f"a/{path}", f"b/{path}"):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


@dataclass
class Outcome:
    result: UnitResult
    fixed: int = 0
    diff: str = ""
    notices: list[Notification] = field(default_factory=list)


def not_fixed(result: UnitResult, path: str, why: str) -> Outcome:
    """A file left alone: the result with a warning saying why."""
    note = Notification(f"{path}: not fixed: {why}", "warning", path)
    return Outcome(replace(result, notifications=(*result.notifications, note)), notices=[note])


def refusals(path: str, applied: Applied) -> list[Notification]:
    """A warning for each fix ``edit_text`` did not apply, at its first edit."""
    out = []
    for fix, why in applied.refused:
        first = fix.edits[0].region if fix.edits else None
        where = f":{first.line}:{first.column}" if first else ""
        out.append(Notification(f"{path}{where}: fix not applied ({fix.title}): {why}", "warning", path))
    return out


def finish(
    result: UnitResult,
    path: str,
    abspath: str,
    data: bytes,
    before: str,
    after: str,
    notices: list[Notification],
    *,
    bom: bytes = b"",
    write: bool,
    roots: Sequence[str],
    relint: Callable[[bytes], UnitResult],
) -> Outcome:
    """The end every fixer shares: ``before`` (the decoded ``data`` read again) became ``after``;
    nothing to do, a diff (``write`` False), or the file written atomically and linted again
    (``relint(new bytes)``) to count what was fixed."""
    if after == before:
        if not notices:
            return Outcome(result)
        return Outcome(replace(result, notifications=(*result.notifications, *notices)), notices=notices)
    new = bom + after.encode("utf-8")
    if not write:
        mark = "\ufeff" if bom else ""
        diff = unified_diff(path, mark + before, mark + after)
        return Outcome(replace(result, notifications=(*result.notifications, *notices)), diff=diff, notices=notices)
    try:
        write_fixed(abspath, data, new, roots=roots)
    except NotWritten as exc:
        notices.append(Notification(f"{path}: not fixed: {exc}", "warning", path))
        return Outcome(replace(result, notifications=(*result.notifications, *notices)), notices=notices)
    again = relint(new)
    fixed = max(0, len(result.findings) - len(again.findings))
    return Outcome(replace(again, notifications=(*again.notifications, *notices)), fixed=fixed, notices=notices)


def _declared_encoding(data: bytes) -> str | None:
    """The PEP 263 encoding of Python source (``utf-8`` without one); None when unknown."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, LookupError):
        return None
    return encoding


def _ascii_compatible(encoding: str | None) -> bool:
    if encoding is None:
        return False
    sample = bytes(range(128))
    try:
        return sample.decode(encoding) == sample.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


def fix_unit(unit: Unit, result: UnitResult, ruleset: RuleSet, *, unsafe: bool, write: bool, roots: Sequence[str] = ()) -> Outcome:
    """Apply (``write``) or diff the fixes of one linted unit; never damages the file.

    The file is read again and linted again: its fixes are applied only if they are the ones
    reported (the file did not change since), to the very bytes they were computed from.
    """
    from linter.core import engine

    if unit.kind == "yaml":
        return _fix_yaml(unit, result, ruleset, unsafe=unsafe, write=write, roots=roots)
    if unit.kind == "chart":
        return _fix_chart(unit, result, ruleset, unsafe=unsafe, write=write, roots=roots)
    todo = fixable(result.findings, unsafe=unsafe)
    if unit.kind != "python" or not todo:
        return Outcome(result)
    path = unit.path

    def encoded(data: bytes) -> str | None:
        encoding = _declared_encoding(data)
        if encoding in ("utf-8", "utf-8-sig") or (data.isascii() and _ascii_compatible(encoding) and all(f.fix is not None and all(e.text.isascii() for e in f.fix.edits) for f in todo)):
            return None  # an ASCII file declaring latin-1 is fixed (ASCII edits keep it ASCII)
        return f"it is encoded in {encoding or 'an unknown encoding'} (fixes are written in UTF-8 only)"

    again = _read_again(unit, result, ruleset, encoded)
    if isinstance(again, Outcome):
        return again
    data, bom, text = again
    applied = edit_text(text, [f.fix for f in todo if f.fix is not None], python=True)
    if applied.text != text:
        why = broken_by(data, bom + applied.text.encode("utf-8"), unit.abspath)
        if why is not None:
            return not_fixed(result, path, why)
    return finish(
        result, path, unit.abspath, data, text, applied.text, refusals(path, applied),
        bom=bom, write=write, roots=roots, relint=lambda new: engine.lint_unit(unit.kind, unit.path, new, ruleset),
    )


def _read_again(unit: Unit, result: UnitResult, ruleset: RuleSet, check: Callable[[bytes], str | None] | None = None) -> tuple[bytes, bytes, str] | Outcome:
    """The file's bytes read again, its BOM and its text, when it still gives the findings it
    was linted with (and ``check`` of its bytes names no reason to leave it alone); else the
    outcome that says why it is not fixed."""
    from linter.core import engine
    from linter.core.discover import Unreadable, read_file

    path = unit.path
    try:
        data = read_file(unit.abspath, ruleset.settings.max_file_size)
    except Unreadable as exc:
        return not_fixed(result, path, f"cannot read it again ({exc.reason})")
    why = check(data) if check is not None else None
    if why is not None:
        return not_fixed(result, path, why)
    bom = BOM if data.startswith(BOM) else b""
    try:
        text = data[len(bom) :].decode("utf-8")
    except UnicodeDecodeError:
        return not_fixed(result, path, "it is not valid UTF-8 (fixes are written in UTF-8 only)")
    if engine.lint_unit(unit.kind, unit.path, data, ruleset).findings != result.findings:
        return not_fixed(result, path, "it changed since it was linted")
    return data, bom, text


def _fix_yaml(unit: Unit, result: UnitResult, ruleset: RuleSet, *, unsafe: bool, write: bool, roots: Sequence[str]) -> Outcome:
    """:func:`fix_unit` for a YAML file: the fixes are computed from the file read
    again (and linted again: only when it did not change since), applied round after round (a
    fix that overlaps another waits for the next one), and written or diffed once."""
    from linter.core import engine
    from linter.kubernetes.yamlfix import MAX_ROUNDS, attach, broken, fixable_here

    if not fixable_here(result.findings, unsafe=unsafe):
        return Outcome(result)
    path = unit.path
    again = _read_again(unit, result, ruleset)
    if isinstance(again, Outcome):
        return again
    data, bom, original = again
    text = original
    findings = list(result.findings)
    notices: list[Notification] = []
    for _ in range(MAX_ROUNDS):
        todo = fixable(attach(path, text, findings, ruleset, unsafe=unsafe), unsafe=unsafe)
        if not todo:
            break
        applied = edit_text(text, [f.fix for f in todo if f.fix is not None])
        notices.extend(refusals(path, applied))
        if applied.text == text:
            break
        why = broken(text, applied.text)
        if why is not None:
            notices.append(Notification(f"{path}: fixes not applied: {why}", "warning", path))
            break
        text = applied.text
        findings = list(engine.lint_unit(unit.kind, unit.path, bom + text.encode("utf-8"), ruleset).findings)
    return finish(
        result, path, unit.abspath, data, original, text, notices,
        bom=bom, write=write, roots=roots, relint=lambda new: engine.lint_unit(unit.kind, unit.path, new, ruleset),
    )


def _fix_chart(unit: Unit, result: UnitResult, ruleset: RuleSet, *, unsafe: bool, write: bool, roots: Sequence[str]) -> Outcome:
    """:func:`fix_unit` for a chart: its values hints (each verified by rendering
    the chart with that value) set their keys in the chart's ``values.yaml``, one after the
    other on the file's text, after the chart was linted again and gave the same findings."""
    from linter.core import engine
    from linter.core.discover import Unreadable, read_file
    from linter.kubernetes.yamlfix import broken, values_fix

    todo = [(f, hint) for f in fixable(result.findings, unsafe=unsafe) if (hint := f.fix) is not None and hint.path]
    if not todo or not os.path.isdir(unit.abspath):
        return Outcome(result)
    target = cast(str, todo[0][1].path)  # the filter above keeps only fixes with a path
    abspath = os.path.join(unit.abspath, "values.yaml")
    try:
        data = read_file(abspath, ruleset.settings.max_file_size)
        original = data.decode("utf-8")
    except Unreadable as exc:
        return not_fixed(result, target, f"cannot read it again ({exc.reason})")
    except UnicodeDecodeError:
        return not_fixed(result, target, "it is not valid UTF-8 (fixes are written in UTF-8 only)")
    if engine.read_and_lint(unit, ruleset).findings != result.findings:
        return not_fixed(result, target, "the chart changed since it was linted")
    text = original
    notices: list[Notification] = []
    done: set[tuple[str, str]] = set()
    for f, hint in todo:
        props = dict(f.properties)
        key, raw = props.get("pitfall/values-key"), props.get("pitfall/values-value")
        if key is None or raw is None or (key, raw) in done:
            continue
        done.add((key, raw))
        fix = values_fix(target, text, key, json.loads(raw), hint.title, hint.applicability)
        applied = edit_text(text, [fix]) if fix is not None else None
        if applied is None or applied.refused or broken(text, applied.text) is not None:
            notices.append(Notification(f"{target}: fix not applied ({hint.title}): values.yaml cannot be edited there cleanly", "warning", target))
            continue
        text = applied.text
    return finish(
        result, target, abspath, data, original, text, notices,
        write=write, roots=roots, relint=lambda _new: engine.read_and_lint(unit, ruleset),
    )
