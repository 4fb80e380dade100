"""Certificate and private-key files in the scanned tree (the ``certs`` pack, CRT1xx).

Discovery hands over ``.pem .crt .cer .key .der`` files as ``cert`` units; what a file *is* is
decided here by its content (``linter.certs.checks.looks_like_cert_or_key``), not by its name: a
``.pem`` holding something else is skipped, a ``.key`` holding a certificate is checked as one.

Each rule's ``certificate`` block names the issue codes it reports; the file is analysed once
(``linter.certs.checks.check_certificates`` + ``check_private_keys``) and every rule keeps the
issues of its own codes. Findings sit on the line of the offending block's BEGIN marker (line 1 for DER).
Messages name subjects, serials, fingerprints, algorithms and dates -- never key material.

The key pairing check (CRT106) needs the private key stored beside the certificate
(``tls.crt``/``tls.key``, ``server.crt``/``server.key``, ``x.pem``/``x-key.pem``...). Reading it is
I/O, so it happens at the edge: ``engine.read_and_lint`` calls ``read_siblings``
(:mod:`linter.certs.siblings`, which the results cache also reads without loading cryptography)
with the unit's absolute path and passes the bytes to the pure ``lint_unit``; without them (the
LSP's in-memory text) only keys inside the file itself are compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from linter.certs import checks as certs
from linter.core import clock
from linter.core.model import Finding, Region, Rule

if TYPE_CHECKING:
    from linter.core.engine import RuleSet

@dataclass
class Analysis:
    """One file, analysed once for all the certs rules."""

    path: str
    data: bytes
    expiry_days: int
    siblings: dict[str, bytes] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: clock.now())

    @cached_property
    def looks_like_pem_or_der_cert(self) -> bool:
        return certs.looks_like_cert_or_key(self.data)

    @cached_property
    def cert_issues(self) -> list[certs.CertIssue]:
        if not self.looks_like_pem_or_der_cert:
            return []
        key_name, key = next(iter(self.siblings.items()), (None, None))
        found = certs.check_certificates(self.data, now=self.now, expiry_days=self.expiry_days, key=key)
        if key_name is not None:
            found = [
                certs.CertIssue(i.code, f"{i.message} (key file `{key_name}`)", i.line, i.severity)
                if i.code == "key-mismatch" and "given separately" in i.message
                else i
                for i in found
            ]
        return found

    @cached_property
    def key_issues(self) -> list[certs.CertIssue]:
        if self.looks_like_pem_or_der_cert:
            if not certs.pem_blocks(self.data):
                return []  # one DER certificate
            return certs.check_private_keys(self.data)
        # a DER private key has no marker to sniff: only files named as keys are tried
        if Path(self.path).suffix.lower() in (".key", ".der") and b"-----BEGIN " not in self.data:
            return certs.check_private_keys(self.data)
        return []

    def issues(self, *codes: str) -> list[certs.CertIssue]:
        out = [i for i in self.cert_issues + self.key_issues if i.code in codes and i.severity != "note"]
        return sorted(out, key=lambda i: i.line)


Check = Callable[[Analysis], Iterable[certs.CertIssue]]


def _keeping(codes: tuple[str, ...]) -> Check:
    def check(a: Analysis) -> list[certs.CertIssue]:
        return a.issues(*codes)

    return check


def _rules(ruleset: RuleSet) -> list[tuple[Rule, Check]]:
    """The selected file rules with what each keeps: the issues its ``certificate`` block names,
    or what its ``check`` function (``(Analysis) -> Iterable[CertIssue]``) returns."""
    from linter.core.model import load_reference

    out: list[tuple[Rule, Check]] = []
    for rule in ruleset.of("file"):
        matcher = rule.matcher or {}
        if "certificate" in matcher:
            out.append((rule, _keeping(tuple(matcher["certificate"]))))
        elif "check" in matcher:
            out.append((rule, load_reference(matcher["check"])))
    return out


def analyze(path: str, data: bytes, ruleset: RuleSet, *, siblings: dict[str, bytes] | None = None, now: datetime | None = None) -> list[Finding]:
    """Findings of the selected certs rules for one file's bytes. Pure; never raises on bad bytes."""
    rules = _rules(ruleset)
    if not rules:
        return []
    analysis = Analysis(path, bytes(data), int(ruleset.settings.cert_expiry_days), dict(siblings or {}))
    if now is not None:
        analysis.now = now
    findings: list[Finding] = []
    for rule, check in rules:
        for n, issue in enumerate(check(analysis)):
            findings.append(
                Finding(
                    rule.id,
                    path,
                    Region.point(issue.line),
                    issue.message,
                    rule.severity,
                    fingerprint=f"{issue.code}:{n}",
                )
            )
    return findings

