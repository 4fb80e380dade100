"""Name resolution of the Python analyzer: real imports, not string prefixes."""

from __future__ import annotations

import textwrap

import pytest

from linter.config import from_dict
from linter.engine import build_ruleset, lint_unit


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


def test_file_without_trigger_names_is_not_parsed_by_libcst(ruleset, monkeypatch):
    import libcst

    calls = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: calls.append(1) or real(*a, **k))
    lint_unit("python", "m.py", b"import os\nprint(os.getcwd())\n", ruleset)
    assert calls == []
    lint_unit("python", "m.py", b"import requests\nrequests.get(u)\n", ruleset)
    assert calls == [1]
