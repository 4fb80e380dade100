"""TLS in Kubernetes manifests: Ingress hosts without TLS, skipped certificate verification."""

from __future__ import annotations

import base64
import binascii
import re
import shlex
from collections.abc import Iterator
from typing import Any

from linter.kubernetes.objects import CheckContext, Hit
from linter.kubernetes.hooks.kube_common import as_dict, as_list, containers, message

Path_ = tuple[Any, ...]

# --------------------------------------------------------------------------- Ingress

# Annotations that hand TLS to the load balancer or controller instead of `spec.tls`.
TLS_ELSEWHERE = (
    "alb.ingress.kubernetes.io/certificate-arn",
    "networking.gke.io/managed-certificates",
    "ingress.gcp.kubernetes.io/pre-shared-cert",
    "appgw.ingress.kubernetes.io/appgw-ssl-certificate",
    "traefik.ingress.kubernetes.io/router.tls",
)


def _host_covered(host: str, patterns: list[str]) -> bool:
    host = host.lower().rstrip(".")
    for pattern in patterns:
        pattern = pattern.lower().rstrip(".")
        if pattern == host:
            return True
        if pattern.startswith("*.") and not host.startswith("*."):
            head, _, rest = host.partition(".")
            if head and rest == pattern[2:]:
                return True
    return False


def ingress_host_without_tls(ctx: CheckContext) -> Iterator[Hit]:
    """TLS201: a host of `spec.rules` that no `spec.tls[].hosts` covers, or a rule without a host
    in an Ingress without `spec.tls`."""
    annotations = as_dict(as_dict(ctx.obj.get("metadata")).get("annotations"))
    if any(key in annotations for key in TLS_ELSEWHERE):
        return
    spec = as_dict(ctx.obj.get("spec"))
    patterns: list[str] = []
    for entry in as_list(spec.get("tls")):
        hosts = as_dict(entry).get("hosts")
        if isinstance(entry, dict) and not hosts:
            return  # a tls entry without hosts: the controller applies it to every host
        patterns.extend(h for h in as_list(hosts) if isinstance(h, str))
    tls = any(isinstance(entry, dict) for entry in as_list(spec.get("tls")))
    for i, rule in enumerate(as_list(spec.get("rules"))):
        host = as_dict(rule).get("host")
        if isinstance(host, str) and host:
            if not _host_covered(host, patterns):
                yield Hit(("spec", "rules", i, "host"), message(ctx, target=f"host `{host}`"))
        elif isinstance(rule, dict) and not tls:
            # a rule without a host matches every host; with no `tls` entry at all nothing of
            # this Ingress is served over HTTPS
            yield Hit(("spec", "rules", i), message(ctx, target="the rule without a host (every host)"))


# --------------------------------------------------------------------------- skip-verify keys

SKIP_VERIFY_KEYS = (
    "insecureSkipVerify",  # Go tls.Config: prometheus-operator tlsConfig, Traefik ServersTransport, ...
    "insecure_skip_verify",  # Prometheus / Alertmanager / OpenTelemetry / Telegraf configs
    "insecureSkipTLSVerify",  # APIService, VictoriaMetrics
    "insecure-skip-tls-verify",  # kubeconfig clusters
    "tlsSkipVerify",  # Grafana datasources (jsonData)
    "tls_skip_verify_insecure",  # grafana.ini
)
_KEYS = "|".join(re.escape(k) for k in SKIP_VERIFY_KEYS)
# `key: true`, `"key": true`, `key = true`, `--key=true` on a line that is not commented out
_EMBEDDED = re.compile(
    r"^(?P<pre>[^\n#]*?)(?<![A-Za-z0-9_])[\"']?(?P<key>" + _KEYS + r")[\"']?[ \t]*[:=][ \t]*[\"']?(?:true|True|TRUE)\b",
    re.MULTILINE,
)
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _embedded(text: str) -> str | None:
    """The skip-verify key set to true inside a text value (a config file in a ConfigMap)."""
    m = _EMBEDDED.search(text)
    return m.group("key") if m is not None else None


def _decode(value: str) -> str | None:
    if len(value) < 16 or not _BASE64.fullmatch(value):
        return None
    try:
        return base64.b64decode("".join(value.split()), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _walk(node: Any, path: Path_) -> Iterator[tuple[Path_, Any, Any]]:
    stack: list[tuple[Any, Path_]] = [(node, path)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                yield where + (key,), key, value
                if isinstance(value, (dict, list)):
                    stack.append((value, where + (key,)))
        elif isinstance(current, list):
            for i, value in enumerate(current):
                yield where + (i,), i, value
                if isinstance(value, (dict, list)):
                    stack.append((value, where + (i,)))


def skip_verify(ctx: CheckContext) -> Iterator[Hit]:
    """TLS203: a skip-verify key set to true anywhere in the object, or in a config text it holds."""
    secret_data = ctx.kind == "Secret" and isinstance(ctx.obj.get("data"), dict)
    for path, key, value in _walk(ctx.obj, ()):
        if isinstance(key, str) and key in SKIP_VERIFY_KEYS and _truthy(value):
            yield Hit(path, message(ctx, detail=f"`{key}: true`"))
            continue
        if not isinstance(value, str):
            continue
        text: str | None = value
        if secret_data and len(path) == 2 and path[0] == "data":
            text = _decode(value)
        if not text:
            continue
        found = _embedded(text)
        if found is not None:
            where = f"`{key}`" if isinstance(key, str) else "the text"
            yield Hit(path, message(ctx, detail=f"{where} sets `{found}` to true"))


# --------------------------------------------------------------------------- containers

_FLAGS_ON = ("insecure-skip-tls-verify", "kubelet-insecure-tls", "skip-tls-verify", "tls-skip-verify")
_FLAGS_OFF = ("tls-verify", "src-tls-verify", "dest-tls-verify")
_FLAG = re.compile(r"-{1,2}(?P<name>[a-z][a-z0-9-]*)(?:=(?P<value>\S*))?\Z")


def _flag(token: str) -> str | None:
    m = _FLAG.match(token.strip("\"'"))
    if m is None:
        return None
    name, value = m.group("name"), (m.group("value") or "").strip("\"'").lower()
    if name in _FLAGS_ON and (m.group("value") is None or value in ("true", "1")):
        return m.group(0).strip("\"'")
    if name in _FLAGS_OFF and m.group("value") is not None and value in ("false", "0"):
        return m.group(0).strip("\"'")
    return None


_ENV_OFF: dict[str, tuple[tuple[str, ...], str]] = {
    "NODE_TLS_REJECT_UNAUTHORIZED": (("0",), "Node.js accepts any certificate"),
    "PYTHONHTTPSVERIFY": (("0",), "Python's HTTPS clients skip certificate verification (PEP 493)"),
    "CURL_CA_BUNDLE": (("",), "Python requests before 2.28 skips certificate verification"),
    "GIT_SSL_NO_VERIFY": (("true", "1", "yes"), "git skips certificate verification"),
    "VAULT_SKIP_VERIFY": (("true", "1"), "the Vault client skips certificate verification"),
}


# words before the command itself: wrappers and shell keywords (`if curl -k ...; then`)
_WRAPPERS = frozenset({"env", "exec", "command", "nice", "nohup", "sudo", "if", "then", "else", "elif", "do", "while", "until", "!", "{"})
# curl's short options that take an argument: in a bundle (`-sXPOST`) the rest is that argument
_CURL_ARG_OPTS = frozenset("ACDEFHKPQTUXYbcdehmortuwxyz")


def _tool_insecure(words: list[str]) -> str | None:
    """The option that makes this one command (argv) skip certificate verification, if any.

    `-k`/`--insecure` mean that only to curl, `--no-check-certificate` only to wget, so those are
    read for those tools alone; inline assignments (`VAULT_SKIP_VERIFY=true vault status`) are
    read like container env."""
    k = 0
    while k < len(words):
        word = words[k]
        name, eq, value = word.partition("=")
        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            off = _ENV_OFF.get(name)
            if off is not None and value.strip("\"'").strip().lower() in off[0]:
                return word
            k += 1
            continue
        if word.rsplit("/", 1)[-1] in _WRAPPERS:
            k += 1
            continue
        break
    if k >= len(words):
        return None
    tool = words[k].rsplit("/", 1)[-1]
    skip = False
    for word in words[k + 1:]:
        if skip:  # the argument of the option before (`-d -k` sends "-k")
            skip = False
            continue
        if word == "--":
            break
        if tool == "curl":
            if word in ("--insecure", "--proxy-insecure"):
                return f"curl {word}"
            if len(word) > 1 and word[0] == "-" and word[1] != "-":
                for n, ch in enumerate(word[1:], 2):
                    if ch == "k":
                        return f"curl {word}"
                    if ch in _CURL_ARG_OPTS:
                        skip = n == len(word)
                        break
        elif tool == "wget" and word == "--no-check-certificate":
            return f"wget {word}"
    return None


def _script_insecure(text: str) -> str | None:
    """`_tool_insecure` for each command of a shell text (`a && b; c | d`)."""
    try:
        lexer = shlex.shlex(text.replace("\n", " ; "), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:  # an unbalanced quote: read it word by word
        tokens = text.replace("\n", " ; ").split()
    command: list[str] = []
    for token in [*tokens, ";"]:
        if token and set(token) <= set(";&|()"):
            found = _tool_insecure(command)
            if found is not None:
                return found
            command = []
        else:
            command.append(token)
    return None


def _command_insecure(items: list[Any]) -> Iterator[tuple[int, str]]:
    """(index, what) of the items of a command list that turn verification off: a flag that does
    so for any tool, a curl/wget option in the exec form (`["curl", "-k", url]`), or either in a
    shell text (`sh -c "curl -k ..."`). One a item."""
    argv = [item if isinstance(item, str) else "" for item in items]
    found_argv = _tool_insecure(argv)
    for i, item in enumerate(argv):
        if not item:
            continue
        what = next((f for f in map(_flag, item.split()) if f is not None), None)
        if what is None and found_argv is not None and found_argv.split(" ", 1)[-1] == item:
            what = found_argv
        if what is None and any(ch.isspace() for ch in item.strip()):
            what = _script_insecure(item)
        if what is not None:
            yield i, what


_HANDLERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("livenessProbe", "exec", "command"), "the liveness probe's command"),
    (("readinessProbe", "exec", "command"), "the readiness probe's command"),
    (("startupProbe", "exec", "command"), "the startup probe's command"),
    (("lifecycle", "postStart", "exec", "command"), "the postStart hook's command"),
    (("lifecycle", "preStop", "exec", "command"), "the preStop hook's command"),
)


def container_verify_off(ctx: CheckContext) -> Iterator[Hit]:
    """TLS204: container args, command, probe or lifecycle commands, or env that turn certificate
    verification off."""
    for cpath, c, cname in containers(ctx.obj, init=True):
        lists: list[tuple[tuple[str, ...], Any, str]] = [((field,), c.get(field), field) for field in ("command", "args")]
        for keys, where in _HANDLERS:
            node: Any = c
            for key in keys:
                node = as_dict(node).get(key) if isinstance(node, dict) else None
            lists.append((keys, node, where))
        for keys, items, where in lists:
            for i, what in _command_insecure(as_list(items)):
                yield Hit(cpath + keys + (i,), message(ctx, container=cname, detail=f"`{what}` in {where} turns certificate verification off"))
        for i, env in enumerate(as_list(c.get("env"))):
            if not isinstance(env, dict) or "valueFrom" in env:
                continue
            name = env.get("name")
            if not isinstance(name, str) or name not in _ENV_OFF:
                continue
            raw = env.get("value", "")
            value = "" if raw is None else str(raw).strip().lower()
            values, why = _ENV_OFF[name]
            if value in values:
                at = cpath + ("env", i, "value") if "value" in env else cpath + ("env", i)
                shown = env.get("value", "")
                detail = f'env `{name}="{shown if shown is not None else ""}"`: {why}'
                yield Hit(at, message(ctx, container=cname, detail=detail))
