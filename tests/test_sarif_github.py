"""SARIF for GitHub code scanning: primaryLocationLineHash as the upload action computes it,
related locations GitHub accepts, short fullDescriptions, the pack attestation and applied fixes
in the run's properties; unused annotation suppressions (LNT003)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run, sarif, validate_sarif, write

from linter.core.model import Finding, Region, Related
from linter.report.formats import line_hashes, sarif_report

# ---------------------------------------------------------------------------- an independent hash
#
# github/codeql-action src/fingerprints.ts, written here as a plain formula rather than a rolling
# window: the hash of a line is the base-37 polynomial (mod 2**64) of the next 100 characters of the
# normalized stream from the line's first character (spaces and tabs dropped, \r\n and \r made \n,
# UTF-16 code units, 65535 for end of file, then zeros), and ":<n>" counts equal hashes in order.


def reference_hashes(text: str) -> list[str]:
    raw = text.encode("utf-16-le", "surrogatepass")
    units = [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]
    stream: list[int] = []
    starts: list[int] = []
    at_start, after_cr = True, False
    for u in [*units, 65535]:
        if u in (0x20, 0x09) or (after_cr and u == 0x0A):
            after_cr = False
            continue
        after_cr = u == 0x0D
        if u == 0x0D:
            u = 0x0A
        if at_start:
            starts.append(len(stream))
            at_start = False
        if u == 0x0A:
            at_start = True
        stream.append(u)
    stream += [0] * 100
    seen: dict[str, int] = {}
    out = []
    for s in starts:
        value = 0
        for i in range(100):
            value += stream[s + i] * 37 ** (99 - i)
        key = format(value % 2**64, "x")
        seen[key] = seen.get(key, 0) + 1
        out.append(f"{key}:{seen[key]}")
    return out


# known input/output pairs from codeql-action's src/fingerprints.test.ts
UPSTREAM = [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
        ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1", "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"],
    ),
    (
        " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1", "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"],
    ),
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [*(f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)), "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1", "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), UPSTREAM)
def test_line_hashes_match_the_upload_action(text, expected):
    assert reference_hashes(text) == expected  # the test's own formula agrees with upstream
    got = line_hashes(text)
    assert [got[n] for n in sorted(got)] == expected
    assert sorted(got) == list(range(1, len(expected) + 1))


def test_line_hashes_of_non_ascii_text():
    text = "é = '😀'\n\tx = 1  # naïve\r\n" + "y" * 150 + "\n"
    got = line_hashes(text)
    assert [got[n] for n in sorted(got)] == reference_hashes(text)


@pytest.fixture
def proj(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


BAD = "import requests\n\n\ndef f(u):\n    return requests.get(u)\n"


def _results(doc):
    return doc["runs"][0]["results"]


def test_primary_location_line_hash_is_the_upload_actions_and_stable(proj, capsys):
    write(proj, {"svc/bad.py": BAD})
    _, doc = sarif(capsys, "--select", "TMO101")
    (res,) = _results(doc)
    line = res["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert line == 5
    expected = reference_hashes((proj / "svc/bad.py").read_text(encoding="utf-8"))[line - 1]
    assert res["partialFingerprints"]["primaryLocationLineHash"] == expected
    first = res["partialFingerprints"]

    # unrelated lines added above: another line number, the same fingerprints
    write(proj, {"svc/bad.py": '"""Module."""\n\nimport os\n\nLIMIT = 3  # unrelated\n' + BAD})
    _, doc = sarif(capsys, "--select", "TMO101")
    (res,) = _results(doc)
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == 10
    assert res["partialFingerprints"] == first
    assert set(first) == {"primaryLocationLineHash", "pitfall/v1"}


def test_line_hash_omitted_when_the_file_cannot_be_read(tmp_path):
    f = Finding("TMO101", "gone.py", Region(1, 1, 1, 2), "m", "warning", fingerprint="x")
    doc = json.loads(sarif_report([f], [], rules=[], packs=[], root=tmp_path))
    validate_sarif(doc)
    (res,) = doc["runs"][0]["results"]
    assert set(res["partialFingerprints"]) == {"pitfall/v1"}


def test_related_locations_without_region_or_file_go_to_properties(tmp_path):
    write(tmp_path, {"c/templates/a.yaml": "kind: Pod\n", "c/values.yaml": "x: 1\n"})
    f = Finding(
        "PSA201", "c/templates/a.yaml", Region(1, 1, 1, 2), "m", "error",
        related=(
            Related("c/templates/a.yaml", None, "rendered templates/a.yaml (document 1) line 7"),
            Related("c/values.yaml", Region.point(1), "value `x`"),
            Related("c.tgz/values.yaml", Region.point(1), "value `x`"),
        ),
    )
    doc = json.loads(sarif_report([f], [], rules=[], packs=[], root=tmp_path))
    validate_sarif(doc)
    (res,) = doc["runs"][0]["results"]
    assert res["relatedLocations"] == [
        {
            "id": 0,
            "physicalLocation": {
                "artifactLocation": {"uri": "c/values.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 2},
            },
            "message": {"text": "value `x`"},
        }
    ]
    assert [r["message"] for r in res["properties"]["pitfall/related"]] == [
        "rendered templates/a.yaml (document 1) line 7",
        "value `x`",
    ]


CHART = {
    "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
    "c/values.yaml": "hostNetwork: true\n",
    "c/templates/pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: {{ .Values.hostNetwork }}\n"
        "  containers:\n    - name: a\n      image: b\n"
    ),
}


def test_real_output_meets_githubs_expectations(proj, capsys):
    write(proj, {**CHART, "svc/bad.py": BAD})
    _, doc = sarif(capsys, "--helm-profiles", "defaults")
    run_ = doc["runs"][0]
    results = run_["results"]
    chart = [r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("c/templates/")]
    assert chart, results
    related = [loc for r in results for loc in r.get("relatedLocations", ())]
    assert any(loc["physicalLocation"]["artifactLocation"]["uri"] == "c/values.yaml" for loc in related)
    for loc in related:
        assert "region" in loc["physicalLocation"]
        assert (proj / loc["physicalLocation"]["artifactLocation"]["uri"]).is_file()
    assert all(any("rendered" in x["message"] for x in r["properties"]["pitfall/related"]) for r in chart)
    for r in results:
        assert "primaryLocationLineHash" in r["partialFingerprints"]
    rules = run_["tool"]["driver"]["rules"]
    assert {"TMO101", "CTX102"} <= {r["id"] for r in rules}
    for rule in rules:
        assert 0 < len(rule["fullDescription"]["text"]) <= 1024, rule["id"]
    long = next(r for r in rules if r["id"] == "CTX103")  # its rationale is over 2,000 characters
    assert len(long["help"]["text"]) > 2000  # the long text stays in help
    assert long["fullDescription"]["text"][:200] in long["help"]["text"].replace("\n", " ")


def test_sarif_run_carries_the_attestation_summary(proj, capsys):
    write(proj, {"svc/bad.py": BAD})
    _, doc = sarif(capsys, "--select", "TMO,PSA", "--attest", "att.json")
    att = json.loads((proj / "att.json").read_text(encoding="utf-8"))
    props = doc["runs"][0]["properties"]
    assert props["pitfall/packs"] == att["packs"]
    timeouts = next(p for p in props["pitfall/packs"] if p["name"] == "timeouts")
    assert timeouts["passed"] is False and timeouts["findings"]["warning"] == 1
    assert props["pitfall/fail-on"] == att["fail-on"] and props["pitfall/passed"] is False
    assert "pitfall/fixes-applied" not in props


def test_fix_run_records_fixes_applied_for_stats(proj, capsys):
    write(proj, {"a.py": "x = 1  # pitfall: ignore[TMO101] nothing here\ny = 2  # pitfall: ignore[TLS101]\n", "b.py": BAD})
    code, out, _ = run(capsys, "check", "--fix", "--format", "sarif", "--output", "run.sarif")
    doc = json.loads((proj / "run.sarif").read_text(encoding="utf-8"))
    validate_sarif(doc)
    assert (proj / "a.py").read_text(encoding="utf-8") == "x = 1\ny = 2\n"
    assert doc["runs"][0]["properties"]["pitfall/fixes-applied"] == {"LNT003": 2}
    code, out, _ = run(capsys, "stats", "--format", "json", "run.sarif")
    assert code == 0, out
    stats = json.loads(out)
    rows = stats if isinstance(stats, list) else stats.get("rules", stats)
    text = json.dumps(rows)
    assert '"LNT003"' in text and '"fixes_applied": 2' in text


# ---------------------------------------------------------------------------- unused annotations

POD = """apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    ignore-check.pitfall.dev/PSA213: "legacy image"
    "ignore-check.pitfall.dev/PSA202": "nothing uses the host network"
    # ignore-check.pitfall.dev/PSA203: a comment is not an annotation
spec:
  containers:
    - name: c
      image: nginx:latest
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
  annotations:
    ignore-check.pitfall.dev/PSA213: "no container here"
    ignore-check.pitfall.dev/CTX102: "not selected"
data: {}
"""


def _json(capsys, *argv):
    code, out, _ = run(capsys, "check", "--format", "json", *argv)
    return code, json.loads(out)["findings"]


def test_unused_annotation_suppressions_are_reported(proj, capsys):
    write(proj, {"pod.yaml": POD})
    _, found = _json(capsys, "--select", "PSA,LNT")
    unused = sorted((f["location"]["row"], f["location"]["column"], f["message"]) for f in found if f["code"] == "LNT003")
    assert unused == [
        (7, 6, "unused suppression `ignore-check.pitfall.dev/PSA202`"),
        (19, 5, "unused suppression `ignore-check.pitfall.dev/PSA213`"),
    ]
    sup = [f for f in found if f["suppression"]]
    assert [(f["code"], f["suppression"]["origin"]) for f in sup] == [("PSA213", "annotation")]
    # the annotation on the ConfigMap can be removed; the one followed by a comment is left
    # alone (the round trip would drop the comment)
    fixes = {f["location"]["row"]: f["fix"] for f in found if f["code"] == "LNT003"}
    assert fixes[7] is None and fixes[19] is not None


def test_unused_annotation_in_json_manifest_and_unselected_rule(proj, capsys):
    manifest = {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "annotations": {"ignore-check.pitfall.dev/PSA213": "x", "ignore-check.pitfall.dev/TMO101": "y"}},
    }
    write(proj, {"cm.json": json.dumps(manifest, indent=2) + "\n"})
    _, found = _json(capsys, "--select", "PSA,LNT")
    assert [(f["code"], f["location"]["row"], f["message"]) for f in found] == [
        ("LNT003", 7, "unused suppression `ignore-check.pitfall.dev/PSA213`")
    ]


def test_unused_annotation_in_chart_template(proj, capsys):
    write(proj, {
        "c/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "c/templates/pod.yaml": (
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
            "    ignore-check.pitfall.dev/PSA201: \"break-glass debug pod\"\n"
            "    ignore-check.pitfall.dev/PSA202: \"no host network here\"\n"
            "spec:\n  containers:\n    - name: a\n      image: b\n      securityContext:\n        privileged: true\n"
        ),
    })
    _, found = _json(capsys, "--helm-profiles", "defaults", "--select", "PSA201,PSA202,LNT")
    got = sorted((f["code"], f["filename"], f["location"]["row"], bool(f["suppression"])) for f in found)
    assert got == [("LNT003", "c/templates/pod.yaml", 7, False), ("PSA201", "c/templates/pod.yaml", 13, True)]


def test_used_annotation_is_not_reported(proj, capsys):
    write(proj, {"pod.yaml": POD.split("---")[0]})
    _, found = _json(capsys, "--select", "PSA213,LNT")
    assert not [f for f in found if f["code"] == "LNT003"]
    assert Path("pod.yaml").exists()
