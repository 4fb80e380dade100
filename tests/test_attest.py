"""Pass status per pack version: `check --attest` and the `verify` release gate."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from helpers import run, write

from linter.core.packs import schema_validator

BAD = "import requests\nrequests.get('https://x')\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"app.py": BAD, "pod.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"})
    return tmp_path


def _attest(capsys, *args: str) -> dict:
    run(capsys, "check", "--attest", "att.json", *args)
    doc = json.loads(open("att.json", encoding="utf-8").read())
    assert not list(schema_validator("attestation").iter_errors(doc))
    return doc


def test_the_attestation_gives_each_active_pack_its_version_and_status(proj, capsys):
    doc = _attest(capsys)
    packs = {p["name"]: p for p in doc["packs"]}
    assert packs["timeouts"]["passed"] is False and packs["timeouts"]["findings"]["warning"] == 1
    assert packs["pod-security"]["passed"] is True
    assert doc["passed"] is False and doc["fail-on"] == "warning" and doc["project"] == proj.name
    write(proj, {"app.py": BAD.replace("x')", "x')  # pitfall: ignore[TMO101] accepted: a CLI")})
    packs = {p["name"]: p for p in _attest(capsys)["packs"]}
    assert packs["timeouts"]["passed"] is True and packs["timeouts"]["suppressed"] == 1
    assert {p["name"]: p["passed"] for p in _attest(capsys, "--fail-on", "none")["packs"]}["timeouts"] is True


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git to make a repository")
def test_the_commit_is_read_from_the_repository(proj, capsys):
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t", "PATH": "/usr/bin:/bin"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "x"]):
        subprocess.run(cmd, cwd=proj, check=True, env=env)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=proj, capture_output=True, text=True, check=True, env=env).stdout.strip()
    assert _attest(capsys)["commit"] == head
    subprocess.run(["git", "pack-refs", "--all"], cwd=proj, check=True, env=env)  # refs only in packed-refs
    assert _attest(capsys)["commit"] == head


def test_verify_is_the_release_gate(proj, capsys):
    _attest(capsys)
    code, out, _ = run(capsys, "verify", "att.json", "--require", "pod-security", "--require", "tls>=0.3")
    assert code == 0 and "passed" in out
    version = next(p["version"] for p in json.loads(open("att.json", encoding="utf-8").read())["packs"] if p["name"] == "timeouts")
    code, out, _ = run(capsys, "verify", "att.json", "--require", "timeouts>=0.3")
    assert code == 1 and f"timeouts {version}: failed at fail-on warning (1 warning)" in out
    code, out, _ = run(capsys, "verify", "att.json", "--require", "tls>=9")
    assert code == 1 and "does not satisfy >=9" in out
    code, out, _ = run(capsys, "verify", "att.json", "--require", "fastapi")
    assert code == 1 and "fastapi: not among the packs that ran" in out


def test_verify_rejects_what_is_not_an_attestation(proj, capsys):
    write(proj, {"bad.json": '{"format": 1}', "broken.json": "{"})
    for name in ("bad.json", "broken.json", "missing.json"):
        code, _, err = run(capsys, "verify", name, "--require", "timeouts")
        assert code == 2 and name in err and "Traceback" not in err
    _attest(capsys)
    code, _, err = run(capsys, "verify", "att.json", "--require", "timeouts>=>1")
    assert code == 2 and "--require" in err
