"""The ``certificate`` block of Kubernetes rules: certificates in ``kubernetes.io/tls`` Secrets.

A Kubernetes rule whose ``certificate`` block lists certificate issues (the same codes as a
``file`` rule's, :mod:`linter.certs.files`) reads the Secret's ``tls.crt`` (``stringData``
wins over ``data``, whose value is base64) with its key ``tls.key`` through the one
certificate analyzer, :func:`linter.certs.checks.check_certificates`, and keeps the issues of
its codes. The certificate is analysed once per Secret (the rules of one object run back to
back). Findings sit on the ``tls.crt`` key line; messages name subjects, serials, fingerprints
and dates, never key material; the rule's message gets the issue's text as ``{detail}`` and its
code as ``{code}``. Empty ``tls.crt`` values (placeholders filled in at deploy time) are skipped.

The check reads the present through ``linter.core.clock``: a result that holds a TLS Secret
expires when one of its certificates' answers would change (``_last`` keeps those moments with the
answer it memoises, and tells them to the clock again each time it serves it).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from linter.core import clock
from linter.kubernetes.objects import CheckContext, Hit

if TYPE_CHECKING:
    from linter.certs import checks as certs

TLS_TYPE = "kubernetes.io/tls"

_Field = tuple[tuple[Any, ...], bytes | None, str]
_Found = tuple[tuple[Any, ...], "list[certs.CertIssue]"]

_last: tuple[tuple[Any, ...], _Found | None, list[float]] | None = None


def _as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _field(obj: dict[str, Any], key: str) -> _Field | None:
    """(path, bytes or None when undecodable, why) of a Secret key; stringData wins over data."""
    string_data = _as_dict(obj.get("stringData"))
    if key in string_data and string_data[key] is not None:
        value = string_data[key]
        return ("stringData", key), str(value).encode("utf-8"), ""
    data = _as_dict(obj.get("data"))
    if key in data and data[key] is not None:
        value = data[key]
        if not isinstance(value, str):
            return ("data", key), None, "it is not a base64 string in `data`"
        try:
            return ("data", key), base64.b64decode("".join(value.split()), validate=True), ""
        except (binascii.Error, ValueError):
            return ("data", key), None, "it is not valid base64 in `data`"
    return None


def issues(obj: dict[str, Any], expiry_days: int) -> _Found | None:
    """(tls.crt path, issues) of a kubernetes.io/tls Secret, or None when there is nothing to check."""
    global _last
    if obj.get("kind") != "Secret" or obj.get("type") != TLS_TYPE:
        return None
    from linter.certs import checks as certs  # cryptography loads only for a run that has a TLS Secret

    crt = _field(obj, "tls.crt")
    key = _field(obj, "tls.key")
    cache_key = (crt, key, expiry_days)
    if _last is not None and _last[0] == cache_key and not (_last[2] and min(_last[2]) <= clock.now().timestamp()):
        clock.replay(_last[2])  # the same Secret, its answer still holding
        return _last[1]
    mark = clock.mark()
    result: _Found | None
    if crt is None:
        result = None
    else:
        path, data, why = crt
        if data is None:
            result = (path, [certs.CertIssue("unparsable", f"the value could not be parsed: {why}", 1, "error")])
        elif not data.strip():
            result = None
        else:
            key_bytes = key[1] if key is not None and key[1] else None
            found = certs.check_certificates(data, now=clock.now(), expiry_days=expiry_days, key=key_bytes)
            result = (path, found)
    _last = (cache_key, result, clock.since(mark))
    return result


def rule_hits(ctx: CheckContext) -> Iterator[Hit]:
    """The matcher of a Kubernetes rule's ``certificate`` block: the issues of its codes."""
    found = issues(ctx.obj, int(ctx.settings.cert_expiry_days))
    if found is None:
        return
    codes = ctx.rule.matcher["certificate"]
    path, items = found
    for issue in items:
        if issue.code in codes and issue.severity != "note":
            yield Hit(path, ctx.format(detail=issue.message, code=issue.code))
