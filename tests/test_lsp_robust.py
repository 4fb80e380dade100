"""The language server under hostile input (issue 14): malformed requests are answered, huge
documents are not analysed, and one document's lint never holds up another's diagnostics.

Drives the real ``python -m linter lsp`` over stdio with the client of test_lsp.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from test_lsp import PY_BAD, STARTUP, Client

LIMIT = 4000  # max-file-size of the workspace, bytes
QUICK = 5.0  # seconds: "promptly" for an answer that needs no lint of a big document


def _range(sl: int, sc: int, el: int, ec: int) -> dict[str, Any]:
    return {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}


def _raw(client: Client, method: str, params: Any, timeout: float = QUICK) -> dict[str, Any]:
    """Send a request and return the whole reply (result or error), within ``timeout``."""
    client.next_id += 1
    msg_id = client.next_id
    client._send({"id": msg_id, "method": method, "params": params})
    return client.wait(lambda: client.responses.get(msg_id), timeout, f"a response to {method} {params!r}")


def _send_body(client: Client, body: bytes) -> None:
    assert client.proc.stdin is not None
    client.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    client.proc.stdin.flush()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("robust")
    (root / ".pitfall.toml").write_text(f"max-file-size = {LIMIT}\n")
    client = Client(root)
    client.init_result = client.initialize()
    yield client
    client.close()


# ---------------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    "params",
    [
        None,
        {},
        {"textDocument": "file:///x.py", "range": _range(0, 0, 0, 0), "context": {"diagnostics": []}},
        {"textDocument": {"uri": "file:///x.py"}, "range": {"start": {"line": "zero", "character": 0}}, "context": {"diagnostics": []}},
        {"textDocument": {"uri": "file:///x.py"}, "range": _range(0, 0, 0, 0), "context": {"diagnostics": [{"range": None}]}},
        [1, 2, 3],
    ],
    ids=["null", "empty", "document-not-an-object", "line-not-a-number", "bad-diagnostic", "array"],
)
def test_a_malformed_code_action_gets_invalid_params_and_the_server_keeps_serving(server: Client, params: Any) -> None:
    reply = _raw(server, "textDocument/codeAction", params)
    assert "result" not in reply, reply
    assert reply["error"]["code"] == -32602, reply
    assert "textDocument/codeAction" in reply["error"]["message"]

    uri = server.open(f"after-{server.next_id}.py", PY_BAD)
    (diag,) = server.diagnostics(uri)
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})
    assert {a["title"] for a in actions} == {"Fix: Add `timeout=10` (unsafe)", "Ignore TMO101 on this line"}
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_unknown_documents_and_ranges_past_the_end_get_an_empty_result(server: Client) -> None:
    unknown = _raw(server, "textDocument/codeAction", {"textDocument": {"uri": server.uri("nowhere.py")}, "range": _range(0, 0, 0, 0), "context": {"diagnostics": []}})
    assert unknown == {"jsonrpc": "2.0", "id": server.next_id, "result": []}
    uri = server.open("short.py", PY_BAD)
    server.diagnostics(uri)
    past = _raw(server, "textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _range(500, 0, 900, 4), "context": {"diagnostics": []}})
    assert past["result"] == []
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_broken_json_rpc_gets_error_responses(server: Client) -> None:
    # not JSON at all: a parse error with a null id
    _send_body(server, b'{"jsonrpc": "2.0", "id": 77, "method": ')
    reply = server.wait(lambda: server.responses.get(None), QUICK, "a parse error")
    assert reply["error"]["code"] == -32700
    del server.responses[None]
    # an id that is no id: invalid request, with a null id
    server._send({"id": {"not": "an id"}, "method": "textDocument/hover", "params": {}})
    assert server.wait(lambda: server.responses.get(None), QUICK, "invalid request")["error"]["code"] == -32600
    del server.responses[None]
    # a JSON array (a batch, which LSP does not have): invalid request
    _send_body(server, b"[1, 2]")
    assert server.wait(lambda: server.responses.get(None), QUICK, "invalid request")["error"]["code"] == -32600
    del server.responses[None]
    # an unknown method: method not found (pygls), still an answer
    assert _raw(server, "pitfall/noSuchThing", {})["error"]["code"] == -32601
    # a notification with bad params gets no answer, and breaks nothing
    server.notify("textDocument/didOpen", {"textDocument": {"uri": server.uri("x.py")}})  # no text, version, language
    uri = server.open("still.py", PY_BAD)
    assert {d["code"] for d in server.diagnostics(uri)} == {"TMO101"}
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


# ---------------------------------------------------------------------- huge documents


def test_a_document_over_max_file_size_is_not_analysed_and_others_are(server: Client) -> None:
    huge = "import requests\n" + "x = a and b and c or d\n" * 20_000 + "requests.get(u)\n"  # ~460 KB, over the limit
    started = time.monotonic()
    big = server.open("huge.py", huge)
    small = server.open("small.py", PY_BAD)
    (notice,) = server.diagnostics(big, timeout=QUICK)
    assert "not analysed" in notice["message"] and "max-file-size" in notice["message"]
    assert f"{len(huge)} bytes" in notice["message"] and f"limit of {LIMIT} bytes" in notice["message"]
    assert notice["range"] == _range(0, 0, 0, 0)
    assert {d["code"] for d in server.diagnostics(small, timeout=QUICK)} == {"TMO101"}
    assert time.monotonic() - started < 2 * QUICK

    # no fix or ignore action is offered for the notice
    assert server.request("textDocument/codeAction", {"textDocument": {"uri": big}, "range": _range(0, 0, 0, 0), "context": {"diagnostics": [notice]}}) == []
    # cut below the limit: linted as usual
    server.change(big, "import requests\nrequests.get(u)\n")
    assert {d["code"] for d in server.diagnostics(big, lambda d: any(x.get("code") == "TMO101" for x in d))} == {"TMO101"}
    for uri in (big, small):
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_a_long_lint_does_not_hold_up_other_documents(tmp_path: Path) -> None:
    """Under the size cap a dense file still takes seconds; a small file opened while it is
    linted gets its diagnostics long before it (before, one lock served every document in turn:
    the small one waited for the whole big lint)."""
    (tmp_path / ".pitfall.toml").write_text(f"max-file-size = {8 * 1024 * 1024}\n")
    slow = "import requests\n" + "".join(f"def f{i}(a, b):\n    return requests.get(a, b, {i})\n" for i in range(5_000))
    client = Client(tmp_path)
    try:
        client.initialize()
        started = time.monotonic()
        big = client.open("slow.py", slow)
        time.sleep(1.0)  # the debounce has fired: the big lint is under way
        opened = time.monotonic()
        small = client.open("small.py", PY_BAD)
        assert {d["code"] for d in client.diagnostics(small, timeout=STARTUP)} == {"TMO101"}
        small_took = time.monotonic() - opened
        big_done_first = bool(client.published(big))
        assert len(client.diagnostics(big, timeout=STARTUP * 4)) == 5_000  # the big one is linted too
        big_took = time.monotonic() - started
    finally:
        client.close()
    if big_took < 4.0:
        pytest.skip(f"the big document took only {big_took:.1f} s: this machine is too fast to tell")
    assert not big_done_first
    assert small_took < big_took / 2, (small_took, big_took)


def test_a_document_over_its_time_budget_is_a_finding_and_the_server_lives_on(tmp_path: Path) -> None:
    """The analyses run in worker processes: a document over ``unit-timeout`` gets an LNT001
    diagnostic instead of diagnostics that never come, and the next document is linted."""
    (tmp_path / ".pitfall.toml").write_text(f"max-file-size = {8 * 1024 * 1024}\nunit-timeout = 1\n")
    dense = "import requests\n" + "".join(f"def f{i}(a, b):\n    return requests.get(a, b, {i})\n" for i in range(20_000))
    client = Client(tmp_path)
    try:
        client.initialize()
        big = client.open("dense.py", dense)
        (over,) = client.diagnostics(big, timeout=STARTUP * 2)
        assert over["code"] == "LNT001" and "took over 1 s (unit-timeout)" in over["message"], over
        small = client.open("small.py", PY_BAD)
        assert {d["code"] for d in client.diagnostics(small, timeout=STARTUP)} == {"TMO101"}
    finally:
        client.close()


def test_a_worker_that_dies_is_a_finding_and_the_next_lint_gets_a_new_one(tmp_path: Path) -> None:
    """A native crash (here: SIGSEGV sent to the worker while it lints) ends only that lint."""
    import os
    import signal

    from linter.core.config import Settings
    from linter.core.engine import build_ruleset
    from linter.core.workers import Request, Workers

    ruleset = build_ruleset(Settings(root=str(tmp_path)))
    workers = Workers(ruleset, size=1)
    try:
        dense = "import requests\n" + "".join(f"def f{i}(a, b):\n    return requests.get(a, b, {i})\n" for i in range(20_000))
        results: list[Any] = []
        lint = threading.Thread(target=lambda: results.append(workers.lint(Request("text", "dense.py", dense))))
        lint.start()
        deadline = time.monotonic() + STARTUP
        while not workers.busy and time.monotonic() < deadline:
            time.sleep(0.01)
        (busy,) = list(workers.busy)
        time.sleep(0.3)  # the lint is under way
        os.kill(busy.process.pid, signal.SIGSEGV)
        lint.join(STARTUP)
        (crashed,) = results[0].findings
        assert crashed.rule_id == "LNT001" and "crashed" in crashed.message and str(-signal.SIGSEGV) in crashed.message
        after = workers.lint(Request("text", "small.py", PY_BAD))
        assert [f.rule_id for f in after.findings] == ["TMO101"]
    finally:
        workers.close()
    assert not busy.process.is_alive()


# ---------------------------------------------------------------------- in-process units


def test_only_the_newest_waiting_version_is_linted() -> None:
    from linter.lsp import PitfallServer

    server = PitfallServer()
    ran: list[str] = []
    release = threading.Event()

    def first() -> None:
        ran.append("v1")
        release.wait(5)

    worker = threading.Thread(target=server.run_key, args=("doc", first))
    worker.start()
    while not ran:
        time.sleep(0.01)
    server.run_key("doc", lambda: ran.append("v2"))  # waits: v1 is under way
    server.run_key("doc", lambda: ran.append("v3"))  # replaces v2
    server.run_key("other", lambda: ran.append("other"))  # another document is not held up
    assert ran == ["v1", "other"]
    release.set()
    worker.join(5)
    assert ran == ["v1", "other", "v3"]
    assert not server.running and not server.pending


def test_each_lint_gets_a_rule_set_of_its_own() -> None:
    from linter.core.config import Settings
    from linter.core.engine import build_ruleset
    from linter.lsp import PitfallServer

    server = PitfallServer()
    server.ruleset = build_ruleset(Settings(root="."))
    a = server.checkout(server.ruleset)
    b = server.checkout(server.ruleset)
    assert a is not b and a is not server.ruleset and a.rules == server.ruleset.rules
    server.checkin(server.ruleset, a)
    assert server.checkout(server.ruleset) is a  # kept for the next lint
    old = server.ruleset
    server.ruleset = build_ruleset(Settings(root="."))
    server.checkin(old, b)  # reloaded meanwhile: not kept
    assert all(source is server.ruleset for source, _ in server.idle)


def test_over_limit_counts_utf8_bytes() -> None:
    from linter.lsp import _over_limit

    assert _over_limit("x" * 100, 100) is None
    assert _over_limit("é" * 60, 100) is not None  # 120 bytes
    entry = _over_limit("x" * 101, 100)
    assert entry is not None and "101 bytes" in entry.diagnostic.message and entry.actions == ()


def test_rejection_answers_requests_only() -> None:
    from linter.lsp import _rejection

    assert _rejection({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {}}, None).error is None
    assert _rejection({"jsonrpc": "2.0", "id": 4, "result": 1}, None).error is None
    bad = _rejection({"jsonrpc": "2.0", "id": 4, "method": "textDocument/hover", "params": {}}, ValueError("x"))
    assert (bad.id, bad.error.code if bad.error else None) == (4, -32602)
    assert _rejection({"jsonrpc": "2.0", "id": {"a": 1}, "method": "m"}, None).error.code == -32600  # type: ignore[union-attr]
    assert json.dumps(_rejection([1], None).id) == "null"
