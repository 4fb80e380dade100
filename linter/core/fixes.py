"""Apply fix edits: by applicability, only where they cannot damage code, atomically, or as a diff.

Positions. A fix's regions are 1-based (line, column) in code points of the file's text as the
analyzers see it: decoded, without a UTF-8 BOM, lines broken at ``\\r\\n``, ``\\r`` and ``\\n`` (Python's
physical lines, and the language server protocol's). :class:`Lines` maps them to offsets in that
same text; the BOM is taken off before and put back after, and every line break is kept.

Safety. ``--fix`` and ``--diff`` go through :func:`fix_unit`, which applies a file's fixes only

- to the bytes they were computed from (the file is read and linted again; a file that changed
  since it was linted is skipped, and it is compared once more, under a lock, before writing);
- when every edit lands inside the file and outside string literals (else that fix is dropped);
- when the fixed file still compiles as well as it did (else none of the file's fixes is applied);
- when writing keeps what the file is: its encoding, BOM and line breaks, permissions, owner and
  group, hard links (rewritten in place) and symbolic links (never replaced; never followed out
  of the scanned tree); read-only files are not rewritten.

Every file left alone for one of these reasons gets a warning notification naming it. A YAML
file's fixes are computed, checked and applied by :func:`linter.kubernetes.yamlfix.fix_yaml_unit` (the same
rereading, relinting and writing; the fixed file must load as well as it did).
"""

from __future__ import annotations

import ast
import difflib
import errno
import io
import os
import re
import stat
import tempfile
import time
import tokenize
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from linter.core.model import Finding, Fix, Notification, UnitResult

BOM = b"\xef\xbb\xbf"
_BREAK = re.compile(r"\r\n|\r|\n")
_LOCK_WAIT = 10.0  # seconds to wait for another pitfall run that is writing the same file


class Lines:
    """Line starts and ends of a text, with its own line breaks (``\\r\\n``, ``\\r``, ``\\n``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self.ends: list[int] = []
        self.breaks: list[str] = []
        for m in _BREAK.finditer(text):
            self.ends.append(m.start())
            self.breaks.append(m.group())
            self.starts.append(m.end())
        self.ends.append(len(text))
        self.breaks.append("")

    def offset(self, line: int, column: int) -> int | None:
        """The offset of a 1-based (line, column); None when it is not in the text (a column may
        be one past the line's last character, never on or past its line break)."""
        if not 1 <= line <= len(self.starts) or column < 1:
            return None
        off = self.starts[line - 1] + column - 1
        return off if off <= self.ends[line - 1] else None

    def newline(self, line: int) -> str:
        """The line break of ``line``, else the text's first one, else ``\\n``."""
        if 1 <= line <= len(self.breaks) and self.breaks[line - 1]:
            return self.breaks[line - 1]
        return next((b for b in self.breaks if b), "\n")


def string_spans(text: str) -> list[tuple[int, int]] | None:
    """(start, end) offsets of the string literals (f-strings whole) of Python ``text``; None
    when the text cannot be tokenized."""
    lines = Lines(text)
    # tokenize breaks lines at "\n" only: hand it the same lines joined with "\n" (columns and
    # line numbers stay those of the text)
    joined = "\n".join(text[s:e] for s, e in zip(lines.starts, lines.ends))
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    spans: list[tuple[int, int]] = []
    opened: list[int] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(joined).readline):
            start = lines.starts[tok.start[0] - 1] + tok.start[1] if tok.start[0] <= len(lines.starts) else len(text)
            end = lines.starts[tok.end[0] - 1] + tok.end[1] if tok.end[0] <= len(lines.starts) else len(text)
            if tok.type == tokenize.STRING and not opened:
                spans.append((start, end))
            elif fstring_start is not None and tok.type == fstring_start:
                opened.append(start)
            elif fstring_end is not None and tok.type == fstring_end and opened:
                first = opened.pop()
                if not opened:
                    spans.append((first, end))
    except (tokenize.TokenError, SyntaxError, ValueError):  # IndentationError is a SyntaxError
        return None
    return spans


def _inside(spans: Sequence[tuple[int, int]], offset: int) -> bool:
    """True when ``offset`` lies strictly inside one of the (sorted) spans."""
    lo, hi = 0, len(spans)
    while lo < hi:  # the last span starting before offset
        mid = (lo + hi) // 2
        if spans[mid][0] < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo > 0 and offset < spans[lo - 1][1]


@dataclass
class Applied:
    """The text after the fixes, the fixes applied, and the fixes refused with the reason."""

    text: str
    applied: list[Fix] = field(default_factory=list)
    refused: list[tuple[Fix, str]] = field(default_factory=list)


def edit_text(text: str, fixes: Iterable[Fix], *, python: bool = False) -> Applied:
    """Apply whole fixes to ``text`` (decoded, without BOM). A fix whose edits are not all in the
    text, or (``python``) that edits inside a string literal, is refused; one that overlaps a fix
    already taken is left for the next run. Line breaks in an edit's text follow the file's."""
    fixes = list(fixes)
    lines = Lines(text)
    strings: list[tuple[int, int]] | None = []
    if python and fixes:
        strings = string_spans(text)
    result = Applied(text)
    planned: list[tuple[int, Fix, list[tuple[int, int, str]]]] = []
    for order, fix in enumerate(fixes):
        if strings is None:
            result.refused.append((fix, "the file cannot be tokenized"))
            continue
        spans: list[tuple[int, int, str]] = []
        why = None
        for edit in fix.edits:
            r = edit.region
            start, end = lines.offset(r.line, r.column), lines.offset(r.end_line, r.end_column)
            if start is None or end is None or end < start:
                why = f"its position ({r.line}:{r.column}-{r.end_line}:{r.end_column}) is not in the file"
                break
            if _inside(strings, start) or _inside(strings, end):
                why = "it would edit inside a string literal"
                break
            new = edit.text
            eol = lines.newline(r.line)
            if eol != "\n" and "\n" in new:
                new = re.sub(r"\r\n|\r|\n", eol, new)
            spans.append((start, end, new))
        if why is not None:
            result.refused.append((fix, why))
            continue
        if spans:
            spans.sort(key=lambda s: (s[0], s[1]))
            planned.append((order, fix, spans))
    planned.sort(key=lambda p: (p[2][0][0], p[2][0][1], p[0]))
    taken: list[tuple[int, int, str]] = []

    def clashes(span: tuple[int, int, str]) -> bool:
        a, b, _ = span
        for c, d, _ in taken:
            if a < d and c < b:  # overlapping replacements
                return True
            if (a == b and c < a < d) or (c == d and a < c < b):  # an insertion inside a replacement
                return True
        return False

    for _, fix, spans in planned:
        fresh = [s for s in spans if s not in taken]  # the same edit from two rules: applied once
        if any(clashes(s) for s in fresh):
            continue  # overlaps an edit already taken: the next run applies it
        taken.extend(fresh)
        result.applied.append(fix)
    taken.sort(key=lambda s: (s[0], s[1]))
    out: list[str] = []
    pos = 0
    for start, end, new in taken:
        out.append(text[pos:start])
        out.append(new)
        pos = max(end, pos)
    out.append(text[pos:])
    result.text = "".join(out)
    return result


def apply_fixes(text: str, fixes: Iterable[Fix], *, python: bool = False) -> str:
    """``text`` with every fix applied that can be (see :func:`edit_text`)."""
    return edit_text(text, fixes, python=python).text


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


def fix_unit(unit: Any, result: UnitResult, ruleset: Any, *, unsafe: bool, write: bool, roots: Sequence[str] = ()) -> Outcome:
    """Apply (``write``) or diff the fixes of one linted unit; never damages the file.

    The file is read again and linted again: its fixes are applied only if they are the ones
    reported (the file did not change since), to the very bytes they were computed from.
    """
    from linter.core import engine
    from linter.core.discover import Unreadable, read_file

    if unit.kind == "yaml":
        from linter.kubernetes.yamlfix import fix_yaml_unit

        return fix_yaml_unit(unit, result, ruleset, unsafe=unsafe, write=write, roots=roots)
    if unit.kind == "chart":
        from linter.kubernetes.yamlfix import fix_chart_unit

        return fix_chart_unit(unit, result, ruleset, unsafe=unsafe, write=write, roots=roots)
    todo = fixable(result.findings, unsafe=unsafe)
    if unit.kind != "python" or not todo:
        return Outcome(result)
    path = unit.path
    try:
        data = read_file(unit.abspath, ruleset.settings.max_file_size)
    except Unreadable as exc:
        return not_fixed(result, path, f"cannot read it again ({exc.reason})")
    encoding = _declared_encoding(data)
    if encoding not in ("utf-8", "utf-8-sig") and not (data.isascii() and _ascii_compatible(encoding) and all(f.fix is not None and all(e.text.isascii() for e in f.fix.edits) for f in todo)):
        # an ASCII file declaring latin-1 is fixed (ASCII edits keep it ASCII); any other is left alone
        return not_fixed(result, path, f"it is encoded in {encoding or 'an unknown encoding'} (fixes are written in UTF-8 only)")
    bom = BOM if data.startswith(BOM) else b""
    try:
        text = data[len(bom) :].decode("utf-8")
    except UnicodeDecodeError:
        return not_fixed(result, path, "it is not valid UTF-8")
    fresh = engine.lint_unit(unit.kind, unit.path, data, ruleset)
    if fresh.findings != result.findings:
        return not_fixed(result, path, "it changed since it was linted")
    applied = edit_text(text, [f.fix for f in todo if f.fix is not None], python=True)
    if applied.text != text:
        why = broken_by(data, bom + applied.text.encode("utf-8"), unit.abspath)
        if why is not None:
            return not_fixed(result, path, why)
    return finish(
        result, path, unit.abspath, data, text, applied.text, refusals(path, applied),
        bom=bom, write=write, roots=roots, relint=lambda new: engine.lint_unit(unit.kind, unit.path, new, ruleset),
    )
