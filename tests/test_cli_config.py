"""Configuration, selection, exit codes and the command line."""

from __future__ import annotations

import json

import pytest
from helpers import run, write

BAD = "import requests\nrequests.get('https://x')\n"
BIND = "import socket\nsocket.socket().bind(('0.0.0.0', 8080))\n"


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def codes(out: str) -> set[str]:
    return {f["code"] for f in json.loads(out)["findings"] if f["suppression"] is None}


def test_exit_codes(proj, capsys):
    write(proj, {"ok.py": "x = 1\n"})
    assert run(capsys, "check")[0] == 0
    write(proj, {"bad.py": BAD})
    assert run(capsys, "check")[0] == 1
    assert run(capsys, "check", "--exit-zero")[0] == 0
    assert run(capsys, "check", "--fail-on", "error")[0] == 0  # TMO101 is a warning
    assert run(capsys, "check", "--no-such-flag")[0] == 2
    assert run(capsys, "check", "missing-dir")[0] == 2


def test_pyproject_config_and_cli_override(proj, capsys):
    write(proj, {"bad.py": BAD + BIND, "pyproject.toml": '[project]\nname = "x"\n\n[tool.pitfall]\nignore = ["PRT"]\n'})
    code, out, _ = run(capsys, "check", "--format", "json")
    assert codes(out) == {"TMO101"}
    code, out, _ = run(capsys, "check", "--format", "json", "--ignore", "TMO")
    assert codes(out) == {"PRT101", "PRT102"}  # CLI flags replace the file's list


def test_dot_pitfall_toml_and_select_by_name_and_prefix(proj, capsys):
    write(proj, {"bad.py": BAD + BIND, ".pitfall.toml": 'select = ["bind-all-interfaces", "TMO1"]\n'})
    code, out, _ = run(capsys, "check", "--format", "json")
    assert codes(out) == {"PRT101", "TMO101"}


def test_specific_select_beats_broad_ignore(proj, capsys):
    write(proj, {"bad.py": BAD + BIND})
    code, out, _ = run(capsys, "check", "--format", "json", "--ignore", "PRT", "--extend-select", "PRT102")
    assert codes(out) == {"TMO101", "PRT102"}


def test_unknown_key_names_file_line_and_key(proj, capsys):
    write(proj, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.pitfall]\nselect = ["ALL"]\nselekt = ["TMO"]\n', "a.py": "x = 1\n"})
    code, out, err = run(capsys, "check")
    assert code == 2
    assert "pyproject.toml:6" in err and "selekt" in err


def test_bad_value_names_the_key(proj, capsys):
    write(proj, {".pitfall.toml": '[helm]\nrelease-name = "Not Valid"\n', "a.py": "x = 1\n"})
    code, _, err = run(capsys, "check")
    assert code == 2 and ".pitfall.toml:2" in err and "helm.release-name" in err


def test_config_override_from_command_line(proj, capsys):
    write(proj, {"bad.py": BAD + BIND})
    code, out, _ = run(capsys, "check", "--format", "json", "--config", 'select = ["PRT101"]')
    assert codes(out) == {"PRT101"}
    code, out, _ = run(capsys, "check", "--show-settings", "--config", 'helm.values = ["v.yaml"]', "--config", 'pss-version = "v1.24"')
    shown = json.loads(out)
    assert shown["helm"]["values"] == [str((proj / "v.yaml").resolve())]
    assert shown["pss-version"] == "v1.24"
    code, _, err = run(capsys, "check", "--config", "nonsense = = 1")
    assert code == 2 and "--config" in err
    code, _, err = run(capsys, "check", "--config", 'selekt = ["X"]')
    assert code == 2 and "selekt" in err


def test_config_file_path(proj, capsys):
    write(proj, {"bad.py": BAD + BIND, "ci/pitfall.toml": 'select = ["TMO"]\n'})
    code, out, _ = run(capsys, "check", "--format", "json", "--config", "ci/pitfall.toml")
    assert codes(out) == {"TMO101"}


def test_unknown_selector_is_a_usage_error(proj, capsys):
    write(proj, {"a.py": "x = 1\n"})
    code, _, err = run(capsys, "check", "--select", "NOPE123")
    assert code == 2 and "NOPE123" in err


def test_preview_rules_need_preview(proj, capsys, tmp_path):
    pack = tmp_path / "extra"
    write(pack, {
        "pack.yaml": "name: extra\nprefix: XTR\nversion: 1.2.0\ndescription: test pack\n",
        "XTR101-eval-call.yaml": (
            "id: XTR101\nname: eval-call\ntarget: python\nseverity: warning\narea: config\nstatus: preview\n"
            "summary: s\nrationale: r\nmessage: m\nmatch:\n  call: [eval]\n"
            "examples:\n  valid: ['x = 1']\n  invalid: ['eval(x)  # error']\n"
        ),
    })
    write(proj, {"a.py": "eval('1')\n"})
    code, out, _ = run(capsys, "check", "--packs", str(pack), "--format", "json")
    assert "XTR101" not in codes(out)
    code, out, _ = run(capsys, "check", "--packs", str(pack), "--format", "json", "--preview")
    assert "XTR101" in codes(out)
    code, out, _ = run(capsys, "packs", "--packs", str(pack))
    assert "extra 1.2.0  XTR  1 rules  active" in out
    code, out, _ = run(capsys, "rules", "test", str(pack))
    assert code == 0 and "2 passed, 0 failed" in out


def _pack(root, applies):
    write(root, {
        "pack.yaml": f"name: reqs\nprefix: REQ\nversion: 0.1.0\ndescription: d\napplies-to: [{applies}]\n",
        "REQ101-any-get.yaml": (
            "id: REQ101\nname: any-get\ntarget: python\nseverity: warning\narea: timeout\n"
            "summary: s\nrationale: r\nmessage: m\nmatch:\n  call: [requests.get]\n"
            "examples:\n  valid: ['x = 1']\n  invalid: ['import requests\\nrequests.get(u)  # error']\n"
        ),
    })


@pytest.mark.parametrize(
    "declared, active",
    [("", False), ('dependencies = ["requests>=2.31"]', True), ('dependencies = ["requests==1.2.0"]', False)],
)
def test_applies_to_uses_declared_dependencies(proj, capsys, tmp_path, declared, active):
    _pack(tmp_path / "p", '"requests>=2.0"')
    write(proj, {"a.py": BAD, "pyproject.toml": f'[project]\nname = "x"\n{declared}\n'})
    code, out, _ = run(capsys, "check", "--packs", str(tmp_path / "p"), "--format", "json")
    assert ("REQ101" in codes(out)) is active


def test_applies_to_reads_requirements_txt(proj, capsys, tmp_path):
    _pack(tmp_path / "p", '"requests>=2.0"')
    write(proj, {"a.py": BAD, "requirements.txt": "# pinned\nrequests==2.32.3\n"})
    code, out, _ = run(capsys, "check", "--packs", str(tmp_path / "p"), "--format", "json")
    assert "REQ101" in codes(out)


@pytest.mark.parametrize(
    "files, active",
    [
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "^2.31"\n'}, True),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nrequests = {version = "1.2.0", extras = ["socks"]}\n'}, False),
        ({"pyproject.toml": '[dependency-groups]\nweb = ["requests>=2.31"]\n'}, True),
        ({"setup.cfg": "[options]\ninstall_requires =\n    click\n    requests>=2.0\n"}, True),
        ({"setup.py": "from setuptools import setup\nsetup(name='x', install_requires=['requests>=2.31'])\n"}, True),
        ({"Pipfile": '[packages]\nrequests = "*"\n'}, True),
        ({"requirements/base.txt": "requests==2.32.3 \\\n    --hash=sha256:00\n"}, True),
        ({"backend/pyproject.toml": '[project]\nname = "api"\ndependencies = ["requests>=2.31"]\n'}, True),
        ({"node_modules/x/requirements.txt": "requests==2.32.3\n"}, False),
        # a lock file's pin decides over a loose specifier beside it
        ({"requirements.txt": "requests\n", "poetry.lock": '[[package]]\nname = "requests"\nversion = "1.0.0"\n'}, False),
        ({"requirements.txt": "requests\n", "uv.lock": '[[package]]\nname = "Requests"\nversion = "2.32.3"\n'}, True),
        ({"requirements.txt": "requests\n", "poetry.lock": "[[package]\nbroken"}, True),
        # names compare as PEP 503 says, whatever the case, separators, extras and markers
        ({"requirements.txt": "  Requests[socks] >= 2.31 ; python_version >= '3.8'\n"}, True),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["requests-oauthlib>=1", "requests_toolbelt"]\n'}, False),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nREQUESTS = "^2.31"\n'}, True),
    ],
    ids=["poetry", "poetry-too-old", "dependency-groups", "setup.cfg", "setup.py-literal", "Pipfile", "requirements-folder-hashes", "sub-project", "node_modules-ignored", "lock-too-old", "uv-lock", "broken-lock-ignored", "name-with-extras-and-marker", "similar-names-are-others", "poetry-upper-case"],
)
def test_applies_to_reads_every_manifest_kind(proj, capsys, tmp_path, files, active):
    _pack(tmp_path / "p", '"requests>=2.0"')
    write(proj, {"a.py": BAD, **files})
    code, out, err = run(capsys, "check", "--packs", str(tmp_path / "p"), "--format", "json")
    assert code in (0, 1) and "Traceback" not in err
    assert ("REQ101" in codes(out)) is active


def test_setup_py_is_parsed_never_run(proj, capsys, tmp_path):
    _pack(tmp_path / "p", '"requests>=2.0"')
    marker = tmp_path / "ran"
    write(proj, {"a.py": BAD, "setup.py": f"open({str(marker)!r}, 'w').close()\nsetup(install_requires=['requests'])\n"})
    code, out, _ = run(capsys, "check", "--packs", str(tmp_path / "p"), "--format", "json")
    assert "REQ101" in codes(out) and not marker.exists()


def test_packs_command_says_why_a_pack_is_on_or_off(proj, capsys, tmp_path):
    _pack(tmp_path / "on", '"requests>=2.0"')
    write(tmp_path / "off", {"pack.yaml": "name: dj\nprefix: DJX\nversion: 0.1.0\ndescription: d\napplies-to: [\"django>=4\", \"celery\"]\n"})
    write(proj, {"svc/requirements.txt": "requests==2.32.3\ndjango==3.2\n"})
    code, out, err = run(capsys, "packs", "--packs", str(tmp_path / "on"), "--packs", str(tmp_path / "off"))
    assert code == 0, err
    assert "reqs 0.1.0  REQ  1 rules  active  [" in out
    assert "applies-to requests>=2.0: satisfied by svc/requirements.txt: requests==2.32.3" in out
    assert "dj 0.1.0  DJX  0 rules  inactive" in out
    assert "applies-to django>=4: not satisfied by svc/requirements.txt: django==3.2" in out
    assert "applies-to celery: not declared by the project" in out
    assert "timeouts " in out and "active (always)" in out


def test_invalid_rule_pack_names_file_line_and_key(proj, capsys, tmp_path):
    pack = tmp_path / "bad"
    write(pack, {
        "pack.yaml": "name: bad\nprefix: BAD\nversion: 0.1.0\ndescription: d\n",
        "BAD101-thing.yaml": "id: BAD101\nname: thing\ntarget: python\nseverity: warning\narea: timeout\nsummary: s\nrationale: r\nmessage: m\nmatch:\n  call: [x]\n  wher: []\nexamples:\n  valid: ['x']\n  invalid: ['x']\n",
    })
    write(proj, {"a.py": "x = 1\n"})
    code, _, err = run(capsys, "check", "--packs", str(pack))
    assert code == 2
    assert "BAD101-thing.yaml:11" in err and "wher" in err


def test_invalid_pack_version(proj, capsys, tmp_path):
    pack = tmp_path / "bad"
    write(pack, {"pack.yaml": "name: bad\nprefix: BAD\nversion: one\ndescription: d\n"})
    write(proj, {"a.py": "x = 1\n"})
    code, _, err = run(capsys, "check", "--packs", str(pack))
    assert code == 2 and "pack.yaml:3" in err and "version" in err


def test_pack_version_pins(proj, capsys):
    write(proj, {"a.py": "x = 1\n"})
    assert run(capsys, "check", "--config", 'pack-versions = {timeouts = ">=0.1"}')[0] == 0
    code, _, err = run(capsys, "check", "--config", 'pack-versions = {timeouts = ">=9"}')
    assert code == 2 and "timeouts" in err


def test_python_m_linter_and_version(capsys):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "linter", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("pitfall ")


def test_rules_list_and_show(capsys):
    code, out, _ = run(capsys, "rules", "list")
    assert code == 0 and "TMO101  request-without-timeout" in out
    code, out, _ = run(capsys, "rules", "show", "request-without-timeout")
    assert code == 0 and "## Why is this bad?" in out


def test_opt_in_rules_need_more_than_all(tmp_path):
    from linter.core.packs import load_pack, select_rules

    write(tmp_path / "pack", {
        "pack.yaml": "name: local\nprefix: LOC\nversion: 0.1.0\ndescription: test pack\n",
        **{
            f"LOC10{i}-{name}.yaml": (
                f"id: LOC10{i}\nname: {name}\ntarget: python\nseverity: warning\narea: config\n"
                f"summary: s\nrationale: r\nmessage: m\nmatch:\n  call: [eval]\n{extra}"
                "examples:\n  valid: ['x = 1']\n  invalid: ['eval(x)  # error']\n"
            )
            for i, name, extra in ((1, "eval-call", ""), (2, "eval-anywhere", "opt-in: true\n"))
        },
    })
    packs = [load_pack(tmp_path / "pack", builtin=False)]
    assert {r.id for r in select_rules(packs)} == {"LOC101"}  # ALL leaves the opt-in rule out
    for selector in ("LOC102", "eval-anywhere", "LOC", "LOC1"):
        assert {r.id for r in select_rules(packs, extend_select=[selector])} == {"LOC101", "LOC102"}, selector
    assert {r.id for r in select_rules(packs, select=["LOC102"], ignore=["LOC102"])} == set()


def test_rules_test_fails_broken_examples_under_python_optimize(tmp_path):
    """`pitfall rules test` is a release check: `python -O` (asserts stripped) must not pass a
    pack whose examples are wrong."""
    import subprocess
    import sys

    pack = tmp_path / "broken"
    write(pack, {
        "pack.yaml": "name: broken\nprefix: BRK\nversion: 0.1.0\ndescription: test pack\n",
        "BRK101-eval-call.yaml": (
            "id: BRK101\nname: eval-call\ntarget: python\nseverity: warning\narea: config\n"
            "summary: s\nrationale: r\nmessage: m\nmatch:\n  call: [eval]\n"
            # the valid example calls eval, the invalid one marks a line that does not
            "examples:\n  valid: ['eval(x)']\n  invalid: ['x = 1  # error']\n"
        ),
    })
    proc = subprocess.run([sys.executable, "-O", "-m", "linter", "rules", "test", str(pack)], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "0 passed, 2 failed" in proc.stdout


def test_rules_test_checks_errors_lines_of_unmarkable_examples(tmp_path, capsys):
    """`errors: [lines]` stands in for `# error` markers where a comment would change the file
    (a PEM block): the reported lines must equal them, and an example may not use both."""
    rule = (
        "id: BRK101\nname: eval-call\ntarget: python\nseverity: warning\narea: config\n"
        "summary: s\nrationale: r\nmessage: m\nmatch:\n  call: [eval]\n"
        "examples:\n  valid: ['x = 1']\n  invalid:\n{invalid}"
    )
    cases = {
        "right": "    - code: \"x = 1\\neval(x)\\n\"\n      errors: [2]\n",
        "wrong-line": "    - code: \"eval(x)\\nx = 1\\n\"\n      errors: [2]\n",
        "both": "    - code: \"eval(x)  # error\\n\"\n      errors: [1]\n",
    }
    results = {}
    for name, invalid in cases.items():
        pack = tmp_path / name
        write(pack, {"pack.yaml": "name: brk\nprefix: BRK\nversion: 0.1.0\ndescription: d\n", "BRK101-eval-call.yaml": rule.format(invalid=invalid)})
        code, out, _ = run(capsys, "rules", "test", str(pack))
        results[name] = (code, "2 passed, 0 failed" in out)
    assert results == {"right": (0, True), "wrong-line": (1, False), "both": (1, False)}


def test_rules_test_runs_a_built_in_pack_named_by_its_folder(capsys):
    """The rule-writing loop: `pitfall rules test rules/<pack>` on a built-in pack runs that
    pack's examples (its hooks are built in), not a refusal or a duplicate-pack error."""
    from linter.core.packs import builtin_pack_dirs, load_packs

    folder = next(d for d in builtin_pack_dirs() if d.name == "retries")
    code, out, err = run(capsys, "rules", "test", str(folder))
    assert code == 0, err
    passed = int(out.strip().splitlines()[-1].split()[0])
    retries = next(p for p in load_packs() if p.name == "retries")
    assert passed == sum(len(r.valid) + len(r.invalid) for r in retries.rules)


@pytest.mark.parametrize(
    "hook, message",
    [
        ("visitor: linter.python.hooks.ports:NoSuchVisitor", "cannot be loaded: AttributeError"),
        ("visitor: no_such_module_of_pitfall:Thing", "cannot be loaded: ModuleNotFoundError"),
        ("visitor: linter.python.evidence:unpacked", "is not a subclass of linter.python.visitor.Visitor"),
        ("match:\n  call: [requests.get]\n  unless: linter.python.visitor:Visitor", "is not a function"),
    ],
    ids=["missing-name", "missing-module", "visitor-is-a-function", "unless-is-a-class"],
)
def test_a_trusted_packs_hooks_are_checked_when_it_loads(proj, capsys, tmp_path, hook, message):
    """A wrong hook stops the run at once, naming file, line and key, even where no file would
    have reached it (here: the project has no Python file at all)."""
    pack = tmp_path / "hooked"
    write(pack, {
        "pack.yaml": "name: hooked\nprefix: HKD\nversion: 0.1.0\ndescription: d\n",
        "HKD101-thing.yaml": (
            "id: HKD101\nname: thing\ntarget: python\nseverity: warning\narea: config\nsummary: s\nrationale: r\nmessage: m\n"
            f"{hook}\nexamples:\n  valid: ['x = 1']\n  invalid: ['x = 1  # error']\n"
        ),
    })
    write(proj, {"deploy.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    code, _, err = run(capsys, "check", "--packs", str(pack), "--trust-pack-code")
    line = 9 + hook.count("\n")  # the key's own line
    assert code == 2 and f"HKD101-thing.yaml:{line}" in err and message in err, err
    assert "Traceback" not in err


def test_a_trusted_file_rule_check_gets_the_certificate_analysis(proj, capsys, tmp_path, monkeypatch):
    """A file rule of a trusted pack may name its own check, ``(Analysis) -> Iterable[CertIssue]``,
    beside the built-in ``certificate`` blocks: it runs on every certificate file."""
    hooks = tmp_path / "hookmods"
    write(hooks, {"pem_hooks.py": (
        "from linter.certs.checks import CertIssue\n"
        "def any_certificate(a):\n"
        "    return [CertIssue('custom', 'a certificate is committed', 1, 'warning')] if a.looks_like_pem_or_der_cert else []\n"
    )})
    monkeypatch.syspath_prepend(str(hooks))
    pack = tmp_path / "pems"
    write(pack, {
        "pack.yaml": "name: pems\nprefix: PEM\nversion: 0.1.0\ndescription: d\n",
        "PEM101-committed-certificate.yaml": (
            "id: PEM101\nname: committed-certificate\ntarget: file\nseverity: warning\narea: cert\nsummary: s\nrationale: r\n"
            "message: m\ncheck: pem_hooks:any_certificate\nexamples:\n  valid: ['x']\n  invalid: ['x']\n"
        ),
    })
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from datetime import datetime, timedelta, timezone

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365)).sign(key, hashes.SHA256()))
    write(proj, {"tls/server.crt": cert.public_bytes(serialization.Encoding.PEM).decode()})
    code, out, err = run(capsys, "check", "--packs", str(pack), "--trust-pack-code", "--select", "PEM", "--format", "json")
    assert [(f["code"], f["filename"], f["message"]) for f in json.loads(out)["findings"]] == [("PEM101", "tls/server.crt", "a certificate is committed")], err
