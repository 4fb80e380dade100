"""The built-in packs: schema-valid, named by convention, documented, tagged per DESIGN.md."""

from __future__ import annotations

import json
import re
from pathlib import Path

from linter.report.docs import expected_docs
from linter.core.packs import builtin_pack_dirs, data_dir, load_pack, load_packs

PACKS = load_packs()
RULES = [r for p in PACKS for r in p.rules]
UPSTREAM_PSS = {
    "privileged", "hostNamespaces", "hostPathVolumes", "hostPorts", "hostProbesAndHostLifecycle",
    "capabilities_baseline", "appArmorProfile", "seLinuxOptions", "procMount", "seccompProfile_baseline",
    "sysctls", "windowsHostProcess", "allowPrivilegeEscalation", "capabilities_restricted",
    "procMount_restricted", "restrictedVolumes", "runAsNonRoot", "runAsUser", "seccompProfile_restricted",
}
AREAS = {"timeout", "context", "retry", "port", "bind", "tls", "cert", "pss", "probe", "config"}


def test_our_schemas_are_valid_json_schemas():
    from jsonschema import Draft202012Validator

    names = sorted(p.name for p in data_dir("schemas").glob("*.schema.json"))
    assert {"attestation.schema.json", "config.schema.json", "pack.schema.json", "rule.schema.json"} <= set(names)
    for name in names:
        Draft202012Validator.check_schema(json.loads((data_dir("schemas") / name).read_text(encoding="utf-8")))


def test_builtin_packs_pass_the_schemas_a_user_pack_must_pass():
    # a run skips this validation for the packs it ships with: this test is where they get it
    validated = [load_pack(d, builtin=True, validate=True) for d in builtin_pack_dirs()]
    assert validated == PACKS


def test_ids_and_names_are_unique_and_follow_the_scheme():
    ids = [r.id for r in RULES]
    names = [r.name for r in RULES]
    assert len(ids) == len(set(ids)) and len(names) == len(set(names))
    digit = {"tool": "0", "python": "1", "file": "1", "kubernetes": "2", "chart": "2"}
    for pack in PACKS:
        for r in pack.rules:
            assert r.id.startswith(pack.prefix) and r.id[3] == digit[r.target], r.id
            assert Path(r.source).name == f"{r.id}-{r.name}.yaml"
            assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", r.name)


def test_every_rule_is_tagged_per_design():
    for r in RULES:
        area = [t for t in r.tags if t.startswith("area:")]
        assert len(area) == 1 and area[0][5:] in AREAS, r.id
        if r.security_severity is not None:
            assert any(t.startswith("external/cwe/cwe-") for t in r.tags), r.id
        if r.area == "pss" and r.pss_check:
            assert r.pss_check in UPSTREAM_PSS and r.pss_level in ("baseline", "restricted")


def test_one_rule_per_upstream_pss_check():
    checks = sorted(r.pss_check for r in RULES if r.pss_check)
    assert sorted(UPSTREAM_PSS) == checks


def test_committed_docs_match_the_packs():
    docs = Path(__file__).resolve().parent.parent / "docs" / "rules"
    want = expected_docs(PACKS)
    stale = [n for n, text in want.items() if not (docs / n).is_file() or (docs / n).read_text(encoding="utf-8") != text]
    extra = sorted(p.name for p in docs.glob("*.md") if p.name not in want)
    assert not stale and not extra, f"run `pitfall rules docs`: stale {stale}, extra {extra}"
    assert all(t.startswith("<!-- generated") for t in want.values())


def test_rule_files_carry_the_schema_header():
    for path in sorted(data_dir("rules").rglob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), path


def test_pack_versions_are_semver_and_since_is_not_newer():
    from packaging.version import Version

    for pack in PACKS:
        for r in pack.rules:
            assert Version(r.since) <= Version(pack.version), r.id
