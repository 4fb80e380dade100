"""Name resolution of the Python analyzer: real imports, not string prefixes."""

from __future__ import annotations

import textwrap

import pytest

import linter.core
from linter.core.config import from_dict
from linter.core.engine import build_ruleset, lint_unit


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory):
    root = tmp_path_factory.mktemp("r")
    return build_ruleset(from_dict({"select": ["TMO101", "TLS103", "TLS105", "PRT101"]}, root=root, config_path=None), project_root=root)


def lines(ruleset, code, rule="TMO101"):
    result = lint_unit("python", "m.py", textwrap.dedent(code).encode(), ruleset)
    return sorted(f.region.line for f in result.findings if f.rule_id == rule)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("from requests import get as fetch\nfetch(u)\n", [2]),
        ("import requests.api as c\nc.get(u)\n", [2]),
        ("import requests.adapters\nrequests.get(u)\n", [2]),
        ("def get(u):\n    pass\nget(u)\n", []),
        ("from requests import get\ndef f(get):\n    get(u)\n", []),  # a parameter shadows the import
        ("if True:\n    import requests\nrequests.get(u)\n", [3]),
        ("def f():\n    import requests as r\n    r.get(u)\n", [3]),
        ("def f():\n    import requests as r\nr.get(u)\n", []),  # imported in another scope
        ("from requests import *\nget(u)\n", [2]),
        ("import requests\ns = requests.session()\ns.get(u)\n", [3]),
        ("import requests\nclass C:\n    def __init__(self):\n        self.s = requests.Session()\n    def go(self):\n        return self.s.get(u)\n", [6]),
        ("import requests\nSESSION = requests.Session()\ndef go():\n    return SESSION.get(u)\n", [4]),
        ("import requests\nrequests.get(u, **kw)\n", []),
        ("import requests\ngetattr(requests, 'get')(u)\n", []),
        ("import functools, requests\nfunctools.partial(requests.get, timeout=3)(u)\n", []),
        ("import requests\nrequests.get(u, timeout=None)\n", []),  # TMO102's business
    ],
)
def test_resolution(ruleset, code, expected):
    assert lines(ruleset, code) == expected


def test_importlib_and_dunder_import(ruleset):
    code = "import importlib\nssl = importlib.import_module('ssl')\nssl._create_unverified_context()\n"
    assert lines(ruleset, code, "TLS103") == [3]
    code = "s = __import__('ssl')\ns._create_unverified_context()\n"
    assert lines(ruleset, code, "TLS103") == [2]


def test_from_import_of_constant(ruleset):
    code = "from ssl import CERT_NONE as NONE, create_default_context\nctx = create_default_context()\nctx.verify_mode = NONE\n"
    assert lines(ruleset, code, "TLS105") == [3]


def test_positions_are_exact(ruleset):
    result = lint_unit("python", "m.py", b"import requests\nx = 1; requests.get(\n    u,\n)\n", ruleset)
    (f,) = [f for f in result.findings if f.rule_id == "TMO101"]
    assert (f.region.line, f.region.column, f.region.end_line, f.region.end_column) == (2, 8, 4, 2)


@pytest.mark.skipif(not linter.core.FAST_PATHS, reason="the pre-filter is a fast path: PITFALL_NO_FAST_PATHS turns it off")
def test_file_without_trigger_names_is_not_parsed_by_libcst(ruleset, monkeypatch):
    import libcst

    calls = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: calls.append(1) or real(*a, **k))
    lint_unit("python", "m.py", b"import os\nprint(os.getcwd())\n", ruleset)
    assert calls == []
    lint_unit("python", "m.py", b"import requests\nrequests.get(u)\n", ruleset)
    assert calls == [1]


@pytest.mark.skipif(not linter.core.FAST_PATHS, reason="the pre-filter is a fast path: PITFALL_NO_FAST_PATHS turns it off")
def test_a_file_is_parsed_only_when_it_names_the_last_name_of_a_pattern(tmp_path, monkeypatch):
    # TMO113 matches `sqlalchemy.engine.create_engine(...)`: a file that imports sqlalchemy and says
    # `engine` but never `create_engine` cannot match it and is not parsed; every spelling that
    # can match (an alias, a module alias, a call on a module attribute) names it and is found
    import libcst

    rules = build_ruleset(from_dict({"select": ["TMO113"]}, root=tmp_path, config_path=None), project_root=tmp_path)
    calls = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: calls.append(1) or real(*a, **k))
    quiet = b"import sqlalchemy\nfrom sqlalchemy import engine\n\ndef dispose(engine):\n    engine.dispose()\n"
    assert lint_unit("python", "m.py", quiet, rules).findings == () and calls == []
    url = '"postgresql://app@db/app"'
    for code in (
        f"from sqlalchemy.engine import create_engine as make\ne = make({url})\n",
        f"import sqlalchemy.engine as sae\ne = sae.create_engine({url})\n",
        f"from sqlalchemy import engine\ne = engine.create_engine({url})\n",
        f"import sqlalchemy\nmake = sqlalchemy.create_engine\ne = make({url})\n",
    ):
        found = [f.region.line for f in lint_unit("python", "m.py", code.encode(), rules).findings if f.rule_id == "TMO113"]
        assert found == [code.count("\n")], code


# --------------------------------------------------------------------------- the text pre-filter


@pytest.mark.parametrize(
    ("pattern", "required"),
    [
        (r"[\"']0\.0\.0\.0[\"']", [{b"0.0.0.0"}]),
        (r"\A(?=(?s:.*?)\.connect(?:_ex)?\()(?=(?s:.*?)\bsocket\b)", [{b".connect"}, {b"socket"}]),
        (r"_(?:task(?<=create_task)|future(?<=ensure_future))[ \t]*\(", [{b"create_task", b"ensure_future"}]),
        (r"(?:True|1):", []),  # one branch requires nothing longer than a character
        (r"(?i)grpc", []),  # case-insensitive: no substring is certain
        (r"a(?:bc)*d", []),
        (r"x(?:abc)+y", [{b"abc"}]),
    ],
)
def test_prefilter_requirements(pattern, required):
    from linter.python.analyzer import _requirements

    assert [set(r) for r in _requirements(pattern)] == required


def test_prefilter_agrees_with_one_alternation_of_its_patterns():
    # the filter tests each pattern alone behind the substrings it requires, and remembers its
    # answer about the last text: it must say yes exactly where one regular expression of all
    # the words and patterns does
    import re
    from pathlib import Path

    from linter.core.packs import load_packs
    from linter.python.analyzer import PythonRuleSet, _Filter

    rules = [r for p in load_packs() for r in p.rules if r.target == "python"]
    ruleset = PythonRuleSet(rules)
    texts = [ex.code.encode() for r in rules for ex in (*r.valid, *r.invalid)]
    texts += [p.read_bytes() for p in sorted(Path(__file__).resolve().parent.parent.joinpath("linter").rglob("*.py"))]
    filters = [ruleset._prefilter, ruleset._chunk_prefilter, *(g for g in ruleset._gates if g is not None)]
    combined = {}
    for flt in filters:
        assert isinstance(flt, _Filter)
        alternatives = [re.escape(w.decode()) for w in flt._words] + [check._rx.pattern.decode() for check in flt._checks]
        combined[id(flt)] = re.compile("|".join(f"(?:{a})" for a in alternatives).encode(), re.M)
    for text in texts:  # each text asked of every filter in turn: the filters share checks and their answers
        for flt in filters:
            assert flt.search(text) == (combined[id(flt)].search(text) is not None)


def test_positions_inside_classes_match_a_whole_module_codegen(monkeypatch, tmp_path):
    # positions are generated for the methods holding findings only, each started at its own
    # line and indentation: they must equal those of generating the whole module
    import linter.python.analyzer as analyzer

    filler = "".join(f"    def helper_{i}(self):\n        return {i}\n\n" for i in range(120))
    code = (
        "import socket, ssl, requests\n\n\n"
        "class Client:  # a comment\n"
        "    x = 1; y = 2\n\n"
        "    # leading comment\n"
        "    @property\n"
        "    def session(self):\n"
        "        return requests.get('https://a', verify=False)\n\n"
        + filler
        + "    class Inner:\n"
        "        def go(self):\n"
        "            s = socket.socket()\n"
        "            s.bind(('0.0.0.0', 80))\n\n"
        "    async def fetch(self):\n"
        "        return requests.post('https://b',\n"
        "                             verify=False)\n"
    )
    ruleset = build_ruleset(from_dict({"select": ["TMO", "TLS", "PRT"]}, root=tmp_path, config_path=None), project_root=tmp_path)
    fast = lint_unit("python", "client.py", code.encode(), ruleset).findings
    whole = analyzer._positions
    monkeypatch.setattr(analyzer, "_positions", lambda module, *args, **kwargs: whole(module))
    slow = lint_unit("python", "client.py", code.encode(), ruleset).findings
    assert len(fast) >= 4
    assert [(f.rule_id, f.region) for f in fast] == [(f.rule_id, f.region) for f in slow]


NEWER_SYNTAX = {
    "pep695-alias": "type Url = str\n",
    "pep695-function": "def fetch[T](url: T) -> T:\n    return url\n",
    "pep695-class": "class Box[T]:\n    pass\n",
    "pep701-fstring": 'names = ["a"]\nlabel = f"{", ".join(names)}"\n',
    "pep758-except": "try:\n    pass\nexcept ValueError, TypeError:\n    pass\n",
    "pep750-tstring": 'name = "x"\ngreeting = t"hello {name}"\n',
}


@pytest.mark.parametrize("syntax", sorted(NEWER_SYNTAX))
def test_code_for_newer_pythons_is_analysed_whatever_interpreter_runs(ruleset, syntax):
    code = "import requests\n" + NEWER_SYNTAX[syntax] + "requests.get(URL)\n"
    result = lint_unit("python", "app.py", code.encode(), ruleset)
    assert [(f.rule_id, f.region.line) for f in result.findings] == [("TMO101", code.count("\n"))]


def test_real_syntax_errors_and_nesting_limits_stay_parse_errors(ruleset):
    for code in ("import requests\ndef (:\n", "import requests\nx = " + "(" * 300 + "1" + ")" * 300 + "\n"):
        result = lint_unit("python", "app.py", code.encode(), ruleset)
        assert [f.rule_id for f in result.findings] == ["LNT001"]


def test_a_file_that_starts_with_a_bom_is_analysed(ruleset):
    code = "\ufeffimport requests\nrequests.get(URL)\n"
    result = lint_unit("python", "app.py", code.encode("utf-8"), ruleset)
    assert [(f.rule_id, f.region.line, f.region.column) for f in result.findings] == [("TMO101", 2, 1)]


def test_the_walk_sees_children_in_source_order_as_libcst_does():
    # the analyzer's walk and the module scans read children from fields (linter.python.tree);
    # what a visitor sees first can decide what it reports, so the order must be libcst's
    import sysconfig
    from pathlib import Path

    import libcst as cst

    from linter.python import tree

    every_construct = (
        "@deco\nasync def f[T](a, /, b: int = 1, *args, c, **kw) -> T:\n"
        "    async for x in y: pass\n    async with a as b, c: pass\n"
        "    v = [i async for i in z if i]\n    w = x[lo:hi:step]\n    u = a if b else c\n"
        "    g(key=value, *rest)\n    try: pass\n    except* E as e: pass\n"
        "    match p:\n        case [q] if q: pass\n\n"
        "@deco\nclass K[T](Base, metaclass=M): pass\nfrom ..pkg import (a, b)\nif t: raise X\n"
    )
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    sources = [every_construct] + [(stdlib / n).read_text(encoding="utf-8") for n in ("asyncio/base_events.py", "argparse.py", "inspect.py")]
    checked = 0
    for source in sources:
        stack: list[cst.CSTNode] = [cst.parse_module(source)]
        while stack:
            node = stack.pop()
            ours = tree.children(node)
            theirs = [child for child in node.children if any(child is o for o in ours)]
            assert [type(c).__name__ for c in ours] == [type(c).__name__ for c in theirs], type(node).__name__
            assert all(a is b for a, b in zip(ours, theirs))
            checked += 1
            stack.extend(node.children)
    assert checked > 10_000


SNIPPET = """\
import os.path
import xml.etree.ElementTree as ET
from urllib import request as urlreq
from . import sibling
from .pkg.mod import helper as h
posix = None
try:
    import posix
except ImportError:
    pass
try:
    import simplejson as json
except ImportError:
    import json

def f(path):
    os.path.join(path, "x")
    ET.fromstring(path)
    urlreq.urlopen(path)
    sibling.run()
    h()
    posix.getpid()
    json.dumps(path)
    import ssl as s
    s.create_default_context()
"""


@pytest.mark.parametrize("source", ["snippet", "shutil.py", "urllib/request.py", "subprocess.py", "logging/handlers.py"])
def test_names_resolve_as_libcsts_qualified_name_provider_resolves_imports(source):
    """Where libcst's QualifiedNameProvider names a callee through an import, the analyzer's own
    resolver names it the same (it also types what a call returns: ``x().y`` for libcst's ``x.y``,
    and a name bound again later keeps its first import)."""
    import sysconfig
    from pathlib import Path

    import libcst as cst
    from libcst.metadata import MetadataWrapper, QualifiedNameProvider, QualifiedNameSource

    from linter.python.visitor import Resolver

    text = SNIPPET if source == "snippet" else (Path(sysconfig.get_paths()["stdlib"]) / source).read_text(encoding="utf-8")
    wrapper = MetadataWrapper(cst.parse_module(text), unsafe_skip_copy=True)
    resolver = Resolver(wrapper.module)
    same: list[str] = []
    different: list[tuple[str, set[str]]] = []

    class Compare(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (QualifiedNameProvider,)

        def visit_FunctionDef(self, node):
            resolver.stack.append(resolver.scope_for(node, resolver.scope))

        def leave_FunctionDef(self, node):
            resolver.stack.pop()

        def visit_ClassDef(self, node):
            resolver.stack.append(resolver.scope_for(node, resolver.scope))

        def leave_ClassDef(self, node):
            resolver.stack.pop()

        def visit_Call(self, node):
            if not isinstance(node.func, (cst.Name, cst.Attribute)):
                return
            theirs = {q.name for q in self.get_metadata(QualifiedNameProvider, node.func, set()) if q.source == QualifiedNameSource.IMPORT}
            ours = resolver.resolve(node.func)
            if theirs and ours is not None:
                (same.append(ours) if ours.replace("()", "") in theirs else different.append((ours, theirs)))

    wrapper.visit(Compare())
    assert different == []
    if source == "snippet":
        assert sorted(same) == sorted([
            "os.path.join", "xml.etree.ElementTree.fromstring", "urllib.request.urlopen", ".sibling.run",
            ".pkg.mod.helper", "posix.getpid", "simplejson.dumps", "ssl.create_default_context",
        ])
    else:
        assert len(same) > 50


def test_the_walk_calls_the_methods_libcst_would_batch():
    # the walk reads each visitor class's visit_/leave_ methods from the classes themselves: the
    # same names as libcst's get_visitors (its no-op defaults left out), for every visitor pitfall runs
    from linter.core.packs import load_packs
    from linter.python.analyzer import PythonRuleSet, _Declarative, _ScopeTracker
    from linter.python.tree import visitor_methods

    rules = [r for p in load_packs() for r in p.rules if r.target == "python"]
    classes = {cls for _, cls in PythonRuleSet(rules).visitors} | {_Declarative, _ScopeTracker}
    assert len(classes) > 10
    for cls in classes:
        expected = tuple(sorted(cls.__new__(cls).get_visitors()))
        assert visitor_methods(cls) == expected, cls
        assert expected  # each one visits something
