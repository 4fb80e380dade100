"""The results cache: a warm run reports exactly what a cold one does and analyses only what changed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import run, write

from linter.core import cache as cachemod
from linter.core import engine
from linter.core.config import load_settings
from linter.core.discover import discover

BAD = 'import requests\n\n\ndef f(u):\n    return requests.get(u)\n'
SUPPRESSED = 'import requests\nrequests.get("https://x", timeout=3, verify=False)  # pitfall: ignore[TLS101] fixture\n'
UNUSED = "x = 1  # pitfall: ignore[TMO101]\n"  # silences nothing: LNT003
CLIENT = "def fetch(url, timeout=None):\n    return url\n"
SERVICE = "from pkg.client import fetch\n\n\ndef h(u, timeout):\n    fetch(u)\n"
POD = """apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: shop
spec:
  containers:
    - name: app
      image: nginx:1.27
      securityContext:
        privileged: true
"""
FILES = {
    "svc/bad.py": BAD,
    "svc/tls.py": SUPPRESSED,
    "svc/unused.py": UNUSED,
    "pkg/__init__.py": "",
    "pkg/client.py": CLIENT,
    "pkg/service.py": SERVICE,
    "deploy/pod.yaml": POD,
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    write(root, FILES)
    monkeypatch.chdir(root)
    monkeypatch.setenv(cachemod.ENV, str(tmp_path / "cache"))
    return root


@pytest.fixture
def analysed(monkeypatch):
    """The paths the analysis ran on (every analysis goes through engine.lint_unit)."""
    seen: list[str] = []
    original = engine.lint_unit

    def counting(kind, path, data, ruleset, **kw):
        seen.append(path)
        return original(kind, path, data, ruleset, **kw)

    monkeypatch.setattr(engine, "lint_unit", counting)
    return seen


def check(capsys, *args: str) -> tuple[int, str]:
    code, out, _ = run(capsys, "check", "-j", "1", *args)
    return code, out


def cache_files(tmp_path: Path) -> list[Path]:
    top = tmp_path / "cache" / "projects"
    return sorted(p for p in top.rglob("*") if p.is_file()) if top.exists() else []


def codes(out: str) -> list[tuple[str, str, int]]:
    doc = json.loads(out)
    items = doc["findings"] if isinstance(doc, dict) else doc
    return sorted((f["code"], f["filename"], f["location"]["row"]) for f in items)


def test_a_warm_run_prints_the_same_report_and_analyses_nothing(project, capsys, analysed):
    for fmt in ("json", "sarif"):
        first = check(capsys, "--format", fmt, "--no-cache")
        analysed.clear()
        assert check(capsys, "--format", fmt) == first  # cold (json) or warm (sarif: same entries)
        assert check(capsys, "--format", fmt) == first
    analysed.clear()
    check(capsys, "--format", "json")
    assert analysed == []
    # suppressed in source, and the directive that silences nothing (LNT003), as on a cold run
    doc = json.loads(check(capsys, "--format", "sarif")[1])
    results = doc["runs"][0]["results"]
    assert any(r["ruleId"] == "TLS101" and r.get("suppressions") for r in results)
    assert any(r["ruleId"] == "LNT003" and "unused.py" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)


def test_a_run_the_cache_answers_whole_compiles_no_rules(project, capsys, monkeypatch):
    # compiling the rules (and importing libcst for them) is the larger part of a warm run: a
    # run whose every unit comes from the cache skips it, and a run with one changed file
    # compiles what that file needs and reports what a run without the cache does
    from linter.kubernetes.analyzer import KubeRuleSet
    from linter.python.analyzer import PythonRuleSet

    first = check(capsys, "--format", "json")
    compiled: list[str] = []
    for cls, label in ((PythonRuleSet, "python"), (KubeRuleSet, "kubernetes")):
        real = cls.__init__
        monkeypatch.setattr(cls, "__init__", lambda self, *a, _real=real, _label=label, **k: compiled.append(_label) or _real(self, *a, **k))
    assert check(capsys, "--format", "json") == first
    assert compiled == []
    (project / "svc" / "bad.py").write_text(BAD + "\n\ndef g(u):\n    return requests.post(u)\n", encoding="utf-8")
    out = check(capsys, "--format", "json")
    assert "python" in compiled and "kubernetes" not in compiled
    assert out == check(capsys, "--format", "json", "--no-cache")


def test_the_warm_report_equals_a_run_without_cache_in_every_format(project, capsys):
    # and the notices of the run: a file that does not parse, one that is not UTF-8 (LNT001)
    write(project, {"svc/broken.py": "def f(:\n", "svc/latin.py": b"x = '\xe9'\n", "deploy/bad.yaml": "apiVersion: v1\nkind: [\n"})
    for fmt in ("text", "full", "json", "github", "sarif"):
        cold = run(capsys, "check", "-j", "1", "--format", fmt, "--no-cache")
        assert "broken.py" in cold[1] + cold[2] and "latin.py" in cold[1] + cold[2]
        assert run(capsys, "check", "-j", "1", "--format", fmt) == cold
        assert run(capsys, "check", "-j", "1", "--format", fmt) == cold


def test_changing_one_file_analyses_only_that_file(project, capsys, analysed):
    check(capsys, "--format", "json")
    (project / "svc" / "bad.py").write_text(BAD + "\n\ndef g(u):\n    return requests.post(u)\n", encoding="utf-8")
    analysed.clear()
    out = check(capsys, "--format", "json")[1]
    assert analysed == ["svc/bad.py"]
    assert out == check(capsys, "--format", "json", "--no-cache")[1]
    assert [c for c in codes(out) if c[1] == "svc/bad.py" and c[0] == "TMO101"] == [("TMO101", "svc/bad.py", 5), ("TMO101", "svc/bad.py", 9)]


def test_a_changed_signature_reanalyses_the_callers_through_the_index(project, capsys, analysed):
    out = check(capsys, "--format", "json")[1]
    assert ("CTX102", "pkg/service.py", 5) in codes(out)
    (project / "pkg" / "client.py").write_text("def fetch(url):\n    return url\n", encoding="utf-8")
    analysed.clear()
    out = check(capsys, "--format", "json")[1]
    assert "pkg/service.py" in analysed  # its call's callee changed in the index
    assert ("CTX102", "pkg/service.py", 5) not in codes(out)
    assert out == check(capsys, "--format", "json", "--no-cache")[1]
    # a change inside a function body changes no signature: only that file again
    (project / "pkg" / "client.py").write_text("def fetch(url):\n    return url + '/'\n", encoding="utf-8")
    analysed.clear()
    check(capsys, "--format", "json")
    assert analysed == ["pkg/client.py"]


@pytest.mark.parametrize(
    "change",
    [
        ("--config", "per-file-ignores = {'svc/*' = ['TMO101']}"),
        ("--config", "max-timeout = 10"),
        ("--select", "TMO,TLS"),
        ("--ignore", "TLS101"),
        ("--preview",),
    ],
)
def test_a_setting_or_the_rule_selection_invalidates(project, capsys, analysed, change):
    check(capsys, "--format", "json")
    analysed.clear()
    changed = check(capsys, "--format", "json", *change)
    assert analysed  # analysed again, not served from the first run's entries
    assert changed == check(capsys, "--format", "json", "--no-cache", *change)


def test_settings_that_act_after_the_analysis_keep_the_cache(project, capsys, analysed):
    check(capsys, "--format", "json")
    analysed.clear()
    check(capsys, "--format", "json", "--fail-on", "error", "--jobs", "2")
    assert analysed == []


def test_a_new_pack_version_invalidates(project, capsys, analysed, monkeypatch):
    from linter import cli
    from linter.core.packs import load_packs

    check(capsys, "--format", "json")

    def upgraded(*args, **kwargs):
        return [replace(p, version=p.version + ".1") if p.name == "timeouts" else p for p in load_packs(*args, **kwargs)]

    monkeypatch.setattr(cli, "load_packs", upgraded)
    analysed.clear()
    check(capsys, "--format", "json")
    assert "svc/bad.py" in analysed


def _project_folder(project: Path) -> Path:
    return cachemod.project_folder(load_settings(cwd=project))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong-version", "wrong-checksum"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(project, capsys, analysed, tmp_path, damage):
    first = check(capsys, "--format", "json")
    store = cachemod.Store(_project_folder(project), cachemod._secret())
    damaged = [p for p in cache_files(tmp_path) if p.suffix == ".json" and p.name != "project.json"]
    assert len(damaged) > 5
    for path in damaged:
        raw = path.read_bytes()
        mac, _, body = raw.partition(b"\n")
        if damage == "garbage":
            path.write_bytes(os.urandom(200))
        elif damage == "truncated":
            path.write_bytes(raw[: len(raw) // 2])
        elif damage == "wrong-version":
            value = json.loads(body)
            value["format"] = cachemod.FORMAT + 1
            store.write(str(path.relative_to(store.folder)), value)  # correctly signed, other format
        else:  # valid JSON that would hide every finding, under the old checksum
            value = json.loads(body)
            if "result" in value:
                value["result"]["findings"] = []
            path.write_bytes(mac + b"\n" + json.dumps(value).encode())
    analysed.clear()
    assert check(capsys, "--format", "json") == first
    assert len(analysed) == len(FILES)  # every unit analysed again
    analysed.clear()
    assert check(capsys, "--format", "json") == first
    assert analysed == []  # rebuilt


def test_no_cache_writes_nothing(project, capsys, tmp_path):
    check(capsys, "--format", "json", "--no-cache")
    assert not (tmp_path / "cache").exists()


def test_cache_false_in_the_configuration_writes_nothing(project, capsys, tmp_path):
    check(capsys, "--format", "json", "--config", "cache = false")
    assert not (tmp_path / "cache").exists()


def test_clean_removes_the_cache_of_the_project(project, capsys, analysed, tmp_path):
    check(capsys, "--format", "json")
    folder = _project_folder(project)
    assert folder.is_dir()
    code, out, _ = run(capsys, "clean")
    assert code == 0 and str(folder) in out and str(project) in out
    assert not folder.exists()
    analysed.clear()
    check(capsys, "--format", "json")
    assert analysed
    run(capsys, "clean")
    code, out, _ = run(capsys, "clean")
    assert code == 0 and out.startswith("no cache to remove")


def test_clean_all_removes_every_project(project, capsys, tmp_path, monkeypatch):
    other = tmp_path / "other"
    write(other, {"a.py": BAD})
    check(capsys, "--format", "json")
    monkeypatch.chdir(other)
    check(capsys, "--format", "json")
    assert len(list((tmp_path / "cache" / "projects").iterdir())) == 2
    code, out, _ = run(capsys, "clean", "--all")
    assert code == 0 and out.count("removed ") == 3  # the two projects and the start-up memo
    assert list((tmp_path / "cache" / "projects").iterdir()) == []
    assert not (tmp_path / "cache" / "startup").exists()


def test_the_default_cache_is_outside_the_project(project, monkeypatch, tmp_path):
    monkeypatch.delenv(cachemod.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    folder = _project_folder(project)
    assert folder.parent.parent == tmp_path / "xdg" / "pitfall"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _project_folder(project).parent.parent == tmp_path / "home" / ".cache" / "pitfall"


def _lint(root: Path, settings) -> tuple[list, int]:
    """A run as the CLI makes it, with ``settings``: (results, units analysed)."""
    units, _ = discover(["."], settings, cwd=root)
    ruleset = engine.build_ruleset(settings)
    ruleset.cache = cachemod.open_cache(settings)
    results = engine.run(units, ruleset, jobs=1)
    return results, ruleset.cache.analysed


def test_entries_planted_in_the_repository_have_no_effect(project, capsys, analysed):
    # a cache folder that the repository holds (as a `cache-dir` setting may point into it)
    settings = replace(load_settings(cwd=project), cache_dir=str(project / ".pitfall_cache"))
    clean, _ = _lint(project, settings)
    bad = next(r for r in clean if r.path == "svc/bad.py")
    assert bad.findings
    # the repository ships entries that hide the finding, signed with a key that is not the user's
    for path in (project / ".pitfall_cache").rglob("units/*/*.json"):
        body = json.loads(path.read_bytes().partition(b"\n")[2])
        body["result"]["findings"] = []
        forged = cachemod.Store(path.parents[2], b"k" * 32)
        forged.write(str(path.relative_to(path.parents[2])), body)
    results, count = _lint(project, settings)
    assert results == clean and count == len(clean)
    # and a `.pitfall_cache` folder at the top of the repository is not where the cache is read
    out = check(capsys, "--format", "json")[1]
    assert ("TMO101", "svc/bad.py", 5) in codes(out)


def test_two_concurrent_runs_both_finish_correctly(project, tmp_path):
    for i in range(30):
        write(project, {f"more/m{i}.py": BAD.replace("f(u)", f"f{i}(u)")})
    env = {**os.environ, cachemod.ENV: str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "linter", "check", "--format", "json", "-j", "2"]
    reference = subprocess.run([*cmd, "--no-cache"], cwd=project, env=env, capture_output=True, text=True, check=False)
    runs = [subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in runs]
    assert [p.returncode for p in runs] == [1, 1]
    assert [o for o, _ in outs] == [reference.stdout] * 2
    assert all("Traceback" not in e for _, e in outs)
    again = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert again.stdout == reference.stdout
    leftovers = [p for p in cache_files(tmp_path) if p.name.startswith((".tmp-", ".key-"))]
    assert leftovers == []


def test_a_result_checked_against_the_clock_is_served_until_it_may_change(project, capsys, analysed, monkeypatch):
    from datetime import timedelta

    from test_kube_rules import ec_key, make_cert, pem, tls_secret

    from linter.core import clock

    write(project, {"deploy/secret.yaml": tls_secret(pem(make_cert(ec_key(), days_left=10)))})
    out = check(capsys, "--format", "json")[1]
    assert ("TLS211", "deploy/secret.yaml", 7) in codes(out)
    analysed.clear()
    assert check(capsys, "--format", "json")[1] == out
    assert analysed == []  # within the day its "expires in N days" holds
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(days=1))
    later = check(capsys, "--format", "json")[1]
    assert analysed == ["deploy/secret.yaml"]  # a day on, the count in its message changed
    assert later != out
    assert later == run(capsys, "check", "--no-cache", "--format", "json")[1]


def test_a_certificate_file_is_cached_with_the_key_beside_it(project, capsys, analysed):
    from test_kube_rules import ec_key, key_pem, make_cert, pem

    key = ec_key()
    write(project, {"tls/server.crt": pem(make_cert(key)), "tls/server.key": key_pem(ec_key("other"))})
    out = check(capsys, "--format", "json")[1]
    assert ("CRT106", "tls/server.crt", 1) in codes(out)  # not the certificate's key
    analysed.clear()
    assert check(capsys, "--format", "json")[1] == out
    assert analysed == []
    write(project, {"tls/server.key": key_pem(key)})  # the right key now: the certificate's input changed
    fixed = check(capsys, "--format", "json")[1]
    assert sorted(analysed) == ["tls/server.crt", "tls/server.key"]
    assert ("CRT106", "tls/server.crt", 1) not in codes(fixed)


def test_fix_applies_the_same_fixes_with_a_warm_cache(project, capsys, tmp_path):
    check(capsys, "--format", "json")
    cold = tmp_path / "cold"
    write(cold, FILES)
    run(capsys, "check", "--fix", "--unsafe-fixes", "--no-cache", "--format", "json", str(cold))
    check(capsys, "--fix", "--unsafe-fixes", "--format", "json")
    for name in FILES:
        assert (project / name).read_text(encoding="utf-8") == (cold / name).read_text(encoding="utf-8"), name
    assert (project / "svc" / "bad.py").read_text(encoding="utf-8") != BAD  # a fix was applied


def test_baseline_suppresses_the_same_with_a_warm_cache(project, capsys, tmp_path):
    baseline = tmp_path / "base.sarif"
    baseline.write_text(check(capsys, "--format", "sarif")[1], encoding="utf-8")
    cold = check(capsys, "--format", "json", "--baseline", str(baseline), "--no-cache")
    assert check(capsys, "--format", "json", "--baseline", str(baseline)) == cold


def test_the_cached_index_equals_the_index(project):
    from linter.python.index import index_units

    write(project, {
        "pkg/sub/__init__.py": "from .impl import run as go\n",
        "pkg/sub/impl.py": "class C:\n    def m(self, ctx):\n        pass\n\ndef run(x, *, deadline=5):\n    pass\n",
        "src/lib/mod.py": "async def call(a, context=None):\n    pass\n",
        "odd.py": 's = """\ndef not_a_def(timeout):\n"""\nif True:\n    def real(timeout): pass\n',
    })
    settings = load_settings(cwd=project)
    units, _ = discover(["."], settings, cwd=project)
    ruleset = engine.build_ruleset(settings)
    run_cache = cachemod.open_cache(settings)
    expected = index_units(units, max_file_size=settings.max_file_size)
    assert run_cache.project_index(units, settings.max_file_size) == expected
    assert run_cache.project_index(units, settings.max_file_size) == expected  # from the memo
    repo = Path(__file__).resolve().parents[1] / "linter"
    mine, _ = discover([str(repo)], settings, cwd=repo)
    assert run_cache.project_index(mine, settings.max_file_size) == index_units(mine, max_file_size=settings.max_file_size)
    assert ruleset.python.needs_index


@pytest.fixture
def charts_rendered(monkeypatch):
    """The charts the run rendered and linted."""
    from linter.helm import unit as helmunit

    seen: list[str] = []
    original = helmunit.prepare

    def counting(unit, ruleset):
        seen.append(unit.path)
        return original(unit, ruleset)

    monkeypatch.setattr(helmunit, "prepare", counting)
    return seen


def test_a_chart_is_rendered_again_only_when_one_of_its_inputs_changed(project, capsys, charts_rendered, tmp_path):
    import helm_python

    helm_python.Chart.create("demo", str(project))
    extra = tmp_path / "extra.yaml"
    extra.write_text("replicaCount: 2\n", encoding="utf-8")
    args = ("--format", "json", "--select", "PSA,HLM,LNT", "--values", str(extra))
    first = check(capsys, *args)
    assert charts_rendered == ["demo"]
    charts_rendered.clear()
    assert check(capsys, *args) == first
    assert charts_rendered == []
    changes = [
        (project / "demo" / "values.yaml", "securityContext:\n  runAsNonRoot: true\n"),  # the chart's values
        (project / "demo" / "templates" / "extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"),  # a new template
        (extra, "podSecurityContext:\n  runAsNonRoot: true\n"),  # a values file given with --values
    ]
    for path, text in changes:
        path.write_text(path.read_text(encoding="utf-8") + text if path.exists() else text, encoding="utf-8")
        charts_rendered.clear()
        warm = check(capsys, *args)
        assert charts_rendered == ["demo"], path
        assert warm == check(capsys, *args, "--no-cache")


def test_the_stat_memo_saves_reading_unchanged_files_and_misses_no_change(project, capsys, analysed, monkeypatch):
    from linter.core import discover as discover_module

    monkeypatch.setattr(cachemod, "_RACY_NS", 0)  # the files were just written: memoise them anyway
    check(capsys, "--format", "json")
    reads: list[str] = []
    original = discover_module.read_file

    def counting(abspath, max_size):
        reads.append(abspath)
        return original(abspath, max_size)

    monkeypatch.setattr(discover_module, "read_file", counting)
    check(capsys, "--format", "json")
    assert not any(r.endswith("pod.yaml") for r in reads)  # known by its stat: not read again
    # same size, same mtime: the inode's change time still tells the file changed
    pod = project / "deploy" / "pod.yaml"
    before = pod.stat()
    pod.write_text(POD.replace("privileged: true", "privileged: fals"), encoding="utf-8")
    os.utime(pod, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert pod.stat().st_size == before.st_size
    analysed.clear()
    out = check(capsys, "--format", "json")[1]
    assert analysed == ["deploy/pod.yaml"]
    assert out == check(capsys, "--format", "json", "--no-cache")[1]


def test_a_killed_run_leaves_nothing_that_misleads_the_next(project, tmp_path):
    import signal
    import time

    for i in range(40):
        write(project, {f"more/m{i}.py": BAD.replace("f(u)", f"f{i}(u)")})
    env = {**os.environ, cachemod.ENV: str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "linter", "check", "--format", "json", "-j", "2"]
    reference = subprocess.run([*cmd, "--no-cache"], cwd=project, env=env, capture_output=True, text=True, check=False).stdout
    for delay in (0.8, 1.6):
        victim = subprocess.Popen(cmd, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        after = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, check=False)
        assert after.stdout == reference and "Traceback" not in after.stderr, (after.returncode, after.stderr[-3000:])


def test_an_edited_pack_invalidates_without_a_version_change(project, capsys, analysed, tmp_path):
    import shutil

    pack = tmp_path / "packs" / "sleeps"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "plugin-pack" / "pitfall_pack_example" / "sleeps", pack)
    write(project, {"svc/slow.py": "import time\n\n\nasync def handler():\n    time.sleep(1)\n"})
    args = ("--format", "json", "--packs", str(pack))
    out = check(capsys, *args)[1]
    assert ("SLP101", "svc/slow.py", 5) in codes(out)
    rule = next(pack.glob("SLP101-*.yaml"))
    rule.write_text(rule.read_text(encoding="utf-8").replace("blocks the event loop;", "stalls every request;"), encoding="utf-8")
    analysed.clear()
    out = check(capsys, *args)[1]
    assert "svc/slow.py" in analysed
    assert "stalls every request" in out and out == check(capsys, *args, "--no-cache")[1]


def test_an_unusable_cache_folder_never_fails_the_run(project, capsys, monkeypatch, tmp_path):
    reference = check(capsys, "--format", "json", "--no-cache")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(cachemod.ENV, str(blocker))
    assert check(capsys, "--format", "json") == reference
    code, out, err = run(capsys, "clean")
    assert code == 0 and "Traceback" not in err


@pytest.fixture
def builtin_copy(tmp_path, monkeypatch):
    """The built-in packs, copied where a test may edit them."""
    import shutil

    from linter.core import packs as packsmod

    copies = []
    for folder in packsmod.builtin_pack_dirs():
        copies.append(tmp_path / "builtin" / folder.name)
        shutil.copytree(folder, copies[-1])
    monkeypatch.setattr(packsmod, "builtin_pack_dirs", lambda: list(copies))
    return tmp_path / "builtin"


def test_the_built_in_packs_are_read_again_when_one_of_their_files_changes(project, capsys, builtin_copy):
    first = check(capsys, "--format", "json")[1]
    assert ("TMO101", "svc/bad.py", 5) in codes(first)
    assert (builtin_copy.parent / "cache" / "startup" / "builtin-packs.json").is_file()
    rule = next((builtin_copy / "timeouts").glob("TMO101-*.yaml"))
    text = rule.read_text(encoding="utf-8")
    rule.write_text(text.replace("it can wait forever", "EDITED", 1), encoding="utf-8")
    out = check(capsys, "--format", "json")[1]
    assert "EDITED" in out and out == check(capsys, "--format", "json", "--no-cache")[1]


def test_a_forged_startup_memo_is_not_trusted(project, capsys, tmp_path):
    first = check(capsys, "--format", "json")[1]
    assert ("TMO101", "svc/bad.py", 5) in codes(first)
    memo = tmp_path / "cache" / "startup" / "builtin-packs.json"
    mac, _, body = memo.read_bytes().partition(b"\n")
    value = json.loads(body)
    for data in value["value"].values():
        if isinstance(data, dict) and data.get("id") == "TMO101":
            data["match"] = [{"call": ["nothing.at.all"]}]  # a rule made to report nothing
    memo.write_bytes(mac + b"\n" + json.dumps(value).encode())  # under the old signature
    assert check(capsys, "--format", "json")[1] == first


# --------------------------------------------------------------------------- the last run of a tree


@pytest.fixture
def settled(project, monkeypatch):
    """The project's files count as settled right away (in real use a file changed less than two
    seconds before a run is looked at again next time), and it is a repository's root (its
    `.git` ends the search for ignore files above it)."""
    monkeypatch.setattr(cachemod, "_RACY_NS", 0)
    (project / ".git").mkdir()
    return project


@pytest.fixture
def walked(monkeypatch):
    """The number of times discovery walked the tree."""
    from linter.core import discover as discovermod

    calls: list[int] = []
    real = discovermod.discover

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(discovermod, "discover", counting)
    return calls


def test_a_run_over_an_unchanged_tree_neither_walks_it_nor_analyses_anything(settled, capsys, analysed, walked):
    first = check(capsys, "--format", "json")
    for fmt in ("json", "sarif", "text"):
        analysed.clear()
        walked.clear()
        warm = check(capsys, "--format", fmt)
        assert analysed == [] and walked == []
        assert warm == check(capsys, "--format", fmt, "--no-cache")
    assert check(capsys, "--format", "json") == first


def test_a_file_added_removed_or_ignored_is_seen_by_the_next_run(settled, capsys, analysed):
    check(capsys, "--format", "json")
    write(settled, {"svc/extra/new.py": BAD})
    added = check(capsys, "--format", "json")[1]
    assert ("TMO101", "svc/extra/new.py", 5) in codes(added)
    assert added == check(capsys, "--format", "json", "--no-cache")[1]
    (settled / "svc" / "bad.py").unlink()
    removed = check(capsys, "--format", "json")[1]
    assert not [c for c in codes(removed) if c[1] == "svc/bad.py"]
    assert removed == check(capsys, "--format", "json", "--no-cache")[1]
    write(settled, {".gitignore": "svc/extra/\n"})
    ignored = check(capsys, "--format", "json")[1]
    assert not [c for c in codes(ignored) if c[1].startswith("svc/extra/")]
    assert ignored == check(capsys, "--format", "json", "--no-cache")[1]


def test_a_changed_manifest_is_analysed_alone_and_a_changed_signature_analyses_all_python(settled, capsys, analysed, walked):
    check(capsys, "--format", "json")
    write(settled, {"deploy/pod.yaml": POD.replace("privileged: true", "privileged: false")})
    analysed.clear()
    walked.clear()
    out = check(capsys, "--format", "json")[1]
    assert analysed == ["deploy/pod.yaml"] and walked == []  # the tree is as it was: not walked again
    assert out == check(capsys, "--format", "json", "--no-cache")[1]
    write(settled, {"pkg/client.py": "def fetch(url):\n    return url\n"})  # no `timeout` any more
    analysed.clear()
    out = check(capsys, "--format", "json")[1]
    assert sorted(analysed) == sorted(p for p in FILES if p.endswith(".py"))  # the index joins them
    assert ("CTX102", "pkg/service.py", 5) not in codes(out)
    assert out == check(capsys, "--format", "json", "--no-cache")[1]


def test_a_module_followed_from_outside_the_scanned_files_is_watched(settled, capsys):
    # pkg/client.py is excluded: the signature index still reads it for pkg/service.py's call
    write(settled, {"pyproject.toml": '[tool.pitfall]\nextend-exclude = ["pkg/client.py"]\n'})
    first = check(capsys, "--format", "json")[1]
    assert ("CTX102", "pkg/service.py", 5) in codes(first)
    assert check(capsys, "--format", "json")[1] == first
    write(settled, {"pkg/client.py": "def fetch(url):\n    return url\n"})
    out = check(capsys, "--format", "json")[1]
    assert ("CTX102", "pkg/service.py", 5) not in codes(out)
    assert out == check(capsys, "--format", "json", "--no-cache")[1]


def test_a_tree_changed_just_before_the_run_leaves_no_snapshot(project, capsys, tmp_path):
    (project / ".git").mkdir()
    check(capsys, "--format", "json")  # every file was written a moment ago
    assert not [p for p in cache_files(tmp_path) if p.parent.name == "runs"]


def test_a_damaged_snapshot_is_ignored(settled, capsys, tmp_path, analysed):
    first = check(capsys, "--format", "json")[1]
    (snapshot,) = [p for p in cache_files(tmp_path) if p.parent.name == "runs"]
    snapshot.write_bytes(snapshot.read_bytes().replace(b'"units"', b'"unitz"'))
    analysed.clear()
    assert check(capsys, "--format", "json")[1] == first
    snapshot.write_bytes(b"\x00garbage")
    assert check(capsys, "--format", "json")[1] == first


def test_a_snapshot_serves_one_set_of_paths(settled, capsys):
    whole = check(capsys, "--format", "json")[1]
    part = check(capsys, "--format", "json", "svc")[1]
    assert codes(part) and all(c[1].startswith("svc/") for c in codes(part))
    assert check(capsys, "--format", "json")[1] == whole
    assert check(capsys, "--format", "json", "svc")[1] == part


def test_a_held_result_checked_against_the_clock_expires(settled, capsys, analysed, monkeypatch):
    from datetime import timedelta

    from test_kube_rules import ec_key, make_cert, pem, tls_secret

    from linter.core import clock

    write(settled, {"deploy/secret.yaml": tls_secret(pem(make_cert(ec_key(), days_left=10)))})
    out = check(capsys, "--format", "json")[1]
    analysed.clear()
    assert check(capsys, "--format", "json")[1] == out and analysed == []
    real = clock.now
    monkeypatch.setattr(clock, "now", lambda: real() + timedelta(days=1))
    later = check(capsys, "--format", "json")[1]
    assert analysed == ["deploy/secret.yaml"] and later != out


def test_the_packs_a_project_declares_are_worked_out_again_when_a_manifest_changes(settled, capsys, monkeypatch):
    from linter.core import dependencies

    calls: list[int] = []
    real = dependencies.declared_dependencies
    monkeypatch.setattr(engine, "declared_dependencies", lambda *a, **k: calls.append(1) or real(*a, **k))
    write(settled, {"pyproject.toml": '[project]\nname = "shop"\ndependencies = ["fastapi>=0.110"]\n'})

    def fastapi_active() -> bool:
        doc = json.loads(check(capsys, "--format", "sarif")[1])
        return any(r["id"].startswith("FST") for r in doc["runs"][0]["tool"]["driver"]["rules"])

    assert fastapi_active()
    assert fastapi_active() and len(calls) == 1  # the manifests did not change: not read again
    write(settled, {"pyproject.toml": '[project]\nname = "shop"\ndependencies = ["flask"]\n'})
    assert not fastapi_active()
    write(settled, {"svc/requirements/base.txt": "fastapi==0.111\n"})  # a sub-project's requirements folder
    assert fastapi_active()
    assert len(calls) == 3


def test_a_changed_file_is_seen_by_the_check_a_forked_process_makes_ahead(tmp_path):
    """The command line checks the last run's paths in a forked process while it loads the packs
    (a run in a process of its own, as users start it)."""
    import time

    root = tmp_path / "repo"
    write(root, FILES)
    (root / ".git").mkdir()
    env = {**os.environ, cachemod.ENV: str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "linter", "check", "--format", "json", "-j", "1"]

    def pitfall(*extra: str) -> str:
        return subprocess.run([*cmd, *extra], cwd=root, env=env, capture_output=True, text=True, check=False).stdout

    time.sleep(2.1)  # the files settle: a run saves a snapshot of them
    first = pitfall()
    assert [p for p in cache_files(tmp_path) if p.parent.name == "runs"]
    assert pitfall() == first
    (root / "svc" / "bad.py").write_text(BAD + "\n\ndef g(u):\n    return requests.post(u)\n", encoding="utf-8")
    changed = pitfall()
    assert ("TMO101", "svc/bad.py", 9) in codes(changed)
    assert changed == pitfall("--no-cache")


def test_a_snapshot_missing_results_gets_them_from_the_next_run_the_cache_answers(settled, capsys, tmp_path, monkeypatch):
    first = check(capsys, "--format", "json")
    store = cachemod.open_cache(load_settings()).store
    (path,) = [p for p in cache_files(tmp_path) if p.parent.name == "runs"]
    name = f"runs/{path.name}"
    data = store.read(name)
    for entry in data["units"]:
        if entry[0] == "python":  # as a run saves it when one Python result could not be kept
            entry[2:5] = [None, None, None]
    store.write(name, data)
    indexed: list[int] = []
    real = engine.project_index
    monkeypatch.setattr(engine, "project_index", lambda *a, **k: indexed.append(1) or real(*a, **k))
    assert check(capsys, "--format", "json") == first  # the Python files from the per-unit cache
    assert indexed == [1]
    assert check(capsys, "--format", "json") == first
    assert indexed == [1]  # the snapshot now holds them: no index is built
