"""Chart rule hooks: what the chart analyzer's ``chart`` block cannot say (see
linter.helm.analyzer for the protocol: a function of a ``ChartContext`` yielding ``ChartHit``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from linter.helm.analyzer import ChartContext, ChartHit

_PORT_VALUE_LINE = re.compile(r"^(\s*)(-\s+)?(containerPort|port|targetPort|nodePort|hostPort)\s*:\s*\{\{")
_PORT_LINE = re.compile(r"^(\s*)(-\s+)?(containerPort|port|targetPort|nodePort|hostPort)\s*:\s*(\d{1,5})\s*(?:#.*)?$")
_KEY_LINE = re.compile(r"^(\s*)(-\s+)?([A-Za-z_][\w.-]*)\s*:(?:\s|$)")
# values keys that set a port: `port`, `ports`, `httpPort`, `listen_port`, `metrics-port`
_PORT_VALUE_KEY = re.compile(r"^(?:[Pp]orts?|PORTS?|.*[a-z0-9](?:Port|Ports)|.*[_-](?:[Pp]orts?|PORTS?))$")
_ACTION = re.compile(r"\{\{.*?\}\}", re.S)
_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_]\w*)+)")
_PROBE_HANDLERS = frozenset({"httpGet", "tcpSocket", "grpc"})
_POLICY_RULE_LISTS = frozenset({"ingress", "egress"})
_KIND_LINE = re.compile(r"^kind:\s*[\"']?(\w+)")


def _value_ports(node: Any) -> dict[int, set[tuple[str, ...]]]:
    """Port numbers the values set, each with the values paths that hold it (list items dropped).

    A number counts under a port-named key (`port`, `targetPort`, `listen_port`, a `ports` list of
    numbers). A NetworkPolicy rule list in values (`ingress:`/`egress:` as a list) is an allow-list
    of other ports, not a port something listens on, so its numbers do not count."""
    out: dict[int, set[tuple[str, ...]]] = {}
    stack: list[tuple[Any, tuple[str, ...], bool]] = [(node, (), False)]
    while stack:
        cur, path, portish = stack.pop()
        if isinstance(cur, bool):
            continue
        if isinstance(cur, int):
            if portish and path and 0 < cur <= 65535:
                out.setdefault(cur, set()).add(path)
        elif isinstance(cur, dict):
            for k, v in cur.items():
                if not isinstance(k, str) or (k in _POLICY_RULE_LISTS and isinstance(v, list)):
                    continue
                stack.append((v, (*path, k), bool(_PORT_VALUE_KEY.match(k))))
        elif isinstance(cur, list):
            stack.extend((v, path, portish) for v in cur)
    return out


def _read_values(text: str) -> set[tuple[str, ...]]:
    """The values paths a template reads, except those it writes into an address (`host:{{ ... }}`
    dials another server's port, which says nothing about the ports this template's pods open)."""
    out: set[tuple[str, ...]] = set()
    for action in _ACTION.finditer(text):
        if action.start() and text[action.start() - 1] == ":":
            continue
        out.update(tuple(ref.split(".")[1:]) for ref in _VALUES_REF.findall(action.group()))
    return out


def _reads(paths: set[tuple[str, ...]], read: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The first of these values paths whose neighbourhood the template reads, or None.

    The template must read a value that shares with the port's path its first two keys (its first
    key when the port sits directly under a top-level key): `server.readinessProbe.port` belongs to
    a template that reads `server.readinessProbe.*`, not to one that reads only `server.image`."""
    for path in sorted(paths):
        need = max(1, min(2, len(path) - 1))
        if any(ref[:need] == path[:need] for ref in read if len(ref) >= need):
            return path
    return None


def _free_values(templates: dict[str, str]) -> set[tuple[str, ...]]:
    """Values paths the templates write into port keys, but only into keys no container port
    must agree with (`port: {{ .Values.service.port }}` beside a targetPort, `nodePort: ...`)."""
    bound: set[tuple[str, ...]] = set()
    free: set[tuple[str, ...]] = set()
    for rel, text in templates.items():
        if not rel.startswith("templates/"):
            continue
        lines = text.splitlines()
        for i, line in enumerate(lines):
            m = _PORT_VALUE_LINE.match(line)
            if not m:
                continue
            refs = {tuple(ref.split(".")[1:]) for ref in _VALUES_REF.findall(line)}
            if not refs:
                continue
            ancestors, siblings, kind = _context(lines, i)
            (bound if _bound_to_container(m.group(3), ancestors, siblings, kind) else free).update(refs)
    return free - bound


def _structural(line: str) -> bool:
    s = line.strip()
    return bool(s) and not s.startswith("#") and not s.startswith("{{")


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _context(lines: list[str], i: int) -> tuple[list[str], set[str], str | None]:
    """The keys above line ``i`` (innermost first; `-` for a list item), the keys beside it in
    its mapping, and the kind of the document it is in, read from the template's indentation."""
    line = lines[i]
    m = _KEY_LINE.match(line)
    lead = _lead(line)
    item = bool(m and m.group(2))
    key_col = lead + (len(m.group(2)) if item and m else 0)
    siblings: set[str] = set()
    # siblings: the same mapping, upwards to the line that opens it and downwards to the next dedent
    for step in (-1, 1):
        j = i + step
        while 0 <= j < len(lines):
            s = lines[j]
            if _structural(s):
                km = _KEY_LINE.match(s)
                lj = _lead(s)
                if km is None:
                    if lj < key_col:
                        break
                elif km.group(2):  # a list item line
                    if lj + len(km.group(2)) == key_col and step == -1:
                        siblings.add(km.group(3))
                        break
                    if lj < key_col:
                        break
                elif lj == key_col:
                    siblings.add(km.group(3))
                elif lj < key_col:
                    break
            j += step
    ancestors: list[str] = ["-"] if item else []
    cur, cur_item = lead, item
    kind = None
    for j in range(i - 1, -1, -1):
        s = lines[j]
        if s.startswith("---"):
            break
        if not _structural(s):
            continue
        lj = _lead(s)
        km = _KEY_LINE.match(s)
        is_item = s.lstrip().startswith("-")
        if lj < cur or (lj == cur and cur_item and not is_item):
            if is_item:
                ancestors.append("-")
            elif km:
                ancestors.append(km.group(3))
            cur, cur_item = lj, is_item
        if lj == 0 and kind is None:
            k = _KIND_LINE.match(s)
            if k:
                kind = k.group(1)
    if kind is None:
        for s in lines[i + 1:]:
            if s.startswith("---"):
                break
            k = _KIND_LINE.match(s)
            if k:
                kind = k.group(1)
                break
    return ancestors, siblings, kind


def _bound_to_container(key: str, ancestors: list[str], siblings: set[str], kind: str | None) -> bool:
    """Whether this literal names the port a container listens on, so it must agree with it.

    `containerPort`, a numeric `targetPort` and a probe's port do. A Service's `port` does only
    when the item has no `targetPort` (which then defaults to it); with one, the Service's own port
    is free. An ingress NetworkPolicy port is the pod's port; an egress one is some other
    server's (the API server, DNS). `hostPort` and `nodePort` are chosen on the node's side."""
    if key in ("containerPort", "targetPort"):
        return "egress" not in ancestors
    if key != "port":
        return False
    if "egress" in ancestors:
        return False
    if _PROBE_HANDLERS.intersection(ancestors[:1]):
        return True
    if "ingress" in ancestors and kind == "NetworkPolicy":
        return True
    if ancestors[:2] == ["-", "ports"] and kind == "Service":
        return "targetPort" not in siblings
    return False


def hardcoded_port(ctx: ChartContext) -> Iterator[ChartHit]:
    """A literal container port in a template that equals a port the chart's values set.

    The chart lets the user change that port in values; this literal stays behind and the two
    disagree. A literal the values never set is the application's own fixed port (the chart
    exposes no setting for it), and it is not reported; nor is a number that values set only
    for a part of the chart the template never reads (another component's port)."""
    if ctx.packaged:
        return
    ports = _value_ports(ctx.defaults)
    if not ports:
        return
    # a value the templates write only where no container listens (a Service's own `port` beside
    # its targetPort, a nodePort) is not a container's port: a literal equal to it is free
    free = _free_values(ctx.templates)
    ports = {n: kept for n, paths in ports.items() if (kept := {p for p in paths if p not in free})}
    for rel, text in sorted(ctx.templates.items()):
        if not rel.startswith("templates/"):
            continue
        lines = text.splitlines()
        read = _read_values(text)
        for i, line in enumerate(lines):
            m = _PORT_LINE.match(line)
            if not m:
                continue
            number = int(m.group(4))
            value = _reads(ports.get(number, set()), read)
            if value is None:
                continue
            ancestors, siblings, kind = _context(lines, i)
            if _bound_to_container(m.group(3), ancestors, siblings, kind):
                message = ctx.rule.message.format(key=m.group(3), port=m.group(4), value=".".join(value))
                yield ChartHit(rel, i + 1, message)
