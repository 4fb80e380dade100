"""The language server end to end: the real ``python -m linter lsp`` over stdio.

A minimal JSON-RPC client (Content-Length framing) lives here; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import write

STARTUP = 30.0  # interpreter start + imports + packs: seconds on a busy CI box (jsonschema format imports alone ~1.6 s)
WAIT = 10.0
PY_BAD = "import requests\nrequests.get(u)\n"
PY_GOOD = "import requests\nrequests.get(u, timeout=5)\n"
POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx\n"


class Client:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.stderr = tempfile.TemporaryFile()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "linter", "lsp"], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr)
        self.cond = threading.Condition()
        self.responses: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.server_requests: list[dict[str, Any]] = []
        self.next_id = 0
        self.versions: dict[str, int] = {}
        self.init_result: dict[str, Any] = {}
        threading.Thread(target=self._read, daemon=True).start()

    # ------------------------------------------------------------------ wire

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    with self.cond:
                        self.cond.notify_all()
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None
            msg = json.loads(out.read(length))
            if "method" in msg and "id" in msg:  # a request from the server
                self._send({"id": msg["id"], "result": None})
            with self.cond:
                if "method" in msg and "id" in msg:
                    self.server_requests.append(msg)
                elif "method" in msg:
                    self.notifications.append(msg)
                else:
                    self.responses[msg["id"]] = msg
                self.cond.notify_all()

    def wait(self, check: Callable[[], Any], timeout: float = WAIT, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = check()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    pytest.fail(f"timed out waiting for {what or check}; stderr:\n{self.err()[-3000:]}")
                self.cond.wait(min(left, 0.5))

    def err(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def request(self, method: str, params: Any, timeout: float = WAIT) -> Any:
        self.next_id += 1
        msg_id = self.next_id
        self._send({"id": msg_id, "method": method, "params": params})
        reply = self.wait(lambda: self.responses.get(msg_id), timeout, method)
        assert "error" not in reply, reply
        return reply["result"]

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    # ------------------------------------------------------------------ LSP helpers

    def initialize(self) -> dict[str, Any]:
        caps = {
            "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": True}},
            "textDocument": {"publishDiagnostics": {"codeDescriptionSupport": True}, "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["quickfix"]}}}},
        }
        uri = self.root.as_uri()
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": "ws"}], "capabilities": caps}, timeout=STARTUP)
        self.notify("initialized", {})
        return result

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def open(self, name: str, text: str, language: str = "python") -> str:
        uri = self.uri(name)
        self.versions[uri] = 1
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}})
        return uri

    def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": self.versions[uri]}, "contentChanges": [{"text": text}]})

    def published(self, uri: str) -> list[dict[str, Any]]:
        return [n["params"] for n in self.notifications if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri]

    def diagnostics(self, uri: str, check: Callable[[list[dict[str, Any]]], bool] = bool, timeout: float = WAIT) -> list[dict[str, Any]]:
        """The latest diagnostics published for ``uri`` once they satisfy ``check``."""

        def latest() -> list[dict[str, Any]] | None:
            got = self.published(uri)
            if got and check(got[-1]["diagnostics"]):
                return got[-1]["diagnostics"] or [{}]
            return None

        found = self.wait(latest, timeout, f"diagnostics for {uri}")
        return [d for d in found if d]

    def messages(self, method: str = "window/showMessage") -> list[dict[str, Any]]:
        return [n["params"] for n in self.notifications if n["method"] == method]

    def close(self) -> int | None:
        if self.proc.poll() is None:
            try:
                self.request("shutdown", None)
                self.notify("exit", None)
                self.proc.wait(timeout=WAIT)
            except (subprocess.TimeoutExpired, OSError, pytest.fail.Exception):
                self.proc.kill()
                self.proc.wait(timeout=WAIT)
        self.stderr.close()
        return self.proc.returncode


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("ws")
    client = Client(root)
    client.init_result = client.initialize()
    yield client
    client.close()


def _range(sl: int, sc: int, el: int, ec: int) -> dict[str, Any]:
    return {"start": {"line": sl, "character": sc}, "end": {"line": el, "character": ec}}


def _codes(diags: list[dict[str, Any]]) -> set[str]:
    return {d["code"] for d in diags}


# ---------------------------------------------------------------------- tests


def test_initialize_advertises_features_and_watches_config(server: Client) -> None:
    caps = server.init_result["capabilities"]
    assert server.init_result["serverInfo"]["name"] == "pitfall"
    assert caps["codeActionProvider"]["codeActionKinds"] == ["quickfix"]
    assert caps["textDocumentSync"]["openClose"] and caps["textDocumentSync"]["save"]
    reg = server.wait(lambda: [r for r in server.server_requests if r["method"] == "client/registerCapability"], what="registerCapability")
    (registration,) = reg[0]["params"]["registrations"]
    assert registration["method"] == "workspace/didChangeWatchedFiles"
    globs = {w["globPattern"] for w in registration["registerOptions"]["watchers"]}
    assert globs == {"**/pyproject.toml", "**/.pitfall.toml"}


def test_python_diagnostic_fields_and_fix(server: Client) -> None:
    uri = server.open("app.py", PY_BAD)
    (diag,) = server.diagnostics(uri)
    assert diag["range"] == _range(1, 0, 1, 15)  # 1-based region (2,1)-(2,16) -> 0-based
    assert diag["code"] == "TMO101"
    assert diag["source"] == "pitfall"
    assert diag["severity"] == 2  # warning
    assert diag["codeDescription"]["href"] == "https://pitfall.dev/rules/TMO101/"
    assert "timeout" in diag["message"]

    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})
    by_title = {a["title"]: a for a in actions}
    assert set(by_title) == {"Fix: Add `timeout=10` (unsafe)", "Ignore TMO101 on this line"}
    fix = by_title["Fix: Add `timeout=10` (unsafe)"]
    assert fix["kind"] == "quickfix" and fix["diagnostics"] == [diag]
    assert fix["edit"]["changes"] == {uri: [{"range": _range(1, 14, 1, 14), "newText": ", timeout=10"}]}
    ignore = by_title["Ignore TMO101 on this line"]
    assert ignore["edit"]["changes"] == {uri: [{"range": _range(1, 15, 1, 15), "newText": "  # pitfall: ignore[TMO101]"}]}

    # the fixed text: diagnostics cleared
    server.change(uri, PY_GOOD)
    assert server.diagnostics(uri, lambda d: not d) == []
    # a suppressed finding is not published
    server.change(uri, "import requests\nrequests.get(u)  # pitfall: ignore[TMO101] batch job\n")
    time.sleep(1.0)
    assert server.published(uri)[-1]["diagnostics"] == []
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_positions_are_utf16_and_ignore_merges_into_existing_directive(server: Client) -> None:
    text = 'import requests\nx = "\U0001f600"; requests.get(u)  # pitfall: ignore[PRT101]\n'
    uri = server.open("emoji.py", text)
    diags = server.diagnostics(uri, lambda d: any(x["code"] == "TMO101" for x in d))
    diag = next(d for d in diags if d["code"] == "TMO101")
    # `x = "😀"; ` is 9 code points but 10 UTF-16 code units
    assert diag["range"]["start"] == {"line": 1, "character": 10}
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": diag["range"], "context": {"diagnostics": [diag]}})
    ignore = next(a for a in actions if a["title"] == "Ignore TMO101 on this line")
    (edit,) = ignore["edit"]["changes"][uri]
    assert edit["newText"] == ", TMO101"
    assert edit["range"]["start"] == {"line": 1, "character": text.splitlines()[1].index("]") + 1}
    # the unused directive is LNT003, faded (Unnecessary) and offered no ignore of its own
    unused = server.diagnostics(uri, lambda d: any(x["code"] == "LNT003" for x in d))
    lnt003 = next(d for d in unused if d["code"] == "LNT003")
    assert lnt003["tags"] == [1]
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": lnt003["range"], "context": {"diagnostics": [lnt003]}})
    assert not any(a["title"].startswith("Ignore") for a in actions)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_code_action_without_diagnostics_uses_the_requested_lines(server: Client) -> None:
    uri = server.open("lines.py", "import requests\n\nrequests.post(u)\n")
    server.diagnostics(uri)
    none = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _range(0, 0, 0, 0), "context": {"diagnostics": []}})
    assert none == []
    some = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _range(2, 3, 2, 3), "context": {"diagnostics": []}})
    assert {a["title"] for a in some} == {"Fix: Add `timeout=10` (unsafe)", "Ignore TMO101 on this line"}
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert server.diagnostics(uri, lambda d: not d) == []


def test_yaml_pod_gets_psa_diagnostics(server: Client) -> None:
    uri = server.open("pod.yaml", POD, "yaml")
    diags = server.diagnostics(uri)
    assert {"PSA213", "PSA214", "PSA217", "PSA219"} <= _codes(diags)
    assert {d["severity"] for d in diags} == {1}
    psa213 = next(d for d in diags if d["code"] == "PSA213")
    assert psa213["range"]["start"] == {"line": 6, "character": 4}
    assert psa213["codeDescription"]["href"].endswith("/rules/PSA213/")
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": psa213["range"], "context": {"diagnostics": [psa213]}})
    assert [a["title"] for a in actions] == [
        "Fix: Set `securityContext.allowPrivilegeEscalation: false` on container `c` (unsafe)",
        "Ignore PSA213 on this line",
    ]
    (edit,) = actions[1]["edit"]["changes"][uri]
    assert edit == {"range": _range(6, 11, 6, 11), "newText": "  # pitfall: ignore[PSA213]"}
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_config_change_reloads_and_invalid_config_keeps_serving(server: Client) -> None:
    uri = server.open("reload.py", PY_BAD)
    assert _codes(server.diagnostics(uri)) == {"TMO101"}
    config = server.root / ".pitfall.toml"
    change = {"changes": [{"uri": config.as_uri(), "type": 1}]}
    try:
        config.write_text('ignore = ["TMO101"]\n')
        server.notify("workspace/didChangeWatchedFiles", change)
        assert server.diagnostics(uri, lambda d: not d) == []

        config.write_text('ignore = ["TMO101"]\nno-such-key = 1\n')
        server.notify("workspace/didChangeWatchedFiles", change)
        shown = server.wait(lambda: [m for m in server.messages() if "no-such-key" in m["message"]], what="showMessage")
        assert shown[0]["type"] == 1
        assert f"{config}:2" in shown[0]["message"]
        # still serving, with the default settings (TMO101 is back)
        assert _codes(server.diagnostics(uri)) == {"TMO101"}
        assert server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": _range(1, 0, 1, 0), "context": {"diagnostics": []}})
    finally:
        config.unlink()
        server.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": config.as_uri(), "type": 3}]})
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_helm_chart_is_rendered_on_open_and_save(server: Client) -> None:
    pytest.importorskip("helm_python")
    chart = server.root / "chart"
    write(
        chart,
        {
            "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
            "values.yaml": "image: nginx\n",
            "templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  containers:\n  - name: c\n    image: {{ .Values.image }}\n",
        },
    )
    template = chart / "templates" / "pod.yaml"
    uri = server.open("chart/templates/pod.yaml", template.read_text(), "yaml")
    diags = server.diagnostics(uri)
    assert {"PSA213", "PSA219"} <= _codes(diags)
    assert not any(d["code"] == "LNT001" for d in diags)  # never linted as plain YAML

    # an unsaved edit re-renders the chart with the buffer's text (the file on disk unchanged)
    secure = 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Release.Name }}\n  annotations:\n    ignore-check.pitfall.dev/PSA: "demo"\nspec:\n  containers:\n  - name: c\n    image: {{ .Values.image }}\n'
    before = template.read_text()
    server.change(uri, secure)
    assert not any(d["code"].startswith("PSA") for d in server.diagnostics(uri, lambda d: not any(x["code"].startswith("PSA") for x in d)))
    assert template.read_text() == before
    # back to the text on disk: the findings come back
    server.change(uri, before)
    assert {"PSA213", "PSA219"} <= _codes(server.diagnostics(uri, lambda d: any(x["code"] == "PSA213" for x in d)))
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_chart_hint_is_a_code_action_editing_values_yaml(server: Client) -> None:
    pytest.importorskip("helm_python")
    chart = server.root / "vchart"
    write(
        chart,
        {
            "Chart.yaml": "apiVersion: v2\nname: vchart\nversion: 0.1.0\n",
            "values.yaml": "image: nginx\nsecurityContext:\n  runAsUser: 1000\n",
            "templates/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: c\n    image: {{ .Values.image }}\n"
            "    securityContext:\n      {{- toYaml .Values.securityContext | nindent 6 }}\n",
        },
    )
    uri = server.open("vchart/templates/pod.yaml", (chart / "templates" / "pod.yaml").read_text(), "yaml")
    diags = server.diagnostics(uri, lambda d: any(x["code"] == "PSA213" for x in d))
    psa213 = next(d for d in diags if d["code"] == "PSA213")
    actions = server.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": psa213["range"], "context": {"diagnostics": [psa213]}})
    fix = next(a for a in actions if a["title"].startswith("Fix: "))
    assert fix["title"] == "Fix: Set `securityContext.allowPrivilegeEscalation: false` in values.yaml (unsafe)"
    (target,) = fix["edit"]["changes"]
    assert target == (chart / "values.yaml").as_uri()
    # the hint shows on the values.yaml line it names too, with the same fix
    values = server.open("vchart/values.yaml", (chart / "values.yaml").read_text(), "yaml")
    on_values = server.diagnostics(values, lambda d: any(x["code"] == "PSA213" for x in d))
    hinted = next(d for d in on_values if d["code"] == "PSA213")
    assert hinted["range"]["start"]["line"] == 1 and hinted["severity"] == 3  # `securityContext:`, information
    # an unsaved edit of values.yaml re-renders the chart: the template's finding goes
    server.change(values, "image: nginx\nsecurityContext:\n  runAsUser: 1000\n  allowPrivilegeEscalation: false\n")
    server.diagnostics(uri, lambda d: not any(x["code"] == "PSA213" for x in d))
    server.notify("textDocument/didClose", {"textDocument": {"uri": values}})
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_invalid_config_at_start_is_shown_and_server_runs_with_defaults(tmp_path: Path) -> None:
    (tmp_path / ".pitfall.toml").write_text('select = ["ALL"]\nbogus-key = 1\n')
    client = Client(tmp_path)
    try:
        client.initialize()
        shown = client.wait(lambda: client.messages(), what="showMessage")
        message = shown[0]["message"]
        assert shown[0]["type"] == 1
        assert f"{tmp_path / '.pitfall.toml'}:2" in message and "bogus-key" in message
        uri = client.open("app.py", PY_BAD)
        assert _codes(client.diagnostics(uri)) == {"TMO101"}
    finally:
        code = client.close()
    assert code == 0  # shutdown + exit: a clean exit


# ---------------------------------------------------------------------- in-process units


def test_ranges_and_ignore_edits_follow_lsp_line_breaks() -> None:
    from pygls.workspace import PositionCodec

    from linter.lsp import to_entries
    from linter.core.model import Finding, Region

    text = "a = 1\r\nb = f(x, \\\n      y)\r\nc = 2"
    findings = [
        Finding("TMO101", "x.py", Region(2, 5, 3, 9), "m", "warning"),
        Finding("TMO101", "x.py", Region(3, 7, 3, 8), "m", "note"),
        Finding("TMO101", "x.py", Region(4, 1, 5, 1), "m", "error"),  # ends past the last line
    ]
    cont, last_but_one, last = to_entries(findings, text, PositionCodec())
    assert cont.diagnostic.range.start.line == 1 and cont.diagnostic.range.end.line == 2
    assert cont.actions == ()  # no comment after a backslash continuation
    assert last_but_one.diagnostic.severity == 3  # note -> Information
    ((title, preferred, (edit,), target),) = last_but_one.actions
    assert target is None  # the finding's own document
    assert (title, preferred, edit.new_text) == ("Ignore TMO101 on this line", False, "  # pitfall: ignore[TMO101]")
    assert (edit.range.start.line, edit.range.start.character) == (2, 8)  # before the \r\n
    assert (last.diagnostic.range.end.line, last.diagnostic.range.end.character) == (4, 0)
    ((_, _, (edit,), _),) = last.actions
    assert (edit.range.start.line, edit.range.start.character) == (3, 5)


def test_an_exception_while_linting_becomes_a_log_message() -> None:
    import asyncio

    from linter.lsp import PitfallServer

    server = PitfallServer()
    server.loop = asyncio.new_event_loop()
    seen: list[tuple[Any, ...]] = []
    server.message = lambda *args: seen.append(args)  # type: ignore[method-assign]

    def boom() -> None:
        raise ValueError("chart exploded")

    try:
        server.guarded(boom)
        server.loop.run_until_complete(asyncio.sleep(0))
    finally:
        server.loop.close()
    assert seen and "ValueError: chart exploded" in seen[0][0]
