"""Retry checks the declarative vocabulary cannot say (RTY1xx visitors)."""

from __future__ import annotations

import re

import libcst as cst

from linter.python.visitor import Visitor

# calls that go over the network (qualified names through the file's imports)
_NETWORK_PREFIXES = (
    "requests.",
    "httpx.",
    "urllib3.",
    "urllib.request.",
    "http.client.",
    "aiohttp.",
    "smtplib.",
    "ftplib.",
    "imaplib.",
    "poplib.",
    "grpc.",
    "redis.",
    "psycopg2.",
    "psycopg.",
    "pymongo.",
    "asyncpg.",
    "boto3.",
    "botocore.",
    "websockets.",
    "paramiko.",
    "pika.",
    "aio_pika.",
    "kafka.",
    "xmlrpc.client.",
)
_NETWORK_EXACT = frozenset({"socket.create_connection", "socket.socket().connect", "socket.socket().connect_ex"})
_STUB = re.compile(r"(?:^|\.)\w+_pb2_grpc\.\w+Stub\(\)\.\w+")
# exceptions raised by a timeout: each failed attempt already waited that long
_TIMEOUT_ERRORS = re.compile(r"(?:^|\.)(?:timeout|TimeoutError|Timeout|ConnectTimeout|ReadTimeout|TimeoutException|ReadTimeoutError|ConnectTimeoutError|DeadlineExceeded)$")
# a call whose name says it paces the loop
_PACING = re.compile(r"(?:sleep|wait|backoff|throttle|delay|pause)", re.I)


def _is_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name) and test.value == "True":
        return True
    return isinstance(test, cst.Integer) and test.value not in ("0", "0x0", "0o0", "0b0")


class _Calls(cst.CSTVisitor):
    """Calls in a subtree, not descending into nested functions, classes or lambdas."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[cst.Call] = []
        self.exits = False  # a break/return that leaves the loop being examined
        self._loops = 0

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_For(self, node: cst.For) -> None:
        self._loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self._loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self._loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self._loops -= 1

    def visit_Return(self, node: cst.Return) -> None:
        self.exits = True

    def visit_Break(self, node: cst.Break) -> None:
        if self._loops == 0:
            self.exits = True


def _collect(nodes: list[cst.CSTNode]) -> _Calls:
    v = _Calls()
    for n in nodes:
        n.visit(v)
    return v


def _ends_with_continue(body: cst.BaseSuite) -> bool:
    if isinstance(body, cst.SimpleStatementSuite):  # `except E: continue`
        return bool(body.body) and isinstance(body.body[-1], cst.Continue)
    if isinstance(body, cst.IndentedBlock) and body.body:
        last = body.body[-1]
        return isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Continue)
    return False


class RetryLoopWithoutSleep(Visitor):
    """RTY107: ``while True:`` around ``try: <network call> ... break/return`` whose ``except``
    ends in ``continue``, with nothing in the loop that sleeps or waits: a failing peer is retried
    as fast as the CPU allows. Handlers that catch only timeouts are left alone (each failed
    attempt already waited for the timeout)."""

    TRIGGERS = ()
    # `while True`/`while 1`, a `continue` and a network module, anywhere in the file
    TRIGGER_REGEX = (
        r"\A(?=(?s:.*?)\bwhile[ \t]+(?:True|1)[ \t]*:)(?=(?s:.*?)\bcontinue\b)"
        r"(?=(?s:.*?)\b(?:requests|httpx|urllib3|urllib|http\.client|aiohttp|smtplib|ftplib|imaplib|poplib|grpc"
        r"|\w+_pb2_grpc|redis|psycopg2?|pymongo|asyncpg|boto3|botocore|websockets|paramiko|pika|aio_pika|kafka"
        r"|xmlrpc|socket)\b)"
    )

    LOCAL = True
    # a finding lies in a `while True:` loop that holds a `continue`; the client it calls may be
    # bound elsewhere (`self.session = requests.Session()` in a method), so a definition that
    # names a network module is kept too
    CHUNK_REGEX = (
        r"\bwhile[ \t]+(?:True|1)[ \t]*:(?s:.*?)\bcontinue\b",
        r"\b(?:requests|httpx|urllib3|urllib|http\.client|aiohttp|smtplib|ftplib|imaplib|poplib|grpc"
        r"|\w+_pb2_grpc|redis|psycopg2?|pymongo|asyncpg|boto3|botocore|websockets|paramiko|pika|aio_pika|kafka"
        r"|xmlrpc|socket)\b"
    )

    def visit_While(self, node: cst.While) -> None:
        if not _is_true(node.test) or not isinstance(node.body, cst.IndentedBlock):
            return
        whole = _collect([node.body])
        for call in whole.calls:
            name = call.func.attr.value if isinstance(call.func, cst.Attribute) else call.func.value if isinstance(call.func, cst.Name) else ""
            if _PACING.search(name):
                return
        for stmt in node.body.body:
            if not isinstance(stmt, cst.Try):
                continue
            attempt = _collect([stmt.body, *([stmt.orelse] if stmt.orelse else [])])
            if not attempt.exits:
                continue
            target = next((c for c in attempt.calls if self._is_network(c)), None)
            if target is None:
                continue
            for handler in stmt.handlers:
                if _ends_with_continue(handler.body) and not self._only_timeouts(handler):
                    self.report(node, callee=self.context.code(target.func), qualname=self.resolve(target.func) or "")
                    return

    def _is_network(self, call: cst.Call) -> bool:
        if not isinstance(call.func, (cst.Name, cst.Attribute)):
            return False
        qual = self.resolve(call.func)
        if not qual:
            return False
        return qual.startswith(_NETWORK_PREFIXES) or qual in _NETWORK_EXACT or bool(_STUB.search(qual))

    def _only_timeouts(self, handler: cst.ExceptHandler) -> bool:
        kind = handler.type
        if kind is None:
            return False
        items = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
        names = [self.resolve(i) if isinstance(i, (cst.Name, cst.Attribute)) else None for i in items]
        return all(n is not None and _TIMEOUT_ERRORS.search(n) for n in names)
