"""Certificate and private-key checks, shared by the certificate files' analyzer
(:mod:`linter.certs.files`) and Kubernetes TLS Secrets (:mod:`linter.kubernetes.certificates`).

Pure functions over bytes: nothing here reads files, prints, or raises on bad
input.  Messages name subjects, serials, SHA-256 certificate fingerprints,
algorithms, key sizes and dates -- never key material.

Division of labour, so that a caller running both checks on one file reports
every block once:

* :func:`check_certificates` looks at certificate blocks (and reports
  ``unparsable`` for those), plus private keys only to compare them with the
  leaf certificate (``key-mismatch``).
* :func:`check_private_keys` looks at private-key blocks (and reports
  ``unparsable`` for those).

PEM blocks whose body is a template or placeholder (``{{ .Values.tls.crt }}``,
``${CERT}``, ``<your cert here>``, ``...``) are skipped by both: Helm charts and
docs are full of them and they are not broken certificates.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CODES",
    "SEVERITY",
    "CertIssue",
    "PemBlock",
    "cert_summary",
    "check_certificates",
    "check_private_keys",
    "looks_like_cert_or_key",
    "pem_blocks",
]

SEVERITY: dict[str, str] = {
    "expired": "error",
    "expiring": "warning",
    "not-yet-valid": "warning",
    "weak-signature": "error",
    "weak-key": "error",
    "no-san": "warning",
    "key-mismatch": "error",
    "unencrypted-private-key": "error",
    "unparsable": "error",
}
CODES: tuple[str, ...] = tuple(SEVERITY)

MIN_DSA_BITS = 2048

CERT_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"})
ENCRYPTED_KEY_LABEL = "ENCRYPTED PRIVATE KEY"
PLAIN_KEY_LABELS = frozenset(
    {
        "PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "ANY PRIVATE KEY",
    }
)
KEY_LABELS = PLAIN_KEY_LABELS | {ENCRYPTED_KEY_LABEL}

# Exceptions that must never be swallowed.  Everything else coming out of a
# parser is "bad bytes" -- including pyo3's PanicException, which derives from
# BaseException, should a Rust parser ever panic on hostile input.
_FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit)


@dataclass(frozen=True, slots=True)
class CertIssue:
    code: str  # one of CODES
    message: str  # never contains key material
    line: int  # 1-based line where the offending PEM block begins (1 for DER)
    severity: str  # "error" | "warning" | "note"


@dataclass(frozen=True, slots=True)
class PemBlock:
    label: str  # "CERTIFICATE", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", ...
    line: int  # 1-based line of the BEGIN marker
    data: bytes  # the DER bytes (b"" when ``error`` is set or for placeholders)
    headers: tuple[tuple[str, str], ...] = ()  # RFC 1421 headers, e.g. Proc-Type
    error: str | None = None  # why the block is broken (no END, bad base64, ...)
    placeholder: bool = False  # body is a template/placeholder, not data


def _issue(code: str, message: str, line: int, severity: str | None = None) -> CertIssue:
    return CertIssue(code, message, line, severity or SEVERITY[code])


def _as_bytes(data: bytes | bytearray | memoryview | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8", "replace")
    return bytes(data)


# --------------------------------------------------------------------------- PEM

_LABEL = rb"([A-Za-z0-9][A-Za-z0-9 ._/+]*?)"
_BEGIN_RE = re.compile(rb"-----BEGIN " + _LABEL + rb"-----")
_END_RE = re.compile(rb"-----END " + _LABEL + rb"-----")
# A BEGIN marker for a certificate or private key that ends its line: real PEM, not a Python string such as
# ``"-----BEGIN CERTIFICATE-----\n"`` in code.
_SNIFF_RE = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*?(?:CERTIFICATE|PRIVATE KEY)-----[ \t]*(?:\r|\n|\Z)")
_WS_RE = re.compile(rb"\s+")
_PLACEHOLDER_RE = re.compile(rb"[{}<>$%_]|\.\.\.|\xe2\x80\xa6")  # ... and U+2026
_BASE64_TEXT_RE = re.compile(rb"[A-Za-z0-9+/=\s]+")


def _begin_at_end_of(line: bytes) -> re.Match[bytes] | None:
    """A BEGIN marker followed by nothing but whitespace on its line: OpenSSL's PEM reader
    takes no other line for the start of a block (a suppression comment goes on a line of its
    own before the block, where PEM readers skip text)."""
    for m in _BEGIN_RE.finditer(line):
        if not line[m.end() :].strip():
            return m
    return None


class _Open:
    __slots__ = ("label", "line", "headers", "body", "in_headers")

    def __init__(self, label: str, line: int) -> None:
        self.label = label
        self.line = line
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.in_headers = True

    def feed(self, raw: bytes) -> None:
        text = raw.strip()
        if self.in_headers:
            if b":" in text:
                name, _, value = text.partition(b":")
                self.headers.append((name.strip().decode("ascii", "replace"), value.strip().decode("ascii", "replace")))
                return
            self.in_headers = False
            if not text:
                return
        if text:
            self.body.append(text)

    def close(self, end_label: str | None, error: str | None = None) -> PemBlock:
        headers = tuple(self.headers)
        body = _WS_RE.sub(b"", b"".join(self.body))
        if error is None and end_label is not None and end_label != self.label:
            error = f"END marker says {end_label!r} but BEGIN says {self.label!r}"
        if body and _PLACEHOLDER_RE.search(body):
            return PemBlock(self.label, self.line, b"", headers, error, placeholder=True)
        if error is not None:
            return PemBlock(self.label, self.line, b"", headers, error)
        if not body:
            return PemBlock(self.label, self.line, b"", headers, "empty block")
        if len(body) % 4:
            return PemBlock(
                self.label, self.line, b"", headers, "base64 body length is not a multiple of 4 (truncated?)"
            )
        try:
            der = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return PemBlock(self.label, self.line, b"", headers, "invalid base64 in body")
        return PemBlock(self.label, self.line, der, headers)


def pem_blocks(data: bytes) -> list[PemBlock]:
    """All PEM blocks in ``data`` with the 1-based line of their BEGIN marker.

    Tolerates CRLF and CR line ends, indentation (PEM inside YAML or a Python
    string), text before, between and after blocks, and a BEGIN glued to the
    previous END.  A BEGIN marker only opens a block when nothing but
    whitespace, or a ``# comment``, follows it on its line.  Broken blocks are returned with
    ``error`` set and empty ``data``; template bodies with ``placeholder``.
    """
    raw = _as_bytes(data)
    blocks: list[PemBlock] = []
    cur: _Open | None = None
    for lineno, line in enumerate(raw.splitlines(), 1):
        rest = line
        if cur is not None:
            m_end = _END_RE.search(line)
            if m_end is not None:
                cur.feed(line[: m_end.start()])
                blocks.append(cur.close(m_end.group(1).decode("ascii")))
                cur = None
                rest = line[m_end.end() :]
            else:
                m_begin = _begin_at_end_of(line)
                if m_begin is None:
                    cur.feed(line)
                    continue
                blocks.append(cur.close(None, "no END marker before the next BEGIN"))
                cur = None
        m_begin = _begin_at_end_of(rest)
        if m_begin is not None:
            cur = _Open(m_begin.group(1).decode("ascii"), lineno)
    if cur is not None:
        blocks.append(cur.close(None, "no END marker (truncated?)"))
    return blocks


# --------------------------------------------------------------------------- DER


def _der_tlv(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """``(tag, content_start, content_end)`` of the DER element at ``pos``."""
    if pos + 2 > len(buf):
        return None
    tag = buf[pos]
    if tag & 0x1F == 0x1F:  # multi-byte tags never occur where we look
        return None
    first = buf[pos + 1]
    start = pos + 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or start + n > len(buf):
            return None
        length = int.from_bytes(buf[start : start + n], "big")
        start += n
    end = start + length
    if end > len(buf):
        return None
    return tag, start, end


def _der_children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end:
        tlv = _der_tlv(buf, pos)
        if tlv is None or tlv[2] > end:
            break
        out.append(tlv)
        pos = tlv[2]
    return out


def _der_cert_prefix(buf: bytes) -> bytes | None:
    """The leading SEQUENCE-of-SEQUENCE element, i.e. what a DER certificate
    looks like from the outside, or None."""
    outer = _der_tlv(buf, 0)
    if outer is None or outer[0] != 0x30:
        return None
    inner = _der_tlv(buf, outer[1])
    if inner is None or inner[0] != 0x30:
        return None
    return buf[: outer[2]]


def _decode_oid(body: bytes) -> str:
    if not body:
        return ""
    parts: list[int] = []
    value = 0
    for byte in body:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    if not parts:
        return ""
    first = parts[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(p) for p in head + parts[1:])


# Named curves by OID, for certificates whose key the backend cannot load.
_EC_CURVES: dict[str, tuple[str, int]] = {
    "1.3.132.0.6": ("secp112r1", 112),
    "1.3.132.0.7": ("secp112r2", 112),
    "1.3.132.0.28": ("secp128r1", 128),
    "1.3.132.0.29": ("secp128r2", 128),
    "1.3.132.0.9": ("secp160k1", 160),
    "1.3.132.0.8": ("secp160r1", 160),
    "1.3.132.0.30": ("secp160r2", 160),
    "1.3.132.0.1": ("sect163k1", 163),
    "1.3.132.0.15": ("sect163r2", 163),
    "1.3.132.0.31": ("secp192k1", 192),
    "1.2.840.10045.3.1.1": ("secp192r1", 192),
    "1.3.132.0.32": ("secp224k1", 224),
    "1.3.132.0.33": ("secp224r1", 224),
    "1.3.132.0.26": ("sect233k1", 233),
    "1.3.132.0.27": ("sect233r1", 233),
    "1.2.840.10045.3.1.7": ("secp256r1", 256),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.36.3.3.2.8.1.1.1": ("brainpoolP160r1", 160),
    "1.3.36.3.3.2.8.1.1.3": ("brainpoolP192r1", 192),
    "1.3.36.3.3.2.8.1.1.5": ("brainpoolP224r1", 224),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.9": ("brainpoolP320r1", 320),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}
_EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"


def _cert_ec_curve_oid(der: bytes) -> str | None:
    """The named-curve OID of a DER certificate's EC subjectPublicKeyInfo."""
    cert = _der_tlv(der, 0)
    if cert is None:
        return None
    tbs = _der_tlv(der, cert[1])
    if tbs is None:
        return None
    fields = _der_children(der, tbs[1], tbs[2])
    if fields and fields[0][0] == 0xA0:  # explicit version
        fields = fields[1:]
    if len(fields) < 6:
        return None
    spki = fields[5]
    alg = _der_tlv(der, spki[1])
    if alg is None or alg[0] != 0x30:
        return None
    parts = _der_children(der, alg[1], alg[2])
    if len(parts) < 2 or parts[0][0] != 0x06 or parts[1][0] != 0x06:
        return None
    if _decode_oid(der[parts[0][1] : parts[0][2]]) != _EC_PUBLIC_KEY_OID:
        return None
    return _decode_oid(der[parts[1][1] : parts[1][2]])


# ------------------------------------------------------------------- parsing


def _load_cert(der: bytes, label: str = "CERTIFICATE") -> x509.Certificate:
    """Parse eagerly so a malformed certificate fails here, not mid-check."""
    if label == "TRUSTED CERTIFICATE":  # OpenSSL appends trust settings
        der = _der_cert_prefix(der) or der
    cert = x509.load_der_x509_certificate(der)
    cert.subject, cert.issuer, cert.extensions  # noqa: B018 - force parsing
    _validity(cert)
    return cert


def _try_load_cert(der: bytes, label: str = "CERTIFICATE") -> tuple[x509.Certificate | None, str]:
    try:
        return _load_cert(der, label), ""
    except _FATAL:
        raise
    except UnsupportedAlgorithm:
        return None, "unsupported algorithm"
    except BaseException:  # noqa: BLE001 - bad bytes never raise
        return None, "not a valid X.509 certificate"


def _validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    before = getattr(cert, "not_valid_before_utc", None)
    after = getattr(cert, "not_valid_after_utc", None)
    if before is None:  # cryptography < 42: naive datetimes in UTC
        before = cert.not_valid_before.replace(tzinfo=timezone.utc)
    if after is None:
        after = cert.not_valid_after.replace(tzinfo=timezone.utc)
    return before, after


def _openssh_cipher(der: bytes) -> str | None:
    magic = b"openssh-key-v1\x00"
    if not der.startswith(magic) or len(der) < len(magic) + 4:
        return None
    n = int.from_bytes(der[len(magic) : len(magic) + 4], "big")
    name = der[len(magic) + 4 : len(magic) + 4 + n]
    if len(name) != n or not name.isascii():
        return None
    return name.decode("ascii")


def _pem_text(label: str, der: bytes) -> bytes:
    b64 = base64.b64encode(der)
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    head = f"-----BEGIN {label}-----\n".encode()
    tail = f"-----END {label}-----\n".encode()
    return head + b"\n".join(lines) + b"\n" + tail


def _is_legacy_encrypted(block: PemBlock) -> bool:
    return any(name.lower() == "proc-type" and "ENCRYPTED" in value.upper() for name, value in block.headers)


# Result of opening a private key: ("ok", key) | ("encrypted", None) |
# ("unsupported", None) | ("invalid", None)
_KeyResult = tuple[str, Any]


def _open_key_block(block: PemBlock) -> _KeyResult:
    if block.label == ENCRYPTED_KEY_LABEL or _is_legacy_encrypted(block):
        return "encrypted", None
    try:
        if block.label == "OPENSSH PRIVATE KEY":
            cipher = _openssh_cipher(block.data)
            if cipher is None:
                return "invalid", None
            if cipher != "none":
                return "encrypted", None
            return "ok", serialization.load_ssh_private_key(_pem_text(block.label, block.data), None)
        if block.label == "ANY PRIVATE KEY":
            return "ok", serialization.load_der_private_key(block.data, None)
        return "ok", serialization.load_pem_private_key(_pem_text(block.label, block.data), None)
    except _FATAL:
        raise
    except TypeError:  # "Password was not given but private key is encrypted"
        return "encrypted", None
    except UnsupportedAlgorithm:
        return "unsupported", None
    except BaseException:  # noqa: BLE001 - bad bytes never raise
        return "invalid", None


def _open_der_key(der: bytes) -> _KeyResult:
    if _der_tlv(der, 0) is None or der[0] != 0x30:
        return "invalid", None
    try:
        return "ok", serialization.load_der_private_key(der, None)
    except _FATAL:
        raise
    except TypeError:
        return "encrypted", None
    except UnsupportedAlgorithm:
        return "unsupported", None
    except BaseException:  # noqa: BLE001
        return "invalid", None


# ---------------------------------------------------------------- describing

_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _clean(text: str, limit: int = 120) -> str:
    text = _UNPRINTABLE_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _cert_name(cert: x509.Certificate) -> str:
    try:
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if cns:
            value = cns[0].value
            return "CN=" + _clean(value if isinstance(value, str) else value.decode("utf-8", "replace"))
        text = cert.subject.rfc4514_string()
        if text:
            return _clean(text)
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001
        pass
    return "with empty subject"


def _serial(cert: x509.Certificate) -> str:
    try:
        n = cert.serial_number
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001
        return "?"
    return f"-{-n:#x}" if n < 0 else f"{n:#x}"


def _fingerprint(cert: x509.Certificate) -> str:
    try:
        return cert.fingerprint(hashes.SHA256()).hex(":")
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001
        return "?"


def cert_summary(cert: x509.Certificate) -> str:
    """``"CN=example.com, serial 0x1f, SHA-256 fingerprint ab:cd:..."``."""
    return f"{_cert_name(cert)}, serial {_serial(cert)}, SHA-256 fingerprint {_fingerprint(cert)}"


def _key_desc(public_key: Any) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA {public_key.key_size}-bit"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC {public_key.curve.name} ({public_key.curve.key_size}-bit)"
    if isinstance(public_key, dsa.DSAPublicKey):
        return f"DSA {public_key.key_size}-bit"
    name = type(public_key).__name__
    for suffix in ("PublicKey", "PrivateKey"):
        name = name.removesuffix(suffix)
    return name or "unknown"


def _weak_key(public_key: Any, min_rsa_bits: int, min_ec_bits: int) -> str | None:
    """Why ``public_key`` is too weak, or None."""
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < min_rsa_bits:
        return f"a {public_key.key_size}-bit RSA key (minimum {min_rsa_bits})"
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.key_size < min_ec_bits:
        curve = public_key.curve
        return f"an EC key on curve {curve.name} ({curve.key_size}-bit, minimum {min_ec_bits})"
    if isinstance(public_key, dsa.DSAPublicKey) and public_key.key_size < MIN_DSA_BITS:
        return f"a {public_key.key_size}-bit DSA key (minimum {MIN_DSA_BITS})"
    return None


def _spki(public_key: Any) -> bytes:
    spki: bytes = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return spki


def _when(delta: timedelta, *, past: bool) -> str:
    days = int(abs(delta.total_seconds()) // 86400)
    if days == 0:
        span = "less than a day"
    elif days == 1:
        span = "1 day"
    else:
        span = f"{days} days"
    return f"{span} ago" if past else f"in {span}"


def _utc(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        return now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc)


# ------------------------------------------------------- certificate checks

_WEAK_SIGNATURES: dict[str, tuple[str, str]] = {
    "1.2.840.113549.1.1.2": ("MD2", "md2WithRSAEncryption"),
    "1.2.840.113549.1.1.3": ("MD4", "md4WithRSAEncryption"),
    "1.2.840.113549.1.1.4": ("MD5", "md5WithRSAEncryption"),
    "1.3.14.3.2.3": ("MD5", "md5WithRSA"),
    "1.2.840.113549.1.1.5": ("SHA-1", "sha1WithRSAEncryption"),
    "1.3.14.3.2.29": ("SHA-1", "sha1WithRSA"),
    "1.2.840.10045.4.1": ("SHA-1", "ecdsa-with-SHA1"),
    "1.2.840.10040.4.3": ("SHA-1", "dsa-with-sha1"),
    "1.3.14.3.2.27": ("SHA-1", "dsaWithSHA1"),
}
_WEAK_HASHES = {"md2": "MD2", "md4": "MD4", "md5": "MD5", "sha1": "SHA-1"}
_ANY_EKU = x509.ObjectIdentifier("2.5.29.37.0")


def _weak_signature(cert: x509.Certificate) -> tuple[str, str] | None:
    oid = cert.signature_algorithm_oid
    hit = _WEAK_SIGNATURES.get(oid.dotted_string)
    if hit is not None:
        return hit
    try:  # e.g. RSASSA-PSS with SHA-1 in its parameters
        algorithm = cert.signature_hash_algorithm
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001 - unknown algorithm: nothing to say
        return None
    if algorithm is not None and algorithm.name in _WEAK_HASHES:
        return _WEAK_HASHES[algorithm.name], getattr(oid, "_name", oid.dotted_string)
    return None


def _extension(cert: x509.Certificate, cls: type) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = _extension(cert, x509.BasicConstraints)
    return bool(constraints is not None and constraints.ca)


def _is_server_cert(cert: x509.Certificate) -> bool:
    """False only when an extendedKeyUsage rules out TLS server use."""
    usage = _extension(cert, x509.ExtendedKeyUsage)
    if usage is None:
        return True
    return ExtendedKeyUsageOID.SERVER_AUTH in usage or _ANY_EKU in usage


def _moments(now: datetime, before: datetime, after: datetime, expiry_days: int) -> None:
    """Tell the clock when the checks below would answer otherwise: the certificate becomes
    valid, enters the expiry threshold, expires, or a day count in a message changes."""
    from linter.core.clock import until

    day = timedelta(days=1)
    threshold = after - timedelta(days=max(expiry_days, 0))
    for moment in (before, threshold, after):
        if moment > now:
            until(moment)
    if now < before:  # "in N days": N drops when before - now falls below N whole days
        until(before - day * ((before - now) // day))
    if now > after:  # "N days ago": N grows one day later
        until(after + day * ((now - after) // day + 1))
    elif after - now <= timedelta(days=max(expiry_days, 0)):
        until(after - day * ((after - now) // day))


def _check_cert(
    cert: x509.Certificate,
    line: int,
    now: datetime,
    expiry_days: int,
    min_rsa_bits: int,
    min_ec_bits: int,
) -> list[CertIssue]:
    issues: list[CertIssue] = []
    what = f"certificate {_cert_name(cert)}"

    before, after = _validity(cert)
    _moments(now, before, after, expiry_days)
    if now < before:
        issues.append(
            _issue(
                "not-yet-valid",
                f"{what} is not valid until {before.date().isoformat()} ({_when(before - now, past=False)})",
                line,
            )
        )
    if now > after:
        issues.append(
            _issue(
                "expired",
                f"{what} expired on {after.date().isoformat()} ({_when(now - after, past=True)})",
                line,
            )
        )
    elif after - now <= timedelta(days=max(expiry_days, 0)):
        issues.append(
            _issue(
                "expiring",
                f"{what} expires on {after.date().isoformat()} ({_when(after - now, past=False)}; "
                f"threshold {expiry_days} days)",
                line,
            )
        )

    is_ca = _is_ca(cert)
    weak_sig = _weak_signature(cert)
    if weak_sig is not None:
        digest, algorithm = weak_sig
        if is_ca and cert.subject == cert.issuer:
            # A trust anchor's own signature is never verified by clients.
            issues.append(
                _issue(
                    "weak-signature",
                    f"{what} is a self-signed root signed with {digest} ({algorithm}); "
                    "harmless for a trust anchor, but consider replacing it",
                    line,
                    "note",
                )
            )
        else:
            issues.append(
                _issue(
                    "weak-signature",
                    f"{what} is signed with {digest} ({algorithm}), which clients reject",
                    line,
                )
            )

    reason: str | None = None
    try:
        reason = _weak_key(cert.public_key(), min_rsa_bits, min_ec_bits)
    except _FATAL:
        raise
    except BaseException:  # noqa: BLE001 - e.g. a curve this backend refuses
        curve = _EC_CURVES.get(_cert_ec_curve_oid(cert.public_bytes(serialization.Encoding.DER)) or "")
        if curve is not None and curve[1] < min_ec_bits:
            reason = f"an EC key on curve {curve[0]} ({curve[1]}-bit, minimum {min_ec_bits})"
    if reason is not None:
        issues.append(_issue("weak-key", f"{what} has {reason}", line))

    if not is_ca and _is_server_cert(cert) and _extension(cert, x509.SubjectAlternativeName) is None:
        issues.append(
            _issue(
                "no-san",
                f"{what} has no subjectAltName extension; TLS clients match host names "
                "against subjectAltName only and ignore the CN",
                line,
            )
        )
    return issues


def _unparsable(what: str, line: int, why: str) -> CertIssue:
    return _issue("unparsable", f"{what} could not be parsed: {why}", line)


def _looks_double_encoded(raw: bytes) -> bool:
    if not _BASE64_TEXT_RE.fullmatch(raw):
        return False
    try:
        inner = base64.b64decode(_WS_RE.sub(b"", raw), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b"-----BEGIN " in inner or _der_cert_prefix(inner) is not None


def _keys_from(data: bytes) -> list[tuple[int, Any]]:
    """(line, private key) for every private key that opens without a password."""
    out: list[tuple[int, Any]] = []
    blocks = pem_blocks(data)
    if blocks:
        for block in blocks:
            if block.label in KEY_LABELS and block.error is None and not block.placeholder:
                status, key = _open_key_block(block)
                if status == "ok":
                    out.append((block.line, key))
    else:
        status, key = _open_der_key(data)
        if status == "ok":
            out.append((1, key))
    return out


def _quiet(function: Any) -> Any:
    """Run ``function`` with cryptography's warnings (negative serial numbers, deprecated
    algorithms in the parsed data) silenced: they are about the file, and the findings say it."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)

    return wrapper


@_quiet
def check_certificates(
    data: bytes,
    *,
    now: datetime,
    expiry_days: int = 30,
    min_rsa_bits: int = 2048,
    min_ec_bits: int = 256,
    key: bytes | None = None,
) -> list[CertIssue]:
    """Check every certificate in ``data`` (PEM, possibly a chain with keys,
    or one DER certificate).  Issues are sorted by line.

    ``key`` is the matching private key given separately (``tls.key``); a
    mismatch with it is reported on the leaf certificate's line, a mismatch
    with a key inside ``data`` on that key's line.  Keys that are encrypted,
    unsupported or unparsable are not compared (``check_private_keys`` reports
    the unparsable ones).  A naive ``now`` is taken as UTC.

    PEM data holding no certificate block (only keys, a CSR, placeholders)
    gives no issues; empty or unrecognisable non-PEM data gives "unparsable".
    """
    raw = _as_bytes(data)
    when = _utc(now)
    issues: list[CertIssue] = []
    certs: list[tuple[int, x509.Certificate | None]] = []
    keys: list[tuple[int, Any]] = []

    blocks = pem_blocks(raw)
    if blocks:
        for block in blocks:
            if block.placeholder:
                continue
            if block.label in CERT_LABELS:
                cert, why = (None, block.error) if block.error else _try_load_cert(block.data, block.label)
                if cert is None:
                    issues.append(_unparsable(f"{block.label} block", block.line, why or "invalid"))
                certs.append((block.line, cert))
            elif block.label in KEY_LABELS and block.error is None:
                status, private_key = _open_key_block(block)
                if status == "ok":
                    keys.append((block.line, private_key))
    elif not raw.strip():
        issues.append(_unparsable("certificate data", 1, "it is empty"))
    else:
        der = _der_cert_prefix(raw)
        cert, why = _try_load_cert(der) if der is not None else (None, "")
        if cert is None:
            if der is not None:
                why = f"DER data is {why}"
            elif _looks_double_encoded(raw):
                why = "it is base64 text without PEM markers (was it base64-encoded twice?)"
            else:
                why = "no PEM block and not a DER certificate"
            issues.append(_unparsable("certificate data", 1, why))
        certs.append((1, cert))

    for line, cert in certs:
        if cert is not None:
            issues.extend(_check_cert(cert, line, when, expiry_days, min_rsa_bits, min_ec_bits))

    if certs and certs[0][1] is not None:
        leaf_line, leaf = certs[0]
        assert leaf is not None
        try:
            leaf_public = leaf.public_key()
            leaf_spki = _spki(leaf_public)
        except _FATAL:
            raise
        except BaseException:  # noqa: BLE001 - unsupported key: cannot compare
            leaf_spki = b""
        if leaf_spki:
            candidates = [(line, k, "private key") for line, k in keys]
            if key is not None:
                candidates += [(leaf_line, k, "private key given separately") for _, k in _keys_from(_as_bytes(key))]
            for line, private_key, what in candidates:
                try:
                    public = private_key.public_key()
                    if _spki(public) == leaf_spki:
                        continue
                    desc = _key_desc(public)
                except _FATAL:
                    raise
                except BaseException:  # noqa: BLE001
                    continue
                issues.append(
                    _issue(
                        "key-mismatch",
                        f"{what} ({desc}) does not match the leaf certificate "
                        f"{cert_summary(leaf)} ({_key_desc(leaf_public)})",
                        line,
                    )
                )

    issues.sort(key=lambda issue: issue.line)
    return issues


# ------------------------------------------------------- private key checks


@_quiet
def check_private_keys(data: bytes, *, min_rsa_bits: int = 2048, min_ec_bits: int = 256) -> list[CertIssue]:
    """ "unencrypted-private-key" for every private key stored in the clear
    (plus "weak-key" when it is too small, "unparsable" when it is broken),
    sorted by line.

    ``ENCRYPTED PRIVATE KEY``, legacy PEM with ``Proc-Type: 4,ENCRYPTED`` and
    OpenSSH keys with a cipher are fine.  Without PEM blocks, ``data`` is tried
    as one DER private key (line 1); other bytes give no issues.
    """
    raw = _as_bytes(data)
    issues: list[CertIssue] = []
    found: list[tuple[int, str, _KeyResult]] = []
    blocks = pem_blocks(raw)
    if blocks:
        for block in blocks:
            if block.placeholder or block.label not in KEY_LABELS:
                continue
            if block.error is not None:
                issues.append(_unparsable(f"{block.label} block", block.line, block.error))
                continue
            found.append((block.line, block.label, _open_key_block(block)))
    else:
        status, key = _open_der_key(raw)
        if status in ("ok", "unsupported"):
            found.append((1, "DER", (status, key)))

    for line, label, (status, key) in found:
        if status == "encrypted":
            continue
        if status == "invalid":
            issues.append(_unparsable(f"{label} block", line, "not a valid private key"))
            continue
        public = key.public_key() if key is not None else None
        desc = _key_desc(public) if public is not None else "unsupported-algorithm"
        issues.append(
            _issue(
                "unencrypted-private-key",
                f"unencrypted {desc} private key ({label}); keep keys out of the tree or store them encrypted",
                line,
            )
        )
        reason = _weak_key(public, min_rsa_bits, min_ec_bits) if public is not None else None
        if reason is not None:
            issues.append(_issue("weak-key", f"private key is {reason}", line))
    issues.sort(key=lambda issue: issue.line)
    return issues


def looks_like_cert_or_key(data: bytes) -> bool:
    """Cheap sniff: a certificate/private-key PEM BEGIN marker ending its line,
    or bytes that parse as one DER certificate."""
    raw = _as_bytes(data)
    if _SNIFF_RE.search(raw):
        return True
    der = _der_cert_prefix(raw)
    if der is None or raw[len(der) :].strip():
        return False
    cert, _ = _try_load_cert(der)
    return cert is not None
