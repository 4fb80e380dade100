"""The language server's incremental parse (linter.python.incremental) builds, after any edit, the
module libcst's full parse builds, and the findings of a document linted version after version
are those of a fresh lint; most edits re-parse only what they touched."""

from __future__ import annotations

import ast
import random
import sysconfig
from pathlib import Path

import libcst as cst
import pytest

import linter.core
from linter.core.config import from_dict
from linter.core.engine import build_ruleset, lint_text
from linter.core.packs import load_packs
from linter.core.testing import DEFAULT_PATH, iter_example_cases
from linter.python.incremental import ParseMemo

STDLIB = Path(sysconfig.get_paths()["stdlib"])
MODULES = ("textwrap.py", "json/decoder.py", "contextlib.py", "shlex.py", "asyncio/locks.py", "queue.py")

# lines an edit inserts: comments at every depth (a block above owns those indented as deep as
# its body), blank and whitespace-only lines, new statements and blocks, other indentation
INSERTS = (
    "# note\n",
    "    # note\n",
    "  # shallow\n",
    "        # deep\n",
    "\n",
    "    \n",
    "x = 1\n",
    "    y = 2\n",
    "def added():\n    return 1\n",
    "class Added:\n  pass\n",
    "\tpass\n",
    "@decorator\n",
    "if flag:\n    pass\nelse:\n    pass\n",
)


def _edit(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    k = rng.randrange(len(lines) + 1)
    kind = rng.randrange(5)
    if kind == 0:
        lines.insert(k, rng.choice(INSERTS))
    elif kind == 1 and k < len(lines):
        del lines[k]
    elif kind == 2 and k < len(lines):
        lines[k] = lines[k].rstrip("\r\n") + "  # edited\n"
    elif kind == 3 and k < len(lines):
        lines[k] = lines[k].replace("self", "this", 1)
    elif k < len(lines):  # one indentation level less or more
        line = lines[k]
        lines[k] = line[4:] if line.startswith("    ") else "    " + line
    return "".join(lines)


def _full(text: str) -> cst.Module | None:
    """libcst's full parse of a valid text it prints back unchanged (it drops a few trailing
    comment lines after an indented one: those texts compare nothing)."""
    try:
        ast.parse(text)
        module = cst.parse_module(text)
    except (SyntaxError, ValueError, cst.ParserSyntaxError):
        return None
    return module if module.code == text else None


@pytest.mark.parametrize("name", MODULES)
def test_edits_of_real_modules_parse_as_libcst_parses_them_in_full(name):
    rng = random.Random(name)
    text = (STDLIB / name).read_text(encoding="utf-8")
    memo = ParseMemo()
    memo.parse("m.py", text, cst.parse_module)
    compared = 0
    while compared < 30:
        new = _edit(rng, text)
        full = _full(new)
        if full is None:
            continue
        got = memo.parse("m.py", new, cst.parse_module)
        assert got.deep_equals(full), f"edit {compared} of {name}"
        assert got.code == new
        compared += 1
        text = new
    assert memo.reused >= 20, f"only {memo.reused} of 30 edits re-used the last parse"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # a comment indented as deep as the block above joins that block's footer
        ("def f():\n    x = 1\n\ny = 2\n\nz = 3\n", "def f():\n    x = 1\n\n    # now in f\ny = 2\n\nz = 3\n"),
        ("def f():\n    x = 1\n\ny = 2\n\nz = 3\n", "def f():\n    x = 1\n\n  # shallower: y's\ny = 2\n\nz = 3\n"),
        ("x = 1\n\ndef f():\n    pass\n\ny = 2\n", "x = 1\n\ndef f():\n    pass\n\ny = 2\n    # after y\n"),
        # the module's first block sets the indentation every other block is stored against
        ("x = 1\n\ndef f():\n    pass\n\ndef g():\n  pass\n", "x = 1\n\ndef f():\n  pass\n\ndef g():\n  pass\n"),
        ("x = 1\n\ndef f():\n    pass\n\ndef g():\n  pass\n", "x = 1\n\ndef f(): pass\n\ndef g():\n  pass\n"),
        ("x = 1\ny = 2\nz = 3\n", "x = 1\nif y:\n\tz = 2\nz = 3\n"),
        # tabs, CRLF, a coding line, the header and the footer
        ("if a:\n\tb = 1\n\nc = 2\n", "if a:\n\tb = 1\n\n\t# tab comment\nc = 2\n"),
        ("a = 1\r\nb = 2\r\nc = 3\r\n", "a = 1\r\nb = 22\r\nc = 3\r\n"),
        ("a = 1\r\nb = 2\r\nc = 3\r\n", "a = 1\nb = 2\r\nc = 3\r\n"),
        ("# -*- coding: latin-1 -*-\na = 1\nb = 2\n", "# -*- coding: latin-1 -*-\na = 1\nb = 3\n"),
        ("# head\n\na = 1\nb = 2\n", "# head\n\n# more head\na = 1\nb = 2\n"),
        ("a = 1\nb = 2\n\n# tail\n", "a = 1\nb = 2\n\n# tail\n# more\n"),
        ("a = 1\nb = 2\n", "a = 1\nb = 2\nc = 3\n"),
        ("a = 1\nb = 2\n", "a = 1\nb = 2"),
        ("a = 1\nb = 2\nc = 3\n", "a = 1\n# only a comment now\nc = 3\n"),
        ("a = 1\nb = 2\nc = 3\n", "a = 1\nc = 3\n"),
        ("a = 1; b = 2\nc = 3\n", "a = 1; b = 2; d = 4\nc = 3\n"),
        ("class K:\n    def f(self):\n        pass\n\nx = 1\n", "class K:\n    def f(self):\n        pass\n    # K's\nx = 1\n"),
    ],
)
def test_boundary_edits_parse_as_libcst_parses_them_in_full(old, new):
    memo = ParseMemo()
    memo.parse("m.py", old, cst.parse_module)
    full = _full(new)
    assert full is not None
    assert memo.parse("m.py", new, cst.parse_module).deep_equals(full)


def test_an_edit_of_one_function_reuses_the_other_statements():
    text = "import requests\n\n" + "".join(f"def f{i}():\n    return {i}\n\n\n" for i in range(50))
    memo = ParseMemo()
    first = memo.parse("m.py", text, cst.parse_module)
    second = memo.parse("m.py", text.replace("return 7\n", "return 7  # seven\n"), cst.parse_module)
    assert memo.reused == 1
    changed = [i for i, (a, b) in enumerate(zip(first.body, second.body)) if a is not b]
    assert changed == [8]  # the import, then f0..f49: only f7 was parsed again


def test_documents_are_remembered_apart_and_the_oldest_forgotten():
    memo = ParseMemo(size=2)
    for key in ("a.py", "b.py", "c.py"):
        memo.parse(key, "x = 1\ny = 2\n", cst.parse_module)
    memo.parse("c.py", "x = 1\ny = 3\n", cst.parse_module)
    memo.parse("a.py", "x = 1\ny = 3\n", cst.parse_module)  # forgotten: parsed in full
    assert memo.reused == 1


def test_the_oldest_documents_are_forgotten_past_the_text_budget():
    memo = ParseMemo(characters=30)
    memo.parse("a.py", "x = 1\ny = 2\n", cst.parse_module)  # 12 characters
    memo.parse("b.py", "x = 1\ny = 2\nz = 3\n", cst.parse_module)  # 18: 30 together, kept
    memo.parse("c.py", "x = 1\ny = 2\n", cst.parse_module)  # 42: a.py is forgotten
    memo.parse("b.py", "x = 1\ny = 2\nz = 4\n", cst.parse_module)
    memo.parse("a.py", "x = 1\ny = 3\n", cst.parse_module)
    assert memo.reused == 1  # b.py only
    big = ParseMemo(characters=10)
    big.parse("big.py", "x = 1\ny = 2\nz = 3\n", cst.parse_module)  # over the budget alone: kept
    big.parse("big.py", "x = 1\ny = 2\nz = 4\n", cst.parse_module)
    assert big.reused == 1


@pytest.fixture(scope="module")
def everything(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    return build_ruleset(from_dict({"select": ["ALL"], "preview": True}, root=root, config_path=None), project_root=root)


def _findings(result):
    return [(f.rule_id, f.region, f.message, f.fix) for f in result.findings]


def test_a_document_linted_version_after_version_has_the_findings_of_a_fresh_lint(everything):
    """Every Python rule example, opened and then edited a few times in a row (as an editor
    sends it): the findings with the memo are those of a lint without it."""
    rng = random.Random(3)
    memo = ParseMemo()
    examples = [c for c in iter_example_cases(load_packs()) if c.rule.target == "python" and not c.example.files]
    assert examples
    compared = 0
    for case in examples:
        path = str(Path("/project") / (case.example.path or DEFAULT_PATH["python"]))
        text = case.example.code
        lint_text(path, text, everything, memo=memo)
        for _ in range(3):
            new = _edit(rng, text)
            if _full(new) is None:
                continue
            assert _findings(lint_text(path, new, everything, memo=memo)) == _findings(lint_text(path, new, everything)), case.rule.id
            compared += 1
            text = new
    assert compared > len(examples)
    assert memo.reused > compared // 2


def test_without_fast_paths_every_version_is_parsed_in_full(everything, monkeypatch):
    monkeypatch.setattr(linter.core, "FAST_PATHS", False)
    memo = ParseMemo()
    text = "import requests\n\n\ndef f():\n    requests.get(URL)\n\n\ndef g():\n    pass\n"
    lint_text("/project/m.py", text, everything, memo=memo)
    found = lint_text("/project/m.py", text.replace("pass", "return 1"), everything, memo=memo)
    assert [f.rule_id for f in found.findings] == ["TMO101"]
    assert memo.reused == 0
