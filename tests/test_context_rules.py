"""Context and deadline propagation (CTX1xx): the signature index, cross-module resolution,
bad input, and the command line with and without the process pool."""

from __future__ import annotations

import json
import pickle
import sys
import textwrap

import pytest
from helpers import run, write

import linter.core.engine as engine
import linter.core
import linter.python
from linter.core.config import from_dict
from linter.core.engine import build_ruleset, lint_text, lint_unit
from linter.python.index import (
    ProjectIndex,
    Signature,
    _reexports_text,
    absolute,
    build_index,
    module_name,
)

CTX = ["CTX101", "CTX102", "CTX103", "CTX104", "CTX105"]


def src(code: str) -> bytes:
    return textwrap.dedent(code).encode()


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ctx")
    return build_ruleset(from_dict({"select": CTX}, root=root, config_path=None), project_root=root)


def findings(ruleset, files: dict[str, str], path: str, *, index: bool = True) -> list[tuple[str, int]]:
    """(rule, line) of one file of a project given as {path: code}, linted with the project's index."""
    sources = [(p, src(c)) for p, c in files.items()]
    ruleset.index = build_index(sources) if index else None
    try:
        result = lint_unit("python", path, src(files[path]), ruleset)
    finally:
        ruleset.index = None
    assert not [f for f in result.findings if f.rule_id.startswith("LNT")], result.findings
    return sorted((f.rule_id, f.region.line) for f in result.findings)


# --------------------------------------------------------------------------- the index


def test_module_names_follow_packages():
    packages = {"app", "app/sub", "src/lib"}
    assert module_name("app/mod.py", packages) == "app.mod"
    assert module_name("app/sub/x.py", packages) == "app.sub.x"
    assert module_name("app/__init__.py", packages) == "app"
    assert module_name("app/sub/__init__.py", packages) == "app.sub"
    assert module_name("scripts/run.py", packages) == "run"  # a folder without __init__ is a path root
    assert module_name("src/lib/core.py", packages) == "lib.core"  # src layout


def test_relative_names_resolve_against_the_importing_module():
    assert absolute(".mod.f", "app.sub.x", False) == "app.sub.mod.f"
    assert absolute("..mod.f", "app.sub.x", False) == "app.mod.f"
    assert absolute(".mod", "app.sub", True) == "app.sub.mod"  # from an __init__: its own package
    assert absolute("...f", "app.x", False) is None  # above the top package
    assert absolute("pkg.f", "app.x", False) == "pkg.f"


def test_signatures_record_where_each_watched_parameter_is_accepted():
    index = build_index(
        [
            (
                "m.py",
                src(
                    """
                    import functools

                    def plain(url, timeout=None): ...
                    def kwonly(url, *, deadline): ...
                    def posonly(url, timeout, /): ...
                    def untouched(url, retries=3): ...
                    async def coro(request, ctx): ...

                    class Client:
                        def __init__(self, base, timeout=None): ...
                        def get(self, path, timeout=None): ...
                        @staticmethod
                        def build(url, timeout=None): ...
                        @classmethod
                        def create(cls, url, context=None): ...
                        @functools.lru_cache(maxsize=None)
                        def cached(self, key, timeout=None): ...
                        @property
                        def prop(self, timeout=None): ...
                        class Inner:
                            def go(self, ctx): ...

                    @some.decorator
                    def wrapped(url, timeout=None): ...

                    def outer(timeout=None):
                        def nested(timeout=None): ...
                    """
                ),
            )
        ]
    )
    sigs = index.functions["m"]
    assert sigs["plain"] == Signature("function", (("timeout", 1, True),))
    assert sigs["kwonly"] == Signature("function", (("deadline", None, True),))
    assert sigs["posonly"] == Signature("function", (("timeout", 1, False),))
    assert sigs["coro"] == Signature("function", (("ctx", 1, True),))
    assert sigs["Client.get"].accepts("timeout", bound=True) == (1, True)
    assert sigs["Client.get"].accepts("timeout", bound=False) == (2, True)
    assert sigs["Client.build"].accepts("timeout", bound=True) == (1, True)  # static: nothing bound
    assert sigs["Client.create"].kind == "classmethod"
    assert "Client.cached" in sigs and "Client.Inner.go" in sigs and "Client.__init__" in sigs
    # not indexed: no watched parameter, a decorator that may change the signature, nested
    for name in ("untouched", "wrapped", "Client.prop", "outer.nested", "nested"):
        assert name not in sigs
    assert "outer" in sigs


def test_conflicting_definitions_are_not_trusted():
    code = src(
        """
        import sys
        if sys.platform == "win32":
            def connect(host, timeout=None): ...
        else:
            def connect(host, port, timeout=None): ...
        try:
            from fast import fetch
        except ImportError:
            def fetch(url, timeout=None): ...
        """
    )
    sigs = build_index([("m.py", code)]).functions["m"]
    assert "connect" not in sigs and "fetch" in sigs


@pytest.mark.parametrize(
    ("code", "names"),
    [
        # headers over several lines, defaults holding brackets and strings with `)` and `:`
        (
            '''
            class A:
                def f(self, a=(1, 2), b="):", *,
                      timeout: float | None = None,
                      ) -> dict[str, int]:
                    pass

                @decorate(
                    option=True,
                )
                def g(self, ctx): ...

                @staticmethod
                # a comment between decorator and def
                def h(deadline=None): ...
            ''',
            {"A.f", "A.h"},
        ),
        # conditional definitions, a multi-line condition, a class inside `if`, a `with` block
        (
            '''
            import sys
            if (sys.platform == "win32" and
                    sys.version_info >= (3, 8)):
                def f(timeout=None): ...
            try:
                import x
            except ImportError:
                class B:
                    def m(self, context): ...
            with suppress(ImportError):
                def g(deadline): ...
            ''',
            {"f", "B.m", "g"},
        ),
        # text at column 0 inside a docstring is no definition
        (
            '''
            class C:
                """Doc
            def fake(timeout): pass
                """
                def real(self, timeout=None): ...
            ''',
            {"C.real"},
        ),
        # a nested function is not reachable by name
        (
            '''
            def outer(x):
                y = call(a,
            b)
                def inner(timeout=None): ...
                return inner
            ''',
            set(),
        ),
        # defaults that nest calls two levels deep
        (
            '''
            def fetch(url, retry=policy(backoff(2)), timeout=5): ...
            ''',
            {"fetch"},
        ),
        # Python reads identifiers in NFKC: a fullwidth `ｔimeout` is `timeout`
        (
            '''
            def fetch(url, ｔimeout=5): ...
            ''',
            {"fetch"},
        ),
    ],
)
def test_index_reads_unusual_headers(code, names):
    data = src(code)
    assert set(build_index([("m.py", data)]).functions.get("m", {})) == names


def test_reexports_from_package_init():
    data = src(
        """
        from .net import fetch, Client as HttpClient
        from .util import (
            retry,  # a comment
            backoff as bo,
        )
        from pkg.other import a, \\
            b
        from . import sub
        from __future__ import annotations
        """
    )
    assert _reexports_text(data, "pkg") == {
        "fetch": "pkg.net.fetch",
        "HttpClient": "pkg.net.Client",
        "retry": "pkg.util.retry",
        "bo": "pkg.util.backoff",
        "a": "pkg.other.a",
        "b": "pkg.other.b",
        "sub": "pkg.sub",
    }


def test_lookup_follows_reexports_and_src_layouts():
    index = build_index(
        [
            ("src/pkg/__init__.py", b"from .net import fetch\nfrom .net import Client\n"),
            ("src/pkg/net.py", src("def fetch(url, timeout=None): ...\nclass Client:\n    def get(self, p, timeout=None): ...\n")),
            ("tools/ns/helper.py", src("def ping(host, deadline=None): ...\n")),  # namespace package
        ]
    )
    assert index.lookup("pkg.fetch")[0] == "fetch"
    assert index.lookup("pkg.net.fetch")[0] == "fetch"
    assert index.lookup("pkg.Client.get")[0] == "Client.get"
    assert index.lookup("ns.helper.ping")[0] == "ping"  # imported under its path below a source root
    assert index.lookup("pkg.missing") is None
    assert index.lookup("requests.get") is None
    assert index.module_of("src/pkg/net.py") == "pkg.net"


def test_two_files_claiming_one_module_name_resolve_to_neither():
    index = build_index([("a/util.py", b"def f(timeout=None): ...\n"), ("b/util.py", b"def f(x): ...\n")])
    assert index.lookup("util.f") is None


def test_index_is_pure_compact_and_picklable():
    files = [("p/__init__.py", b""), ("p/m.py", b"def f(x, timeout=None): ...\n"), ("p/n.py", b"x = 1\n")]
    one, two = build_index(files), build_index(list(files))
    assert one == two
    assert pickle.loads(pickle.dumps(one)) == one
    assert set(one.functions) == {"p.m"}  # files without such functions get no entry
    assert build_index([]) == ProjectIndex()


# --------------------------------------------------------------------------- cross-module resolution

CLIENT = """
def fetch(url, timeout=None):
    return url

class Client:
    def __init__(self, base, timeout=None):
        self.base = base

    def get(self, path, timeout=None):
        return path
"""


@pytest.mark.parametrize(
    "caller, expected",
    [
        ("from pkg.client import fetch\ndef h(u, timeout):\n    fetch(u)\n", [2 + 1]),
        ("import pkg.client as m\ndef h(u, timeout):\n    m.fetch(u)\n    m.fetch(u, timeout)\n", [3]),
        ("import pkg.client\ndef h(u, timeout):\n    pkg.client.fetch(u)\n", [3]),
        ("from .client import fetch\ndef h(u, timeout):\n    fetch(u)\n", [3]),
        ("from . import client\ndef h(u, timeout):\n    client.fetch(u)\n", [3]),
        ("from .client import Client\ndef h(u, timeout):\n    c = Client(u)\n    c.get('/')\n", [3, 4]),
        ("from pkg import fetch\ndef h(u, timeout):\n    fetch(u)\n", [3]),  # re-exported by pkg/__init__
        ("from pkg.client import fetch\ndef h(u, timeout):\n    fetch(u, timeout=timeout)\n", []),
        ("from pkg.client import fetch\ndef h(u, timeout):\n    fetch(u, min(timeout, 5))\n", []),
        ("from pkg.client import fetch\ndef h(u, deadline):\n    fetch(u)\n", []),  # another parameter
        ("from pkg.client import nothing\ndef h(u, timeout):\n    nothing(u)\n", []),
        ("from elsewhere import fetch\ndef h(u, timeout):\n    fetch(u)\n", []),  # not in the project
    ],
)
def test_cross_module_calls(ruleset, caller, expected):
    files = {"pkg/__init__.py": "from .client import fetch\n", "pkg/client.py": CLIENT, "pkg/service.py": caller}
    assert [line for rule, line in findings(ruleset, files, "pkg/service.py") if rule == "CTX102"] == expected


def test_relative_import_two_levels_up(ruleset):
    files = {
        "app/__init__.py": "",
        "app/net.py": "def call(host, ctx):\n    return host\n",
        "app/api/__init__.py": "",
        "app/api/views.py": "from ..net import call\n\ndef view(request, ctx):\n    return call(request.host)\n",
    }
    assert findings(ruleset, files, "app/api/views.py") == [("CTX102", 4)]


def test_without_an_index_only_the_file_itself_is_known(ruleset):
    code = "from pkg.client import fetch\n\ndef local(u, timeout=None):\n    return u\n\ndef h(u, timeout):\n    fetch(u)\n    local(u)\n"
    files = {"pkg/__init__.py": "", "pkg/client.py": CLIENT, "pkg/service.py": code}
    assert findings(ruleset, files, "pkg/service.py", index=False) == [("CTX102", 8)]
    assert findings(ruleset, files, "pkg/service.py") == [("CTX102", 7), ("CTX102", 8)]
    # the editor path: lint_text works without any index
    result = lint_text("pkg/service.py", code, ruleset)
    assert [(f.rule_id, f.region.line) for f in result.findings] == [("CTX102", 8)]


def test_the_file_being_linted_wins_over_a_stale_index(ruleset):
    old = "def f(x):\n    return x\n\ndef g(x, timeout=None):\n    return f(x)\n"
    new = "def f(x, timeout=None):\n    return x\n\ndef g(x, timeout=None):\n    return f(x)\n"
    ruleset.index = build_index([("m.py", src(old))])
    try:
        result = lint_unit("python", "m.py", src(new), ruleset)
    finally:
        ruleset.index = None
    assert [(f.rule_id, f.region.line) for f in result.findings] == [("CTX102", 5)]


# --------------------------------------------------------------------------- bad input


ODD = '''
import asyncio
import contextvars
import functools
import threading
from concurrent.futures import ThreadPoolExecutor
from helloworld_pb2_grpc import *
from somewhere import *
import helloworld_pb2_grpc

var = contextvars.ContextVar("v")


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context, **kwargs):
        stub = getattr(helloworld_pb2_grpc, "BackendStub")(CHANNEL)
        stub.Lookup(request)
        getattr(self, "stub").Lookup(request)
        self.stub.Lookup(request, **kwargs)
        functools.partial(self.stub.Lookup, timeout=1)(request)
        (lambda: STUB.Lookup(request))()
        return BackendStub(CHANNEL).Lookup(request, *kwargs.values())


def relay(job, timeout=None, *args, **kwargs):
    send(job, **kwargs)
    send(job, *args)
    functools.partial(send, job)()
    getattr(job, "send")(job)
    job.handlers["send"](job)
    (send if job else other)(job)
    send(job)


def send(job, timeout=None, *args, **kwargs):
    return job


async def main(loop, work):
    pool = ThreadPoolExecutor()
    pool.submit(functools.partial(contextvars.copy_context().run, work))
    threading.Thread(target=getattr(work, "run")).start()
    threading.Thread(target=work, **{"daemon": True})
    threading.Thread(*[None, work])
    getattr(asyncio, "create_task")(work())
    loop.create_task(*[work()])
    asyncio.ensure_future(**{"coro_or_future": work()})
    try:
        await work()
    except (*[asyncio.CancelledError],):
        pass
    try:
        await work()
    except getattr(asyncio, "CancelledError"):
        pass
'''


def test_unusual_usage_never_crashes_and_stays_precise(ruleset):
    result = lint_unit("python", "odd.py", src(ODD), ruleset)
    got = sorted((f.rule_id, f.region.line) for f in result.findings)
    # dynamic stubs, two star imports, `**kwargs`/`*args`, partials, lambdas, `getattr` targets,
    # `**{...}` that may carry `context=`, starred or dynamic exception types: all silent
    assert got == [
        ("CTX102", 32),  # the one plain call that drops the timeout
        ("CTX104", 46),  # `loop.create_task(*[...])`: its result is still thrown away
        ("CTX104", 47),
    ]


def test_a_single_star_import_still_resolves(ruleset):
    code = """
    from helloworld_pb2_grpc import *

    class Greeter(GreeterServicer):
        def SayHello(self, request, context):
            return BackendStub(CHANNEL).Lookup(request)
    """
    assert findings(ruleset, {"m.py": code}, "m.py") == [("CTX101", 6)]


@pytest.mark.parametrize(
    "code",
    [
        "",
        "async def f(:\n",  # a syntax error: LNT001, nothing else
        "def f(timeout=None):\n    return f\n",
        "def f(timeout=None, /, *, ctx):\n    f(timeout, ctx=ctx)\n",
        "class C(object, metaclass=M, **extra):\n    def f(self, r, context):\n        return self.f(r, context)\n",
        "x = [asyncio.create_task(c) for c in cs]\nasync def g():\n    try:\n        await x\n    except:\n        raise\n",
        "from contextvars import *\nfrom threading import *\nThread(target=f).start()\n",
    ],
)
def test_odd_files_do_not_crash(ruleset, code):
    result = lint_unit("python", "odd.py", code.encode(), ruleset)
    assert all(f.rule_id in CTX or f.rule_id == "LNT001" for f in result.findings)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11+")
def test_except_star_swallowing_cancellation(ruleset):
    code = "import asyncio\nasync def f():\n    try:\n        await g()\n    except* asyncio.CancelledError:\n        pass\n"
    result = lint_unit("python", "m.py", code.encode(), ruleset)
    assert [(f.rule_id, f.region.line) for f in result.findings] == [("CTX105", 5)]


def messages(ruleset, code: str, rule: str) -> list[tuple[int, str]]:
    result = lint_unit("python", "m.py", src(code), ruleset)
    return sorted((f.region.line, f.message) for f in result.findings if f.rule_id == rule)


def test_cancellation_messages_say_what_follows_the_handler(ruleset):
    code = """
    import asyncio

    async def ends():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            return None

    async def loops(queue):
        while True:
            try:
                await queue.get()
            except asyncio.CancelledError:
                pass

    async def goes_on(events):
        try:
            await events.drain()
        except asyncio.CancelledError:
            pass
        await events.close()

    async def stream(client):
        try:
            yield await client.fetch()
        except asyncio.CancelledError:
            return
    """
    got = messages(ruleset, code, "CTX105")
    assert [line for line, _ in got] == [7, 14, 20, 27]
    assert "the coroutine returns normally" in got[0][1] and "keeps running" not in got[0][1]
    assert "the loop goes on, so the task keeps running" in got[1][1]
    assert "the code after the `try` runs on, so the task keeps running" in got[2][1]
    assert "the caller's `async for` ends normally" in got[3][1]


def test_a_task_the_module_starts_and_cancels_owns_its_cancellation_in_large_files_too(ruleset):
    # large files are reduced to the definitions the triggers name: the method that starts the
    # task and the one that cancels it are the evidence, and must survive that
    filler = "".join(f"    def unrelated{i}(self, x):\n        return x\n\n" for i in range(80))
    cls = (
        "import asyncio\n\n\nclass Worker:\n"
        "    def start(self):\n        self._task = asyncio.create_task(self._run())\n\n"
        + filler
        + "    def kill(self):\n        self._task.cancel()\n\n"
        + filler
        + "    async def _run(self):\n        try:\n            await self.step()\n"
        "        except asyncio.CancelledError:\n            pass\n"
    )
    assert cls.count("\n") > 300
    assert findings(ruleset, {"m.py": cls}, "m.py") == []
    line = cls.count("\n") - 1
    # nobody here cancels it, or another coroutine of the same name is the one started: reported
    assert findings(ruleset, {"m.py": cls.replace("self._task.cancel()", "self._task = None")}, "m.py") == [("CTX105", line)]
    assert findings(ruleset, {"m.py": cls.replace("create_task(self._run())", "create_task(other._run())")}, "m.py") == [("CTX105", line)]


def test_a_coroutine_bound_to_a_name_and_then_started_is_owned_too(ruleset):
    code = """
    import asyncio

    class Server:
        def accept(self, conn):
            serve = self._serve(conn)
            self._loop.create_task(serve)

        def close(self):
            self._reader.cancel()

        async def _serve(self, conn):
            try:
                await conn.handshake()
            except BaseException as exc:
                self.log(exc)
    """
    assert messages(ruleset, code, "CTX105") == []
    assert [line for line, _ in messages(ruleset, code.replace("create_task(serve)", "call_soon(serve)"), "CTX105")] == [15]


def test_thread_findings_name_what_the_worker_reads(ruleset):
    code = """
    import threading
    from contextvars import ContextVar
    from opentelemetry import trace

    request_id = ContextVar("request_id")

    def log_line(msg):
        return f"{request_id.get()} {msg}"

    def work(job):
        return log_line(job)

    def traced(job):
        return trace.get_current_span()

    def handle(job, work_fn):
        threading.Thread(target=work, args=(job,)).start()
        threading.Thread(target=traced, args=(job,)).start()
    """
    got = messages(ruleset, code, "CTX103")
    assert [line for line, _ in got] == [18, 19]
    assert "`request_id.get()` in `log_line` does not see the caller's value" in got[0][1]
    assert "`trace.get_current_span()` in `traced` sees an empty OpenTelemetry context" in got[1][1]


def test_thread_targets_resolve_through_scopes_not_names(ruleset):
    code = """
    import threading
    from contextvars import ContextVar

    request_id = ContextVar("request_id")

    def work(job):
        return request_id.get()

    def handle(job, work):
        threading.Thread(target=work, args=(job,)).start()  # the parameter, not the function

    def twice():
        pass

    def twice():
        return request_id.get()

    def handle_twice(job):
        threading.Thread(target=twice).start()  # defined twice: not followed

    def handle_nested(job):
        def work():
            return job
        threading.Thread(target=work).start()  # the nested function, which reads nothing
    """
    assert messages(ruleset, code, "CTX103") == []


@pytest.mark.skipif(not linter.core.FAST_PATHS, reason="the pre-filter is a fast path: PITFALL_NO_FAST_PATHS turns it off")
def test_rules_skip_files_without_their_triggers(ruleset, monkeypatch):
    import libcst

    calls = []
    real = libcst.parse_module
    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: calls.append(1) or real(*a, **k))
    # `timeout`, `contextvars` and `asyncio` appear, but no def takes a watched parameter, no task
    # is started, no handler catches cancellation, no work goes to a thread
    code = b"import asyncio, contextvars\ntimeout = 5\nasync def f():\n    try:\n        await asyncio.sleep(timeout)\n    except Exception:\n        pass\n"
    lint_unit("python", "m.py", code, ruleset)
    assert calls == []


# --------------------------------------------------------------------------- the command line

PROJECT = {
    "pyproject.toml": '[project]\nname = "svc"\n\n[tool.pitfall]\nselect = ["CTX"]\n',
    "svc/__init__.py": "from .client import fetch\n",
    "svc/client.py": CLIENT,
    "svc/api/__init__.py": "",
    "svc/api/handlers.py": (
        "from ..client import Client, fetch\n"
        "import svc.client as c\n"
        "from svc import fetch as refetch\n"
        "\n"
        "def handle(url, timeout):\n"
        "    fetch(url)\n"
        "    c.fetch(url, timeout=timeout)\n"
        "    Client(url).get('/x')\n"
        "    refetch(url)\n"
    ),
    "svc/tasks.py": (
        "import asyncio\n"
        "\n"
        "async def start(work):\n"
        "    asyncio.create_task(work())\n"
        "    try:\n"
        "        await work()\n"
        "    except asyncio.CancelledError:\n"
        "        return None\n"
    ),
    **{f"svc/filler{i}.py": f"def f{i}(x):\n    return x\n" for i in range(8)},
}
EXPECTED = {
    ("CTX102", "svc/api/handlers.py", 6),
    ("CTX102", "svc/api/handlers.py", 8),
    ("CTX102", "svc/api/handlers.py", 9),
    ("CTX104", "svc/tasks.py", 4),
    ("CTX105", "svc/tasks.py", 7),
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, PROJECT)
    return tmp_path


def check(capsys, *args: str) -> tuple[int, list[dict], str]:
    code, out, err = run(capsys, "check", "--format", "json", "--no-cache", *args)
    return code, json.loads(out)["findings"], out


def test_check_finds_cross_module_drops_with_and_without_the_pool(project, capsys):
    code1, found1, out1 = check(capsys, "--jobs", "1")
    assert code1 == 1
    assert {(f["code"], f["filename"], f["location"]["row"]) for f in found1} == EXPECTED
    code2, found2, out2 = check(capsys, "--jobs", "2")
    assert (code2, out2) == (code1, out1)  # byte-identical


def test_spawned_workers_get_the_index_through_the_initializer(project, capsys, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(engine, "_WORKER", None)
    _, found, _ = check(capsys, "--jobs", "2")
    assert {(f["code"], f["filename"], f["location"]["row"]) for f in found} == EXPECTED


def parsing_processes(monkeypatch) -> set[int]:
    """The processes that parse a file for the signature index (this one, or forked ones, which
    inherit the recording and add to their copy of the set)."""
    import os

    from linter.python import index as indexmod

    pids: set[int] = set()
    real = indexmod.file_signatures

    def recording(data: bytes, path: str):
        pids.add(os.getpid())
        return real(data, path)

    monkeypatch.setattr(indexmod, "file_signatures", recording)
    return pids


def test_the_index_is_parsed_in_worker_processes_with_the_same_answer(project, capsys, monkeypatch):
    # a large project's files are parsed for the index by forked processes: the findings are
    # those of the run that parses them here, and when those processes die the parent parses them
    import os

    _, alone, out1 = check(capsys, "--jobs", "1")
    monkeypatch.setattr(engine, "_PARALLEL_INDEX_BYTES", 0)  # any project is large enough
    parsed_in = parsing_processes(monkeypatch)
    _, pooled, out2 = check(capsys, "--jobs", "2")
    assert out2 == out1
    assert {(f["code"], f["filename"], f["location"]["row"]) for f in pooled} == EXPECTED
    assert parsed_in == set()  # recorded in the children only: this process parsed nothing
    monkeypatch.setattr(engine, "_init_index_worker", lambda: os._exit(1))  # each one dies at once
    _, fallback, out3 = check(capsys, "--jobs", "2")
    assert out3 == out1
    assert parsed_in == {os.getpid()}


@pytest.mark.skipif(sys.platform == "win32", reason="the prefetch needs fork")
def test_the_index_is_prefetched_while_the_rules_compile(project, capsys, monkeypatch):
    # the files' signatures are parsed by forked processes started before the rules compile: the
    # findings are those of a run without them, this process parses none of those files, and a
    # run whose processes die parses them here
    import os

    _, alone, out1 = check(capsys, "--jobs", "1")
    monkeypatch.setattr(engine, "_PREFETCH_MIN_FILES", 0)  # any project is large enough
    started: list[int] = []
    real_init = engine.Prefetch.__init__
    monkeypatch.setattr(engine.Prefetch, "__init__", lambda self, *a: started.append(1) or real_init(self, *a))
    parsed_in = parsing_processes(monkeypatch)
    _, pooled, out2 = check(capsys, "--jobs", "2")
    assert out2 == out1
    assert started == [1]
    assert os.getpid() not in parsed_in
    monkeypatch.setattr(engine, "_init_index_worker", lambda: os._exit(1))  # each one dies at once
    _, fallback, out3 = check(capsys, "--jobs", "2")
    assert out3 == out1
    assert os.getpid() in parsed_in


def test_the_pool_hands_out_the_largest_files_first_and_a_large_file_alone(tmp_path):
    from linter.core.discover import Unit

    sizes = {"big.py": 400_000, "mid.py": 60_000, **{f"s{i:02}.py": 1_000 + i for i in range(40)}}
    units = []
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"#" * size)
        units.append(Unit("python", name, str(tmp_path / name)))
    units.append(Unit("path", "gone.py", str(tmp_path / "gone.py")))  # cannot be looked at: last, read later
    batches = engine._batches(units, 2)
    flat = [u.path for b in batches for u in b]
    assert sorted(flat) == sorted(u.path for u in units)  # each file once
    assert [u.path for u in batches[0]] == ["big.py"]  # over its share of the bytes: alone
    assert [u.path for u in batches[1]] == ["mid.py"]
    assert flat[2:] == [f"s{i:02}.py" for i in reversed(range(40))] + ["gone.py"]
    assert all(len(b) <= 16 for b in batches)


@pytest.mark.skipif(sys.platform == "win32", reason="the child is forked")
def test_the_packs_are_parsed_by_a_forked_child_while_the_analyzers_are_imported(project, capsys, monkeypatch):
    # a run's start-up: a forked child parses the packs while this process imports libcst; the
    # output is the run's that parses them here, and a child that dies leaves them to this process
    import os

    import linter.cli as climod

    monkeypatch.setattr(engine, "_cores", lambda: 2)
    loaded_in: list[int] = []
    real = climod.load_packs
    monkeypatch.setattr(climod, "load_packs", lambda *a, **k: loaded_in.append(os.getpid()) or real(*a, **k))
    _, _, alone = check(capsys, "--jobs", "1")  # one process asked for: no child
    assert loaded_in == [os.getpid()]
    loaded_in.clear()
    _, _, ahead = check(capsys, "--jobs", "2")
    assert ahead == alone
    assert loaded_in == []  # recorded in the child's copy only
    me = os.getpid()
    monkeypatch.setattr(climod, "load_packs", lambda *a, **k: (os.getpid() != me and os._exit(1)) or loaded_in.append(me) or real(*a, **k))
    _, _, fallback = check(capsys, "--jobs", "2")
    assert fallback == alone
    assert loaded_in == [me]


@pytest.mark.skipif(sys.platform == "win32", reason="the child is forked")
def test_invalid_packs_found_by_the_forked_child_are_reported_once_by_the_run(project, capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(engine, "_cores", lambda: 2)
    pack = tmp_path / "bad"
    write(pack, {
        "pack.yaml": "name: bad\nprefix: BAD\nversion: 0.1.0\ndescription: d\n",
        "BAD101-thing.yaml": "id: BAD101\nname: thing\ntarget: python\nseverity: warning\narea: timeout\nsummary: s\n"
        "rationale: r\nmessage: m\nmatch:\n  call: [x]\n  wher: []\nexamples:\n  valid: ['x']\n  invalid: ['x']\n",
    })
    code, out, err = run(capsys, "check", "--no-cache", "--jobs", "2", "--packs", str(pack))
    assert code == 2 and out == ""
    assert err.count("BAD101-thing.yaml:11") == 1 and "wher" in err and "Traceback" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="the prefetch needs fork")
def test_a_prefetched_signature_is_used_only_for_the_bytes_it_was_read_from(tmp_path, monkeypatch):
    # a file edited after the prefetch read it gets the signatures of its new bytes
    from linter.python import index as indexmod

    old = b"def wait(u, timeout=None):\n    return u\n"
    new = b"def wait(u, deadline=None, timeout=None):\n    return u\n"
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_bytes(old)
    prefetch = engine.Prefetch([("a.py", str(tmp_path / "a.py")), ("b.py", str(tmp_path / "b.py"))], 1, 1 << 20)
    try:
        prefetch._collect()  # what the processes read: both files as they were
        (tmp_path / "b.py").write_bytes(new)
        here: list[str] = []
        real = indexmod.file_signatures
        monkeypatch.setattr(indexmod, "file_signatures", lambda data, path: here.append(path) or real(data, path))
        got = prefetch.compute(None)([(old, "a.py"), (new, "b.py")])
    finally:
        prefetch.close()
    assert got == [real(old, "a.py"), real(new, "b.py")]
    assert got[0] != got[1]
    assert here == ["b.py"]  # a.py came from the prefetch


def test_test_modules_are_parsed_only_when_code_that_is_analysed_can_reach_them(tmp_path, monkeypatch, capsys):
    # CTX102 does not run on test code: a test module matters to the index only as a callee of
    # the code that is analysed, so one that code never imports is not parsed at all
    from linter.python import index as indexmod

    monkeypatch.chdir(tmp_path)
    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": "from tests.helpers import wait\n\n\ndef run(u, timeout=None):\n    return wait(u)\n",
        "app/other.py": "import tests.helpers as th\nfrom tests import helpers\n\n\ndef go(u, timeout=None):\n    th.wait(u)\n    helpers.wait(u)\n",
        "tests/__init__.py": "",
        "tests/helpers.py": "def wait(u, timeout=None):\n    return u\n",
        "tests/test_other.py": "def slow(x, timeout=None):\n    return x\n",
    })
    parsed: list[str] = []
    real = indexmod.file_signatures
    monkeypatch.setattr(indexmod, "file_signatures", lambda data, path: parsed.append(path) or real(data, path))
    _, found, _ = check(capsys, "--jobs", "1")
    expected = {("CTX102", "app/main.py", 5), ("CTX102", "app/other.py", 6), ("CTX102", "app/other.py", 7)}
    assert {(f["code"], f["filename"], f["location"]["row"]) for f in found} == expected
    assert sorted(parsed) == ["app/main.py", "app/other.py", "tests/helpers.py"]
    parsed.clear()
    write(tmp_path, {".pitfall.toml": "test-paths = []\n"})  # no test code: every module may be a caller
    _, found, _ = check(capsys, "--jobs", "1")
    assert expected <= {(f["code"], f["filename"], f["location"]["row"]) for f in found}
    assert sorted(parsed) == ["app/main.py", "app/other.py", "tests/helpers.py", "tests/test_other.py"]


def test_the_index_is_built_once_before_the_pool(project, capsys, monkeypatch):
    import linter.python.index

    built = []
    real = linter.python.index.build_index
    monkeypatch.setattr(linter.python.index, "build_index", lambda *a, **k: built.append(1) or real(*a, **k))
    check(capsys, "--jobs", "2")
    assert built == [1]
    built.clear()
    run(capsys, "check", "--select", "TMO", "--no-cache")
    assert built == []  # no selected rule needs it


def test_checking_one_file_reads_the_modules_its_functions_import(project, capsys):
    # the pre-commit case: only the changed file is a unit; the callee modules it imports (and the
    # package re-export it goes through) are read from disk, so the findings are the same
    _, found, _ = check(capsys, "svc/api/handlers.py")
    assert {(f["code"], f["filename"], f["location"]["row"]) for f in found} == {e for e in EXPECTED if e[1] == "svc/api/handlers.py"}
    _, found, _ = check(capsys, "svc/api/handlers.py", "svc/client.py")
    assert {(f["code"], f["location"]["row"]) for f in found} == {("CTX102", 6), ("CTX102", 8), ("CTX102", 9)}


def test_imports_are_followed_only_inside_the_source_tree(tmp_path, monkeypatch):
    from linter.core.discover import Unit
    from linter.python.index import index_units

    write(tmp_path, {
        "app/__init__.py": "",
        "app/main.py": "import os\nimport requests\nfrom app.net import get\nfrom . import util\n\ndef run(u, timeout=None):\n    return get(u)\n",
        "app/net.py": "def get(u, timeout=None):\n    return u\n",
        "app/util.py": "def helper(x, ctx):\n    return x\n",
        "app/unused.py": "def other(x, timeout=None):\n    return x\n",
    })
    main = tmp_path / "app" / "main.py"
    index = index_units([Unit("python", "app/main.py", str(main))])
    assert index.module_of("app/main.py") == "app.main"
    assert set(index.functions) == {"app.main", "app.net", "app.util"}  # never app.unused: not imported


def test_large_files_keep_same_file_callees(ruleset):
    # files over a few hundred lines are reduced to the definitions the triggers name: a callee
    # with an optional context must survive that
    filler = "".join(f"def unrelated{i}(x):\n    return x\n\n\n" for i in range(80))
    code = filler + "def helper(x, context=None):\n    return x\n\n\ndef handler(x, context):\n    return helper(x)\n"
    line = code.count("\n")
    assert findings(ruleset, {"m.py": code}, "m.py") == [("CTX102", line)]
