from __future__ import annotations

import base64
import dataclasses
import random
import re
from datetime import datetime, timedelta, timezone
from functools import cache

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from linter.certs import checks as certs
from linter.certs.checks import (
    CertIssue,
    PemBlock,
    cert_summary,
    check_certificates,
    check_private_keys,
    looks_like_cert_or_key,
    pem_blocks,
)

UTC = timezone.utc
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER


# ------------------------------------------------------------------ key/cert factories


@cache
def rsa_key(bits: int = 2048, tag: str = "") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@cache
def ec_key(curve_name: str = "secp256r1", tag: str = "") -> ec.EllipticCurvePrivateKey:
    curve = {"secp256r1": ec.SECP256R1, "secp192r1": ec.SECP192R1, "secp384r1": ec.SECP384R1}[curve_name]
    return ec.generate_private_key(curve())


@cache
def dsa_key(bits: int = 1024) -> dsa.DSAPrivateKey:
    return dsa.generate_private_key(key_size=bits)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(
    key,
    *,
    cn: str = "example.com",
    issuer_key=None,
    issuer_cn: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    san: bool = True,
    ca: bool | None = None,
    eku: list | None = None,
    serial: int = 0x1F2E3D,
) -> x509.Certificate:
    signer = issuer_key if issuer_key is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(issuer_cn or cn))
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before or NOW - timedelta(days=30))
        .not_valid_after(not_after or NOW + timedelta(days=365))
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(signer, hashes.SHA256())


def der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_len(len(content)) + content


SHA256_RSA_OID = bytes.fromhex("06092a864886f70d01010b")
WEAK_RSA_OIDS = {
    "sha1": (bytes.fromhex("06092a864886f70d010105"), hashes.SHA1()),
    "md5": (bytes.fromhex("06092a864886f70d010104"), hashes.MD5()),
}


def resign(cert: x509.Certificate, signer: rsa.RSAPrivateKey, digest: str) -> x509.Certificate:
    """Re-sign an RSA/SHA-256 certificate with SHA-1 or MD5 (the builder refuses to)."""
    oid, algorithm = WEAK_RSA_OIDS[digest]
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(SHA256_RSA_OID) == 1
    tbs = tbs.replace(SHA256_RSA_OID, oid)
    signature = signer.sign(tbs, padding.PKCS1v15(), algorithm)
    alg_id = der_tlv(0x30, oid + b"\x05\x00")
    der = der_tlv(0x30, tbs + alg_id + der_tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(PEM)


def key_pem(key, fmt=serialization.PrivateFormat.PKCS8, password: bytes | None = None) -> bytes:
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(PEM, fmt, enc)


def nlines(text: bytes) -> int:
    return text.count(b"\n")


def codes(issues: list[CertIssue]) -> list[tuple[str, int]]:
    return [(i.code, i.line) for i in issues]


# Every message produced anywhere in this module is collected and checked for
# key material at the end of the session (see test_zz_no_key_material_in_messages).
ALL_MESSAGES: list[str] = []
ALL_KEY_PEMS: list[bytes] = []


def run_certs(data, **kw) -> list[CertIssue]:
    kw.setdefault("now", NOW)
    issues = check_certificates(data, **kw)
    ALL_MESSAGES.extend(i.message for i in issues)
    for issue in issues:
        assert issue.severity in ("error", "warning", "note")
        assert issue.code in certs.CODES
        assert issue.line >= 1
    return issues


def run_keys(data, **kw) -> list[CertIssue]:
    issues = check_private_keys(data, **kw)
    ALL_MESSAGES.extend(i.message for i in issues)
    return issues


def track(key_bytes: bytes) -> bytes:
    ALL_KEY_PEMS.append(key_bytes)
    return key_bytes


# ------------------------------------------------------------------ pem_blocks


def test_pem_blocks_lines_labels_and_der() -> None:
    cert = make_cert(rsa_key())
    key_text = track(key_pem(rsa_key()))
    text = b"leading text\nmore\n" + pem(cert) + b"junk between\n\n" + key_text + b"trailer\n"
    blocks = pem_blocks(text)
    assert [(b.label, b.line) for b in blocks] == [
        ("CERTIFICATE", 3),
        ("PRIVATE KEY", 3 + nlines(pem(cert)) + 2),
    ]
    assert blocks[0].data == cert.public_bytes(DER)
    assert blocks[0].error is None and not blocks[0].placeholder
    assert blocks[1].data == rsa_key().private_bytes(
        DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_pem_blocks_crlf_cr_and_indentation() -> None:
    cert = make_cert(rsa_key())
    crlf = b"x\r\n" + pem(cert).replace(b"\n", b"\r\n")
    cr = b"x\r" + pem(cert).replace(b"\n", b"\r")
    yaml = b"tls.crt: |\n" + b"".join(b"    " + ln + b"\n" for ln in pem(cert).splitlines())
    for text in (crlf, cr, yaml):
        (block,) = pem_blocks(text)
        assert (block.label, block.line, block.data) == ("CERTIFICATE", 2, cert.public_bytes(DER))


def test_pem_blocks_legacy_headers() -> None:
    text = track(key_pem(rsa_key(), serialization.PrivateFormat.TraditionalOpenSSL, b"pw"))
    (block,) = pem_blocks(text)
    assert block.label == "RSA PRIVATE KEY"
    assert dict(block.headers)["Proc-Type"] == "4,ENCRYPTED"
    assert "DEK-Info" in dict(block.headers)
    assert block.error is None and block.data


def test_pem_blocks_broken_blocks() -> None:
    body = pem(make_cert(rsa_key())).splitlines()
    truncated = b"\n".join(body[:5]) + b"\nAB\n" + body[-1] + b"\n"  # bad length
    no_end = b"\n".join(body[:-1]) + b"\n"
    bad_char = b"\n".join(body[:3] + [b"!!!!" + body[3][4:]] + body[4:]) + b"\n"
    mismatch = b"\n".join(body[:-1]) + b"\n-----END PRIVATE KEY-----\n"
    assert "truncated" in pem_blocks(truncated)[0].error
    assert "no END" in pem_blocks(no_end)[0].error
    assert "base64" in pem_blocks(bad_char)[0].error
    assert "END marker" in pem_blocks(mismatch)[0].error
    for text in (truncated, no_end, bad_char, mismatch):
        (block,) = pem_blocks(text)
        assert block.line == 1 and block.data == b""


def test_pem_blocks_begin_without_end_followed_by_block() -> None:
    cert = make_cert(rsa_key())
    text = b"-----BEGIN CERTIFICATE-----\nMIIB\n" + pem(cert)
    blocks = pem_blocks(text)
    assert [(b.line, b.error is None) for b in blocks] == [(1, False), (3, True)]
    assert "before the next BEGIN" in blocks[0].error


def test_pem_blocks_glued_end_begin() -> None:
    a, b = pem(make_cert(rsa_key(), cn="a")), pem(make_cert(rsa_key(), cn="b"))
    text = a.rstrip(b"\n") + b + b"\n"  # `cat` of a file without a final newline
    blocks = pem_blocks(text)
    assert [blk.line for blk in blocks] == [1, nlines(a)]
    assert all(blk.error is None for blk in blocks)


def test_pem_blocks_ignores_markers_inside_code() -> None:
    code = b'if data.startswith(b"-----BEGIN CERTIFICATE-----"):\n    MARK = "-----BEGIN PRIVATE KEY-----"\n'
    assert pem_blocks(code) == []
    assert not looks_like_cert_or_key(code)


def test_pem_blocks_placeholders() -> None:
    for body in (b"{{ .Values.tls.crt | indent 4 }}", b"${TLS_CERT}", b"<your certificate here>", b"MIIC...", b"..."):
        text = b"-----BEGIN CERTIFICATE-----\n" + body + b"\n-----END CERTIFICATE-----\n"
        (block,) = pem_blocks(text)
        assert block.placeholder and block.data == b""
        assert run_certs(text) == []


def test_pem_block_is_frozen() -> None:
    block = PemBlock("CERTIFICATE", 1, b"")
    with pytest.raises(dataclasses.FrozenInstanceError):
        block.line = 2  # type: ignore[misc]
    assert not hasattr(block, "__dict__")


# ------------------------------------------------------------------ sniffing


def test_looks_like_cert_or_key() -> None:
    cert = make_cert(rsa_key())
    assert looks_like_cert_or_key(pem(cert))
    assert looks_like_cert_or_key(b"# comment\r\n" + pem(cert).replace(b"\n", b"\r\n"))
    assert looks_like_cert_or_key(cert.public_bytes(DER))
    assert looks_like_cert_or_key(track(key_pem(rsa_key())))
    assert looks_like_cert_or_key(track(key_pem(ec_key(), serialization.PrivateFormat.TraditionalOpenSSL)))
    assert looks_like_cert_or_key(key_pem(rsa_key(), password=b"pw"))
    assert looks_like_cert_or_key(track(key_pem(ec_key(), serialization.PrivateFormat.OpenSSH)))
    assert not looks_like_cert_or_key(b"")
    assert not looks_like_cert_or_key(b"import os\nprint('hello')\n")
    assert not looks_like_cert_or_key(b"\x30\x82\x01\x00" + b"\x00" * 10)
    public = rsa_key().public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert not looks_like_cert_or_key(public)
    der_key = rsa_key().private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert not looks_like_cert_or_key(der_key)


# ------------------------------------------------------------------ certificates


def test_valid_leaf_has_no_issues() -> None:
    assert run_certs(pem(make_cert(rsa_key()))) == []
    assert run_certs(pem(make_cert(ec_key()))) == []
    assert run_certs(pem(make_cert(rsa_key(4096)))) == []


def test_expired_message_is_exact() -> None:
    cert = make_cert(
        rsa_key(),
        not_before=datetime(2023, 1, 1, tzinfo=UTC),
        not_after=datetime(2024, 1, 1, tzinfo=UTC),
    )
    issues = run_certs(pem(cert), now=datetime(2024, 1, 13, 1, 0, tzinfo=UTC))
    assert issues == [
        CertIssue("expired", "certificate CN=example.com expired on 2024-01-01 (12 days ago)", 1, "error")
    ]


def test_expiring_and_threshold() -> None:
    cert = make_cert(rsa_key(), not_after=NOW + timedelta(days=10))
    (issue,) = run_certs(pem(cert))
    assert (issue.code, issue.severity, issue.line) == ("expiring", "warning", 1)
    assert issue.message.startswith("certificate CN=example.com expires on 2025-06-11 (in 10 days")
    assert run_certs(pem(cert), expiry_days=5) == []
    assert codes(run_certs(pem(cert), expiry_days=10)) == [("expiring", 1)]


def test_not_yet_valid() -> None:
    cert = make_cert(rsa_key(), not_before=NOW + timedelta(days=3))
    (issue,) = run_certs(pem(cert))
    assert (issue.code, issue.severity) == ("not-yet-valid", "warning")
    assert "not valid until 2025-06-04 (in 3 days)" in issue.message


def test_naive_now_is_utc() -> None:
    cert = make_cert(rsa_key(), not_after=NOW - timedelta(days=2))
    assert codes(run_certs(pem(cert), now=NOW.replace(tzinfo=None))) == [("expired", 1)]
    other_tz = NOW.astimezone(timezone(timedelta(hours=-7)))
    assert codes(run_certs(pem(cert), now=other_tz)) == [("expired", 1)]


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_signature(digest: str) -> None:
    leaf = resign(make_cert(rsa_key()), rsa_key(), digest)
    assert leaf.signature_algorithm_oid.dotted_string.endswith("1.1.5" if digest == "sha1" else "1.1.4")
    (issue,) = run_certs(pem(leaf))
    assert (issue.code, issue.severity, issue.line) == ("weak-signature", "error", 1)
    assert ("SHA-1" if digest == "sha1" else "MD5") in issue.message


def test_weak_signature_on_self_signed_root_is_a_note() -> None:
    root = resign(make_cert(rsa_key(), cn="Old Root", ca=True, san=False), rsa_key(), "sha1")
    (issue,) = run_certs(pem(root))
    assert (issue.code, issue.severity) == ("weak-signature", "note")


def test_weak_rsa_key() -> None:
    cert = make_cert(rsa_key(1024))
    (issue,) = run_certs(pem(cert))
    assert (issue.code, issue.severity, issue.line) == ("weak-key", "error", 1)
    assert "1024-bit RSA" in issue.message
    assert run_certs(pem(cert), min_rsa_bits=1024) == []


def test_ec_keys() -> None:
    assert run_certs(pem(make_cert(ec_key("secp384r1")))) == []
    try:
        small = ec_key("secp192r1")
        cert = make_cert(small, issuer_key=rsa_key(), issuer_cn="CA")
    except (UnsupportedAlgorithm, ValueError):
        pytest.skip("backend refuses the P-192 curve")
    (issue,) = run_certs(pem(cert))
    assert (issue.code, issue.line) == ("weak-key", 1)
    assert "secp192r1" in issue.message and "192-bit" in issue.message
    assert run_certs(pem(cert), min_ec_bits=192) == []
    # fallback used when the backend cannot load the key: curve from the DER
    assert certs._cert_ec_curve_oid(cert.public_bytes(DER)) == "1.2.840.10045.3.1.1"
    assert certs._cert_ec_curve_oid(make_cert(ec_key()).public_bytes(DER)) == "1.2.840.10045.3.1.7"
    assert certs._cert_ec_curve_oid(make_cert(rsa_key()).public_bytes(DER)) is None


def test_weak_dsa_key() -> None:
    cert = make_cert(dsa_key(1024), issuer_key=rsa_key(), issuer_cn="CA")
    (issue,) = run_certs(pem(cert))
    assert (issue.code, issue.line) == ("weak-key", 1)
    assert "1024-bit DSA" in issue.message


def test_no_san_only_for_server_end_entities() -> None:
    leaf = make_cert(rsa_key(), san=False)
    (issue,) = run_certs(pem(leaf))
    assert (issue.code, issue.severity, issue.line) == ("no-san", "warning", 1)
    assert "CN=example.com" in issue.message
    assert codes(run_certs(pem(make_cert(rsa_key(), san=False, ca=False)))) == [("no-san", 1)]
    assert run_certs(pem(make_cert(rsa_key(), san=False, ca=True))) == []
    client = make_cert(rsa_key(), san=False, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    assert run_certs(pem(client)) == []
    server = make_cert(rsa_key(), san=False, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    assert codes(run_certs(pem(server))) == [("no-san", 1)]


def test_chain_of_two_certificates() -> None:
    ca_key, leaf_key = rsa_key(2048, "ca"), rsa_key()
    intermediate = make_cert(ca_key, cn="Intermediate CA", ca=True, san=False, not_after=NOW - timedelta(days=1))
    leaf = make_cert(leaf_key, issuer_key=ca_key, issuer_cn="Intermediate CA", san=False)
    text = b"subject=CN = example.com\n" + pem(leaf) + pem(intermediate)
    second = 2 + nlines(pem(leaf))
    issues = run_certs(text)
    assert codes(issues) == [("no-san", 2), ("expired", second)]
    assert "Intermediate CA" in issues[1].message
    # key of the leaf beside the chain matches; key of the CA does not
    assert codes(run_certs(text, key=track(key_pem(leaf_key)))) == [("no-san", 2), ("expired", second)]
    issues = run_certs(text, key=track(key_pem(ca_key)))
    assert codes(issues) == [("no-san", 2), ("key-mismatch", 2), ("expired", second)]


def test_key_mismatch_separate_key() -> None:
    cert = make_cert(rsa_key())
    wrong = track(key_pem(rsa_key(2048, "other")))
    (issue,) = run_certs(pem(cert), key=wrong)
    assert (issue.code, issue.severity, issue.line) == ("key-mismatch", "error", 1)
    assert "SHA-256 fingerprint " + cert.fingerprint(hashes.SHA256()).hex(":") in issue.message
    # same key in every format: no mismatch
    for fmt in (
        serialization.PrivateFormat.PKCS8,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.PrivateFormat.OpenSSH,
    ):
        assert run_certs(pem(cert), key=track(key_pem(rsa_key(), fmt))) == []
    der_key = rsa_key().private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert run_certs(pem(cert), key=der_key) == []
    # EC key against an RSA certificate
    assert codes(run_certs(pem(cert), key=track(key_pem(ec_key())))) == [("key-mismatch", 1)]


def test_key_mismatch_skips_encrypted_and_garbage_keys() -> None:
    cert = make_cert(rsa_key())
    other = rsa_key(2048, "other")
    assert run_certs(pem(cert), key=key_pem(other, password=b"pw")) == []
    assert run_certs(pem(cert), key=key_pem(other, serialization.PrivateFormat.TraditionalOpenSSL, b"pw")) == []
    assert run_certs(pem(cert), key=b"not a key") == []
    assert run_certs(pem(cert), key=b"") == []


def test_key_mismatch_key_inside_data() -> None:
    cert = make_cert(rsa_key())
    good, bad = track(key_pem(rsa_key())), track(key_pem(rsa_key(2048, "other")))
    assert run_certs(pem(cert) + good) == []
    text = pem(cert) + b"\n" + bad
    assert codes(run_certs(text)) == [("key-mismatch", nlines(pem(cert)) + 2)]
    # key before the certificate: still compared with the (first) certificate
    assert codes(run_certs(bad + pem(cert))) == [("key-mismatch", 1)]
    # an encrypted key inside the bundle is not a mismatch
    assert run_certs(pem(cert) + key_pem(rsa_key(2048, "other"), password=b"pw")) == []


def test_der_certificate() -> None:
    cert = make_cert(rsa_key(1024), san=False, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=40))
    issues = run_certs(cert.public_bytes(DER))
    assert codes(issues) == [("expired", 1), ("weak-key", 1), ("no-san", 1)]
    assert "40 days ago" in issues[0].message
    assert run_certs(make_cert(rsa_key()).public_bytes(DER), key=track(key_pem(rsa_key()))) == []


def test_unparsable_non_pem_data() -> None:
    (issue,) = run_certs(b"")
    assert (issue.code, issue.line, issue.severity) == ("unparsable", 1, "error")
    (issue,) = run_certs(b"hello world\n")
    assert (issue.code, issue.line) == ("unparsable", 1)
    der = bytearray(make_cert(rsa_key()).public_bytes(DER))
    der[20:40] = b"\xff" * 20
    (issue,) = run_certs(bytes(der))
    assert (issue.code, issue.line) == ("unparsable", 1)
    twice = base64.b64encode(pem(make_cert(rsa_key())))
    (issue,) = run_certs(twice)
    assert issue.code == "unparsable" and "twice" in issue.message


def test_pem_with_only_keys_or_other_blocks_has_no_certificate_issues() -> None:
    assert run_certs(track(key_pem(rsa_key()))) == []
    public = rsa_key().public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert run_certs(public) == []


def test_crlf_pem_lines() -> None:
    expired = make_cert(rsa_key(), cn="old", not_after=NOW - timedelta(days=5))
    weak = make_cert(rsa_key(1024), cn="weak")
    text = (b"# bundle\n\n" + pem(expired) + b"# next\n" + pem(weak)).replace(b"\n", b"\r\n")
    issues = run_certs(text)
    assert codes(issues) == [("expired", 3), ("weak-key", 3 + nlines(pem(expired)) + 1)]


def test_junk_truncated_and_corrupt_blocks_do_not_stop_the_others() -> None:
    good = make_cert(rsa_key(), cn="good")
    weak = make_cert(rsa_key(1024), cn="weak")
    lines = pem(make_cert(rsa_key(), cn="cut")).splitlines()
    truncated = b"\n".join(lines[:6]) + b"\n" + lines[6][:-3] + b"\n" + lines[-1] + b"\n"
    der = bytearray(make_cert(rsa_key(), cn="corrupt").public_bytes(DER))
    der[4:8] = b"\x00\x00\x00\x00"
    corrupt = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bytes(der)) + b"-----END CERTIFICATE-----\n"
    parts = [b"garbage ~~~ \x00\xff\n", pem(good), truncated, b"not base64 at all\n", corrupt, pem(weak)]
    text = b"".join(parts)
    starts = []
    line = 1
    for part in parts:
        starts.append(line)
        line += nlines(part)
    issues = run_certs(text, key=track(key_pem(rsa_key())))
    assert codes(issues) == [
        ("unparsable", starts[2]),
        ("unparsable", starts[4]),
        ("weak-key", starts[5]),
    ]
    assert "CERTIFICATE block could not be parsed" in issues[0].message


def test_trusted_certificate_with_aux_data() -> None:
    cert = make_cert(rsa_key(1024))
    der = cert.public_bytes(DER) + der_tlv(0x30, der_tlv(0x0C, b"aux"))
    text = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END TRUSTED CERTIFICATE-----\n"
    assert codes(run_certs(text)) == [("weak-key", 1)]


def test_cert_summary() -> None:
    cert = make_cert(rsa_key(), cn="example.com", serial=0xABCDEF)
    summary = cert_summary(cert)
    assert summary == (
        "CN=example.com, serial 0xabcdef, SHA-256 fingerprint " + cert.fingerprint(hashes.SHA256()).hex(":")
    )
    assert re.fullmatch(r"CN=.+, serial 0x[0-9a-f]+, SHA-256 fingerprint ([0-9a-f]{2}:){31}[0-9a-f]{2}", summary)
    # control characters in the subject cannot forge extra output lines
    sneaky = make_cert(rsa_key(), cn="evil\ninjected")
    assert "\n" not in cert_summary(sneaky)
    (issue,) = run_certs(pem(make_cert(rsa_key(), cn="evil\ninjected", san=False)))
    assert "\n" not in issue.message and "evil\\x0ainjected" in issue.message


def test_bad_bytes_never_raise() -> None:
    rng = random.Random(1234)
    cert_pem = pem(make_cert(rsa_key()))
    cert_der = make_cert(ec_key()).public_bytes(DER)
    key_text = track(key_pem(rsa_key()))
    for _ in range(300):
        base = rng.choice([cert_pem, cert_der, key_text, cert_pem + key_text])
        mutated = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.3:
            mutated = mutated[: rng.randrange(len(mutated))]
        data = bytes(mutated)
        looks_like_cert_or_key(data)
        pem_blocks(data)
        run_certs(data, key=data)
        run_keys(data)


# ------------------------------------------------------------------ private keys


def test_unencrypted_private_keys() -> None:
    for key, fmt, label in [
        (rsa_key(), serialization.PrivateFormat.PKCS8, "PRIVATE KEY"),
        (rsa_key(), serialization.PrivateFormat.TraditionalOpenSSL, "RSA PRIVATE KEY"),
        (ec_key(), serialization.PrivateFormat.TraditionalOpenSSL, "EC PRIVATE KEY"),
        (ec_key(), serialization.PrivateFormat.OpenSSH, "OPENSSH PRIVATE KEY"),
    ]:
        text = track(key_pem(key, fmt))
        assert text.startswith(f"-----BEGIN {label}-----".encode())
        (issue,) = run_keys(b"# key\n" + text)
        assert (issue.code, issue.severity, issue.line) == ("unencrypted-private-key", "error", 2)


def test_dsa_private_key() -> None:
    text = track(key_pem(dsa_key(1024), serialization.PrivateFormat.TraditionalOpenSSL))
    assert text.startswith(b"-----BEGIN DSA PRIVATE KEY-----")
    assert codes(run_keys(text)) == [("unencrypted-private-key", 1), ("weak-key", 1)]


def test_encrypted_private_keys_are_fine() -> None:
    assert run_keys(key_pem(rsa_key(), password=b"pw")) == []
    legacy = key_pem(rsa_key(), serialization.PrivateFormat.TraditionalOpenSSL, b"pw")
    assert b"Proc-Type: 4,ENCRYPTED" in legacy
    assert run_keys(legacy) == []
    assert run_keys(legacy.replace(b"\n", b"\r\n")) == []
    der = rsa_key().private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw"))
    assert run_keys(der) == []


def test_encrypted_openssh_key_is_fine() -> None:
    def ssh_string(value: bytes) -> bytes:
        return len(value).to_bytes(4, "big") + value

    blob = (
        b"openssh-key-v1\x00"
        + ssh_string(b"aes256-ctr")
        + ssh_string(b"bcrypt")
        + ssh_string(ssh_string(b"\x00" * 16) + (16).to_bytes(4, "big"))
        + (1).to_bytes(4, "big")
        + ssh_string(b"public")
        + ssh_string(b"\x01" * 64)
    )
    text = b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.encodebytes(blob) + b"-----END OPENSSH PRIVATE KEY-----\n"
    assert run_keys(text) == []


def test_weak_rsa_private_key() -> None:
    text = track(key_pem(rsa_key(1024)))
    issues = run_keys(text)
    assert codes(issues) == [("unencrypted-private-key", 1), ("weak-key", 1)]
    assert "1024-bit RSA" in issues[1].message
    assert codes(run_keys(text, min_rsa_bits=1024)) == [("unencrypted-private-key", 1)]


def test_private_keys_multiple_blocks_lines_and_broken() -> None:
    first = track(key_pem(rsa_key()))
    second = track(key_pem(ec_key(), serialization.PrivateFormat.TraditionalOpenSSL))
    lines = track(key_pem(rsa_key(2048, "other"))).splitlines()
    truncated = b"\n".join(lines[:5]) + b"\n" + lines[5][:10] + b"\n" + lines[-1] + b"\n"
    cert = pem(make_cert(rsa_key()))
    encrypted = key_pem(rsa_key(), password=b"pw")
    parts = [cert, first, b"junk\n", truncated, encrypted, second]
    text = b"".join(parts)
    starts, line = [], 1
    for part in parts:
        starts.append(line)
        line += nlines(part)
    assert codes(run_keys(text)) == [
        ("unencrypted-private-key", starts[1]),
        ("unparsable", starts[3]),
        ("unencrypted-private-key", starts[5]),
    ]
    # the same text through check_certificates: the RSA key matches the leaf, the EC key
    # does not, the encrypted one is skipped and the broken one is check_private_keys' business
    assert codes(run_certs(text)) == [("key-mismatch", starts[5])]


def test_private_key_invalid_der_inside_pem() -> None:
    body = base64.encodebytes(b"\x30\x03\x02\x01\x00")
    text = b"-----BEGIN RSA PRIVATE KEY-----\n" + body + b"-----END RSA PRIVATE KEY-----\n"
    assert codes(run_keys(text)) == [("unparsable", 1)]


def test_private_keys_der_and_non_keys() -> None:
    der = rsa_key().private_bytes(DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert codes(run_keys(der)) == [("unencrypted-private-key", 1)]
    assert run_keys(make_cert(rsa_key()).public_bytes(DER)) == []
    assert run_keys(pem(make_cert(rsa_key()))) == []
    assert run_keys(b"") == []
    assert run_keys(b"hello\n") == []
    template = b"-----BEGIN PRIVATE KEY-----\n{{ .Values.key }}\n-----END PRIVATE KEY-----\n"
    assert run_keys(template) == []


def test_str_input_is_accepted() -> None:
    text = pem(make_cert(rsa_key(1024))).decode()
    assert codes(run_certs(text)) == [("weak-key", 1)]
    assert looks_like_cert_or_key(text)


# ------------------------------------------------------------------ key material


def test_zz_no_key_material_in_messages() -> None:
    """Runs last (file order): every message produced above, plus a sweep
    over a bundle of every key, must not contain any piece of key base64."""
    # the module's other tests may run in another worker: make this one's own keys and messages
    keys = [rsa_key(), rsa_key(1024), ec_key(), ec_key("secp384r1"), dsa_key(), ed25519.Ed25519PrivateKey.generate()]
    for key in keys:
        for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
            if isinstance(key, ed25519.Ed25519PrivateKey) and fmt is not serialization.PrivateFormat.PKCS8:
                continue
            track(key_pem(key, fmt))
        track(key_pem(key, password=b"secret"))
    bundle = b"".join(ALL_KEY_PEMS)
    for key in keys[:4]:
        cert = make_cert(key, san=False, not_after=NOW - timedelta(days=1))
        run_certs(pem(cert) + bundle, key=bundle)
        run_certs(pem(cert), key=key_pem(rsa_key(2048, "other")))
    run_keys(bundle)
    assert ALL_MESSAGES, "no messages collected"
    assert len(ALL_KEY_PEMS) > 10
    fragments: set[str] = set()
    for text in ALL_KEY_PEMS:
        for block in pem_blocks(text):
            body = base64.b64encode(block.data).decode()
            fragments.update(body[i : i + 16] for i in range(0, max(len(body) - 16, 1), 8))
        for line in text.decode().splitlines():
            if not line.startswith("-----") and ":" not in line and len(line) >= 16:
                fragments.add(line)
    hexes = {base64.b64decode(f + "=" * (-len(f) % 4)).hex() for f in fragments if len(f) % 4 == 0}
    for message in ALL_MESSAGES:
        for fragment in fragments:
            assert fragment not in message
        for fragment in hexes:
            assert fragment not in message.replace(":", "")
        assert not re.search(r"[A-Za-z0-9+/]{40,}", message), message


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (timedelta(days=-30), timedelta(days=365)),  # valid, far from the threshold
        (timedelta(days=-30), timedelta(days=29, hours=5)),  # just entered the 30-day threshold
        (timedelta(days=-30), timedelta(days=30, hours=2)),  # about to enter it
        (timedelta(days=-30), timedelta(hours=3)),  # expires today
        (timedelta(days=-400), timedelta(days=-12, hours=-7)),  # expired 12 days ago
        (timedelta(days=2, hours=4), timedelta(days=400)),  # not valid for two more days
    ],
)
def test_an_answer_holds_until_the_moment_the_clock_is_told(before, after) -> None:
    """The moment a check records is exact: the answer a second earlier is the same, a second
    later it differs (a state, or a day count in a message)."""
    from linter.core import clock

    cert = pem(make_cert(rsa_key(), not_before=NOW + before, not_after=NOW + after))
    clock.start()
    first = run_certs(cert)
    moment = clock.horizon()
    assert moment is not None and moment > NOW.timestamp()
    when = datetime.fromtimestamp(moment, UTC)
    assert run_certs(cert, now=when - timedelta(seconds=1)) == first
    assert run_certs(cert, now=when + timedelta(seconds=1)) != first


def test_a_certificate_without_dates_to_compare_tells_the_clock_nothing() -> None:
    from linter.core import clock

    clock.start()
    run_certs(b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    assert clock.horizon() is None
