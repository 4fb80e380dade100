"""Where the private key of a certificate file is kept: the files beside it that the key pairing
check (CRT106, :mod:`linter.certs.files`) reads. Light on purpose: the results cache keys a
certificate's result by these files without loading the certificate reader."""

from __future__ import annotations

from pathlib import Path

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
# a certificate file name, without suffix, that names the leaf of a chain whose key is
# conventionally stored as privkey.pem / key.pem (Let's Encrypt, many tutorials)
_LEAF_STEMS = frozenset({"cert", "fullchain"})
_CERT_WORDS = ("-cert", "_cert", ".cert", "-crt", "_crt", ".crt", "-certificate", "_certificate")


def sibling_names(name: str) -> list[str]:
    """File names, in order of preference, where the private key of certificate file ``name`` is kept."""
    path = Path(name)
    if path.suffix.lower() not in CERT_SUFFIXES:
        return []
    stem = path.name[: -len(path.suffix)]
    if stem.lower() in ("chain", "ca-bundle", "ca-certificates", "bundle"):
        return []  # intermediates or trust anchors: the leaf is not in there
    stems = [stem]
    for word in _CERT_WORDS:
        if stem.lower().endswith(word) and len(stem) > len(word):
            stems.append(stem[: -len(word)])
    out: list[str] = []
    for s in stems:
        out += [f"{s}.key", f"{s}-key.pem", f"{s}_key.pem", f"{s}.key.pem"]
    if stem.lower() in _LEAF_STEMS:
        out += ["privkey.pem", "key.pem"]
    unique: list[str] = []
    for n in out:
        if n != path.name and n not in unique:
            unique.append(n)
    return unique


def sibling_paths(abspath: str) -> list[Path]:
    """The files, in order of preference, where the private key of certificate file ``abspath``
    is kept (``sibling_names`` beside it)."""
    path = Path(abspath)
    return [path.with_name(name) for name in sibling_names(path.name)]


def read_siblings(abspath: str, max_size: int = 1024 * 1024) -> dict[str, bytes]:
    """The I/O edge of the pairing check: the first existing key file beside a certificate file.

    Returns ``{file name: bytes}`` (empty when there is none, it is too big or unreadable).
    """
    from linter.core.discover import Unreadable, read_file

    for candidate in sibling_paths(abspath):
        if candidate.is_symlink():
            continue
        try:
            data = read_file(str(candidate), max_size)
        except Unreadable:
            continue
        if b"PRIVATE KEY" in data:
            return {candidate.name: data}
    return {}
