"""Certificates in ``kubernetes.io/tls`` Secrets, checked with :mod:`linter.certs.analyzer`.

Each rule (TLS210-TLS215) keeps the certificate issues of its codes; the certificate is
parsed once per Secret (the rules of one object run back to back). Findings sit on the
``tls.crt`` key line; messages name subjects, serials, fingerprints and dates, never key
material. Empty ``tls.crt`` values (placeholders filled in at deploy time) are skipped.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from linter.kubernetes.analyzer import CheckContext, Hit
from linter.kubernetes.hooks.kube_common import as_dict, message

if TYPE_CHECKING:
    from linter.certs import analyzer as certs

TLS_TYPE = "kubernetes.io/tls"

_last: tuple[tuple[Any, ...], tuple[tuple[Any, ...], list[certs.CertIssue]] | None] | None = None


def _field(obj: dict[str, Any], key: str) -> tuple[tuple[Any, ...], bytes | None, str] | None:
    """(path, bytes or None when undecodable, why) of a Secret key; stringData wins over data."""
    string_data = as_dict(obj.get("stringData"))
    if key in string_data and string_data[key] is not None:
        value = string_data[key]
        return ("stringData", key), str(value).encode("utf-8"), ""
    data = as_dict(obj.get("data"))
    if key in data and data[key] is not None:
        value = data[key]
        if not isinstance(value, str):
            return ("data", key), None, "it is not a base64 string in `data`"
        try:
            return ("data", key), base64.b64decode("".join(value.split()), validate=True), ""
        except (binascii.Error, ValueError):
            return ("data", key), None, "it is not valid base64 in `data`"
    return None


def issues(ctx: CheckContext) -> tuple[tuple[Any, ...], list[certs.CertIssue]] | None:
    """(tls.crt path, issues) of a kubernetes.io/tls Secret, or None when there is nothing to check."""
    global _last
    obj = ctx.obj
    if ctx.kind != "Secret" or obj.get("type") != TLS_TYPE:
        return None
    from linter.certs import analyzer as certs  # cryptography loads only for a run that has a TLS Secret

    crt = _field(obj, "tls.crt")
    key = _field(obj, "tls.key")
    days = int(ctx.settings.cert_expiry_days)
    cache_key = (crt, key, days)
    if _last is not None and _last[0] == cache_key:
        return _last[1]
    result: tuple[tuple[Any, ...], list[certs.CertIssue]] | None
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
            found = certs.check_certificates(data, now=datetime.now(timezone.utc), expiry_days=days, key=key_bytes)
            result = (path, found)
    _last = (cache_key, result)
    return result


def _report(ctx: CheckContext, codes: tuple[str, ...]) -> Iterator[Hit]:
    found = issues(ctx)
    if found is None:
        return
    path, items = found
    for issue in items:
        if issue.code in codes and issue.severity != "note":
            yield Hit(path, message(ctx, detail=issue.message, code=issue.code))


def expired(ctx: CheckContext) -> Iterator[Hit]:
    """TLS210: expired or not yet valid."""
    yield from _report(ctx, ("expired", "not-yet-valid"))


def expiring(ctx: CheckContext) -> Iterator[Hit]:
    """TLS211: expires within ``cert-expiry-days``."""
    yield from _report(ctx, ("expiring",))


def weak(ctx: CheckContext) -> Iterator[Hit]:
    """TLS212: SHA-1/MD5 signature, RSA key under 2048 bits, EC key under 256 bits."""
    yield from _report(ctx, ("weak-signature", "weak-key"))


def without_san(ctx: CheckContext) -> Iterator[Hit]:
    """TLS213: a server certificate without subjectAltName."""
    yield from _report(ctx, ("no-san",))


def key_mismatch(ctx: CheckContext) -> Iterator[Hit]:
    """TLS214: tls.key (or a key bundled in tls.crt) does not match the certificate."""
    yield from _report(ctx, ("key-mismatch",))


def unparsable(ctx: CheckContext) -> Iterator[Hit]:
    """TLS215: tls.crt that does not parse as a certificate."""
    yield from _report(ctx, ("unparsable",))
