"""`--fix`, `--diff` and the editor's quick fixes never damage code.

Each test is an attack that used to corrupt a file: a BOM, CR-only or mixed line breaks, a run
racing another one, an argument that is there already, edits inside string literals, links,
permissions and owners.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run, write

from linter.core import edits, fixes
from linter.core.model import Edit, Fix, Region

BOM = b"\xef\xbb\xbf"
BAD = b"import requests\nrequests.get('u')\n"
FIXED = b"import requests\nrequests.get('u', timeout=10)\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def fix(capsys, *args: str) -> tuple[int, str, str]:
    return run(capsys, "check", "--fix", "--unsafe-fixes", *args)


def notes(capsys, *args: str) -> list[dict]:
    code, out, _ = run(capsys, "check", "--fix", "--unsafe-fixes", "--format", "json", *args)
    return json.loads(out)["notifications"]


def compiles(data: bytes) -> bool:
    try:
        compile(data, "x.py", "exec", dont_inherit=True)
        return True
    except SyntaxError:
        return False


# --------------------------------------------------------------------------- 1. a UTF-8 BOM


def test_bom_and_an_unused_suppression_on_line_one_loses_only_the_directive(proj, capsys):
    write(proj, {"a.py": BOM + b"x = 1  # pitfall: ignore[TMO101]\ny = [1]\n"})
    run(capsys, "check", "--fix")
    assert (proj / "a.py").read_bytes() == BOM + b"x = 1\ny = [1]\n"


def test_bom_and_an_unsafe_fix_on_line_one_lands_after_the_string(proj, capsys):
    write(proj, {"a.py": BOM + b'import requests; requests.get("http://x")\n'})
    fix(capsys)
    assert (proj / "a.py").read_bytes() == BOM + b'import requests; requests.get("http://x", timeout=10)\n'


def test_bom_diff_shows_the_same_edit_and_writes_nothing(proj, capsys):
    write(proj, {"a.py": BOM + b'import requests; requests.get("http://x")  # pitfall: ignore[TLS101]\n'})
    code, out, _ = run(capsys, "check", "--diff", "--unsafe-fixes")
    assert '+\ufeffimport requests; requests.get("http://x", timeout=10)\n' in out
    assert (proj / "a.py").read_bytes().startswith(BOM + b"import requests; requests.get(\"http://x\")  #")


# --------------------------------------------------------------------------- 2. line breaks


@pytest.mark.parametrize(
    "before, after",
    [
        (b"import requests\rrequests.get('u')\r", b"import requests\rrequests.get('u', timeout=10)\r"),
        (b"import requests\r\nrequests.get('u')\r\n", b"import requests\r\nrequests.get('u', timeout=10)\r\n"),
        (b"import requests\r\nx = 1\rrequests.get('u')\ny = 2\r", b"import requests\r\nx = 1\rrequests.get('u', timeout=10)\ny = 2\r"),
        (b"import requests\n\x0c\nrequests.get('u')\n", b"import requests\n\x0c\nrequests.get('u', timeout=10)\n"),
    ],
    ids=["cr", "crlf", "mixed", "form-feed"],
)
def test_fixes_land_in_place_and_keep_the_file_line_breaks(proj, capsys, before, after):
    write(proj, {"a.py": before})
    fix(capsys)
    assert (proj / "a.py").read_bytes() == after


def test_unused_suppression_in_a_cr_only_file_is_never_removed_elsewhere(proj, capsys):
    before = b"x = 1\ry = 2  # pitfall: ignore[TMO101]\rz = 3\r"
    write(proj, {"a.py": before})
    run(capsys, "check", "--fix")
    after = (proj / "a.py").read_bytes()
    assert after in (before, b"x = 1\ry = 2\rz = 3\r")
    assert after.endswith(b"z = 3\r") and b"x = 1\ry = 2" in after


def test_quick_fix_of_an_unused_suppression_after_a_cr_never_deletes_code():
    """The directive scan numbers lines at "\\n" only; the editor at "\\r" too: the removal is
    offered only where the directive really is."""
    from pygls.workspace import PositionCodec

    from linter.core.config import from_dict
    from linter.core.engine import build_ruleset, lint_text
    from linter.lsp import _LINE, to_entries

    text = "a = 1\rbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb = 2\nc = 3  # pitfall: ignore[TMO101]\n"
    ruleset = build_ruleset(from_dict({}, root=Path("."), config_path=None))
    findings = lint_text("t.py", text, ruleset).findings
    assert [f.rule_id for f in findings] == ["LNT003"]
    for entry in to_entries(findings, text, PositionCodec()):
        for title, _, lsp_edits, _target in entry.actions:
            lines = _LINE.findall(text)
            (edit,) = lsp_edits
            s, e = edit.range.start, edit.range.end
            start = sum(len(x) for x in lines[: s.line]) + s.character
            end = sum(len(x) for x in lines[: e.line]) + e.character
            fixed = text[:start] + edit.new_text + text[end:]
            assert "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb = 2" in fixed, title
            assert compiles(fixed.encode())


def test_removal_of_a_last_line_directive_without_a_line_break():
    from linter.core.config import from_dict
    from linter.core.engine import build_ruleset, lint_text

    ruleset = build_ruleset(from_dict({}, root=Path("."), config_path=None))
    for text, want in [("x = 1\n# pitfall: ignore[TMO101]", "x = 1\n"), ("x = 1\r\n# pitfall: ignore[TMO101]\r\ny = 2\r\n", "x = 1\r\ny = 2\r\n")]:
        (f,) = lint_text("t.py", text, ruleset).findings
        assert f.fix is not None
        assert edits.apply_fixes(text, [f.fix], python=True) == want


def test_diff_is_split_at_newlines_only_and_marks_a_missing_last_one():
    diff = fixes.unified_diff("a.py", "x = 1\x0cy = 2\rz = f()", "x = 1\x0cy = 2\rz = f(1)")
    assert re.findall(r"[^\n]*\n", diff)[-4:] == [
        "-x = 1\x0cy = 2\rz = f()\n", "\\ No newline at end of file\n", "+x = 1\x0cy = 2\rz = f(1)\n", "\\ No newline at end of file\n"
    ]


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")
def test_diff_of_cr_and_bom_files_applies_with_patch(proj, capsys, tmp_path_factory):
    files = {
        "a.py": b"import requests\rrequests.get('u')\r",
        "b.py": BOM + b"import requests; requests.get('u')  # pitfall: ignore[TLS101]\n",
        "c.py": b"import requests\r\nx = 1\rrequests.get('u')",
    }
    write(proj, files)
    _, out, _ = run(capsys, "check", "--diff", "--unsafe-fixes")
    copy = tmp_path_factory.mktemp("copy")
    write(copy, files)
    subprocess.run(["patch", "-s", "-p1"], input=out.encode(), cwd=copy, check=True)
    fix(capsys)
    for name in files:
        assert (copy / name).read_bytes() == (proj / name).read_bytes()


# --------------------------------------------------------------------------- 3. changed files


def _racing(monkeypatch, change):
    """engine.run as a run racing this one sees it: ``change`` happens once linting is done."""
    import linter.core.engine

    real = linter.core.engine.run

    def run_then_change(*args, **kwargs):
        results = real(*args, **kwargs)
        change()
        return results

    monkeypatch.setattr(linter.core.engine, "run", run_then_change)


def test_a_file_another_run_fixed_meanwhile_is_not_fixed_twice(proj, capsys, monkeypatch):
    write(proj, {"a.py": BAD})
    _racing(monkeypatch, lambda: (proj / "a.py").write_bytes(FIXED))
    code, out, err = fix(capsys)
    assert (proj / "a.py").read_bytes() == FIXED  # not `timeout=10, timeout=10`
    assert "warning: a.py: not fixed: it changed since it was linted" in err


def test_a_file_edited_during_the_run_gets_no_stale_edit(proj, capsys, monkeypatch):
    write(proj, {"a.py": BAD})
    edited = b"# a comment the user just typed\n" + BAD
    _racing(monkeypatch, lambda: (proj / "a.py").write_bytes(edited))
    got = notes(capsys)
    assert (proj / "a.py").read_bytes() == edited
    assert {"level": "warning", "message": "a.py: not fixed: it changed since it was linted", "filename": "a.py", "code": None} in got


def test_write_fixed_compares_the_bytes_before_writing(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(FIXED)
    with pytest.raises(fixes.NotWritten, match="changed since it was linted"):
        fixes.write_fixed(path, BAD, FIXED.replace(b"10", b"10, timeout=10"))
    assert path.read_bytes() == FIXED
    fixes.write_fixed(path, FIXED, BAD)
    assert path.read_bytes() == BAD


def test_write_goes_through_a_temporary_file_in_the_same_folder(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(BAD)
    seen = []
    real = os.replace

    def spy(src, dst, *a, **k):
        seen.append((os.path.dirname(src), str(dst), Path(src).read_bytes()))
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", spy)
    fixes.write_fixed(path, BAD, FIXED)
    assert seen == [(str(tmp_path), str(path), FIXED)]
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_two_concurrent_fix_runs_apply_each_edit_once(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i:02}.py").write_bytes(BAD + b"requests.post('v', data=1)\n" * 3)
    cmd = [sys.executable, "-m", "linter", "check", "--fix", "--unsafe-fixes", "--jobs", "1", "--select", "TMO101"]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    errs = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert all("Traceback" not in e for e in errs), errs
    for path in tmp_path.glob("*.py"):
        data = path.read_bytes()
        assert compiles(data), (path.name, data)
        assert data.count(b"timeout=10") == 4, (path.name, data)


# --------------------------------------------------------------------------- 4. arguments there


def test_add_kwarg_sets_an_argument_that_is_there_as_none(proj, capsys):
    write(proj, {"a.py": b"import backoff\n@backoff.on_exception(backoff.expo, OSError, max_tries=None)\ndef f():\n    pass\n"})
    fix(capsys)
    data = (proj / "a.py").read_bytes()
    assert data == b"import backoff\n@backoff.on_exception(backoff.expo, OSError, max_tries=5)\ndef f():\n    pass\n"


def test_add_kwarg_is_not_offered_where_it_would_be_a_syntax_error(proj, capsys):
    write(proj, {"a.py": b"import requests\nrequests.get(x for x in y)\n"})
    code, out, err = fix(capsys)
    assert (proj / "a.py").read_bytes() == b"import requests\nrequests.get(x for x in y)\n"
    assert code == 1 and "Traceback" not in err


def test_a_fix_that_would_not_compile_is_refused_with_a_notice(proj, capsys):
    rule = (
        "id: QAT101\nname: break-it\ntarget: python\nseverity: warning\narea: timeout\n"
        "summary: Checks for sleeps.\nrationale: Slow.\nmessage: sleep\n"
        "fix:\n  replace: 'time.sleep('\n  title: Break it\n  applicability: safe\n"
        "match:\n  - call: [time.sleep]\n"
        "examples:\n  valid: ['import time\\n']\n  invalid: ['import time\\ntime.sleep(1)  # error\\n']\n"
    )
    before = b"import time\ntime.sleep(1)\nx = 1  # pitfall: ignore[TMO101]\n"
    write(proj, {
        "packs/qa/pack.yaml": "name: qa\nprefix: QAT\nversion: 0.1.0\ndescription: QA checks.\n",
        "packs/qa/QAT101-break-it.yaml": rule,
        ".pitfall.toml": 'packs = ["packs"]\n',
        "a.py": before,
    })
    got = notes(capsys, "a.py")
    assert (proj / "a.py").read_bytes() == before  # the good LNT003 fix is refused with the bad one
    assert any(n["filename"] == "a.py" and n["level"] == "warning" and "not fixed: the fixed code would not compile" in n["message"] for n in got), got
    code, out, err = run(capsys, "check", "--diff", "a.py")
    assert out == "" and "a.py: not fixed: the fixed code would not compile" in err


def test_the_same_edit_from_two_fixes_is_applied_once():
    text = "f(a)\n"
    edit = Edit(Region(1, 4, 1, 4), ", timeout=10")
    assert edits.apply_fixes(text, [Fix("t", "safe", (edit,)), Fix("u", "safe", (edit,))]) == "f(a, timeout=10)\n"


# --------------------------------------------------------------------------- 5. what the file is


def test_permission_bits_are_kept(proj, capsys):
    write(proj, {"a.py": BAD})
    os.chmod(proj / "a.py", 0o754)
    fix(capsys)
    assert (proj / "a.py").read_bytes() == FIXED
    assert stat.S_IMODE(os.stat(proj / "a.py").st_mode) == 0o754


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_owner_and_group_are_kept(proj, capsys):
    write(proj, {"a.py": BAD})
    os.chown(proj / "a.py", 4321, 4322)
    fix(capsys)
    st = os.stat(proj / "a.py")
    assert (proj / "a.py").read_bytes() == FIXED and (st.st_uid, st.st_gid) == (4321, 4322)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX owners")
def test_a_file_this_user_does_not_own_is_rewritten_in_place(tmp_path, monkeypatch):
    path = tmp_path / "a.py"
    path.write_bytes(BAD)
    before = os.stat(path)
    monkeypatch.setattr(os, "geteuid", lambda: before.st_uid + 1)  # someone else's file, writable to us
    fixes.write_fixed(path, BAD, FIXED)
    after = os.stat(path)
    assert path.read_bytes() == FIXED and (after.st_ino, after.st_uid, after.st_gid) == (before.st_ino, before.st_uid, before.st_gid)


def test_hard_links_see_the_fix(proj, capsys):
    write(proj, {"a.py": BAD})
    os.link(proj / "a.py", proj / "b.txt")
    inode = os.stat(proj / "a.py").st_ino
    fix(capsys, "a.py")
    assert (proj / "a.py").read_bytes() == FIXED and (proj / "b.txt").read_bytes() == FIXED
    assert os.stat(proj / "a.py").st_ino == inode and os.stat(proj / "a.py").st_nlink == 2


def test_a_symlink_named_on_the_command_line_stays_a_symlink(proj, capsys):
    write(proj, {"src/a.py": BAD})
    os.symlink("src/a.py", proj / "link.py")
    fix(capsys, "link.py")
    assert os.path.islink(proj / "link.py") and os.readlink(proj / "link.py") == "src/a.py"
    assert (proj / "src/a.py").read_bytes() == FIXED


def test_a_symlink_to_a_file_outside_the_tree_is_not_written_through(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "outside"
    tree = tmp_path / "tree"
    write(outside, {"victim.py": BAD})
    tree.mkdir()
    os.symlink(outside / "victim.py", tree / "link.py")
    monkeypatch.chdir(tree)
    code, out, err = fix(capsys, "link.py")
    assert (outside / "victim.py").read_bytes() == BAD
    assert os.path.islink(tree / "link.py")
    assert "not fixed: it is reached through a symbolic link to outside the scanned tree" in err
    # a folder named through a link is no way around it
    os.symlink(outside, tree / "dir")
    code, out, err = fix(capsys, "dir")
    assert (outside / "victim.py").read_bytes() == BAD and "not fixed" in err


def test_a_file_outside_the_tree_named_without_a_link_is_fixed(tmp_path, monkeypatch, capsys):
    write(tmp_path / "other", {"a.py": BAD})
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    fix(capsys, str(tmp_path / "other"))
    assert (tmp_path / "other/a.py").read_bytes() == FIXED


def test_fix_roots(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "link")
    roots = fixes.fix_roots(["real", "link", "link/x.py"], tmp_path)
    assert roots == (os.path.realpath(tmp_path), os.path.realpath(tmp_path / "real"))


def test_a_read_only_file_is_not_rewritten(proj, capsys):
    write(proj, {"a.py": BAD})
    os.chmod(proj / "a.py", 0o444)
    code, out, err = fix(capsys)
    assert (proj / "a.py").read_bytes() == BAD
    assert stat.S_IMODE(os.stat(proj / "a.py").st_mode) == 0o444
    assert "warning: a.py: not fixed: it is read-only" in err


def test_a_pep263_file_is_left_alone_with_a_notice_and_an_ascii_one_is_fixed(proj, capsys):
    latin = "# -*- coding: latin-1 -*-\nimport requests\nrequests.get('caf\xe9')\n".encode("latin-1")
    ascii_ = b"# -*- coding: latin-1 -*-\n" + BAD
    write(proj, {"a.py": latin, "b.py": ascii_})
    code, out, err = fix(capsys)
    assert (proj / "a.py").read_bytes() == latin
    assert (proj / "b.py").read_bytes() == b"# -*- coding: latin-1 -*-\n" + FIXED
    assert "a.py: not fixed: it is encoded in iso-8859-1" in err


# --------------------------------------------------------------------------- 6. string literals


def test_an_edit_inside_a_string_literal_is_dropped():
    text = 'x = "abc"\ny = """a\r\nb"""\nz = f"{x}"\n'
    inside = [Region(1, 7, 1, 7), Region(2, 6, 2, 6), Region(3, 1, 3, 2), Region(4, 8, 4, 8), Region(4, 5, 4, 7)]
    for region in inside:
        got = edits.edit_text(text, [Fix("t", "safe", (Edit(region, "!"),))], python=True)
        assert got.text == text and got.refused and "inside a string literal" in got.refused[0][1], region
    whole = edits.edit_text(text, [Fix("t", "safe", (Edit(Region(1, 5, 1, 10), "'x'"),))], python=True)
    assert whole.text.startswith("x = 'x'\n") and not whole.refused


def test_an_edit_outside_the_file_is_dropped_not_appended():
    text = "a = f()\rb = 2\r"
    for region in [Region(9, 1, 9, 1), Region(1, 30, 1, 30), Region(2, 1, 1, 1)]:
        got = edits.edit_text(text, [Fix("t", "safe", (Edit(region, "x"),))], python=True)
        assert got.text == text and got.refused, region


def test_fixed_files_still_parse_whatever_the_fix_says(proj, capsys):
    sources = {
        "a.py": b"import requests\nrequests.get(\n    'u',\n)\nrequests.get('u',)\nrequests.get(*a)\nrequests.get((x for x in y))\n",
        "b.py": b"import requests\nrequests.get(u, **kw)\nrequests.get(u, timeout=None)\n",
    }
    write(proj, sources)
    fix(capsys)
    for name in sources:
        data = (proj / name).read_bytes()
        assert compiles(data), data
        for call in ast.walk(ast.parse(data)):
            if isinstance(call, ast.Call):
                names = [k.arg for k in call.keywords if k.arg]
                assert len(names) == len(set(names)), data
    assert re.search(rb"requests\.get\(u, \*\*kw\)", (proj / "b.py").read_bytes())
