"""Timeout checks the declarative vocabulary cannot say (TMO1xx visitors)."""

from __future__ import annotations

from typing import Any

import libcst as cst

from linter.python.visitor import Context, Visitor, find_arg

# --------------------------------------------------------------------------- raw sockets


class _Frame:
    __slots__ = ("connects", "timed", "unix")

    def __init__(self) -> None:
        self.connects: list[tuple[str, cst.Call, tuple[int, int]]] = []
        self.timed: set[str] = set()
        self.unix: set[str] = set()


_TIMED = frozenset({"settimeout", "setblocking"})


class SocketConnectWithoutTimeout(Visitor):
    """TMO108: ``s = socket.socket(...)`` then ``s.connect(...)`` in the same function (or at module
    level) with no ``s.settimeout(...)``/``s.setblocking(...)`` there and no
    ``socket.setdefaulttimeout(<number>)`` in the module: the connect and every later
    ``recv`` block for as long as the peer keeps quiet."""

    TRIGGERS = ()
    TRIGGER_REGEX = r"\A(?=(?s:.*?)\.connect(?:_ex)?\()(?=(?s:.*?)\bsocket\b)"
    LOCAL = True
    # a finding is a `.connect(` in a function that creates its socket; the module-wide evidence
    # against it is a `setdefaulttimeout(...)` call
    CHUNK_REGEX = (r"\.connect(?:_ex)?\(", r"\bsetdefaulttimeout\b")

    def __init__(self, rule: Any, context: Context) -> None:
        super().__init__(rule, context)
        self.frames: list[_Frame] = [_Frame()]
        self.done: list[_Frame] = []
        self.default_timeout = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.frames.append(_Frame())

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.done.append(self.frames.pop())

    def leave_Module(self, original_node: cst.Module) -> None:
        # a `socket.setdefaulttimeout(...)` anywhere in the module covers every function
        if not self.default_timeout:
            for frame in [*self.done, self.frames[0]]:
                self._flush(frame)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._is_unix_socket(node.value):
            for t in node.targets:
                if isinstance(t.target, cst.Name):
                    self.frames[-1].unix.add(t.target.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name) and self._is_unix_socket(node.item):
            self.frames[-1].unix.add(node.asname.name.value)

    def _is_unix_socket(self, value: cst.BaseExpression) -> bool:
        if not isinstance(value, cst.Call) or self.resolve(value.func) != "socket.socket":
            return False
        status, family = find_arg(value, "family", 0)
        return status == "present" and family is not None and self.resolve(family) == "socket.AF_UNIX"

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        attr = func.attr.value
        if attr == "setdefaulttimeout" and self.resolve(func) == "socket.setdefaulttimeout":
            status, value = find_arg(node, "timeout", 0)
            if status != "missing" and not (isinstance(value, cst.Name) and value.value == "None"):
                self.default_timeout = True
            return
        if not isinstance(func.value, cst.Name):
            return
        name = func.value.value
        if attr in _TIMED:
            self.frames[-1].timed.add(name)
        elif attr in ("connect", "connect_ex") and self.resolve(func.value) == "socket.socket()":
            self.frames[-1].connects.append((name, node, self.context.where))

    def _flush(self, frame: _Frame) -> None:
        for name, call, where in frame.connects:
            if name not in frame.timed and name not in frame.unix:
                self.report(call, at=where, callee=self.context.code(call.func), name=name, qualname="socket.socket().connect")
