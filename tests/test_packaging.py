"""The wheel carries the rule packs and schemas, and an installed wheel works outside the checkout.

These tests build a real wheel (``python -m build``) from a copy of the working tree, so no
build artifacts land in the checkout, then install it with pip into a fresh virtual
environment (dependencies come from the package index) and run the installed ``pitfall``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

from helpers import ROOT, copy_project  # noqa: E402
SCHEMAS = ("rule", "pack", "config")





def clean_env(**extra: str) -> dict[str, str]:
    """The current environment without what would leak the dev venv or the checkout into a child."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "PYTHONUSERBASE"}
    }
    env.update(extra)
    return env


def run(cmd: list[str], *, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=env or clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _show(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(wheel, source copy it was built from): one build per module."""
    base = tmp_path_factory.mktemp("wheel")
    src = copy_project(base / "src")
    out = base / "dist"
    proc = run([sys.executable, "-m", "build", "--wheel", "--outdir", out, src], cwd=base, timeout=300)
    assert proc.returncode == 0, _show(proc)
    wheels = sorted(out.glob("pitfall_lint-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0], src


@pytest.fixture(scope="module")
def wheel_names(built: tuple[Path, Path]) -> set[str]:
    with zipfile.ZipFile(built[0]) as zf:
        return set(zf.namelist())


def test_wheel_contains_every_pack_and_rule(built: tuple[Path, Path], wheel_names: set[str]) -> None:
    _, src = built
    packs = sorted(p for p in (src / "rules").iterdir() if p.is_dir())
    assert packs, "no pack folders in rules/"
    for pack in packs:
        assert (pack / "pack.yaml").is_file(), f"{pack} has no pack.yaml"
        assert f"linter/_data/rules/{pack.name}/pack.yaml" in wheel_names
    expected = {f"linter/_data/rules/{p.relative_to(src / 'rules').as_posix()}" for p in (src / "rules").rglob("*.yaml")}
    shipped = {n for n in wheel_names if n.startswith("linter/_data/rules/") and not n.endswith("/")}
    missing = expected - shipped
    assert not missing, f"rule files missing from the wheel: {sorted(missing)}"
    rule_files = [n for n in expected if not n.endswith("/pack.yaml")]
    assert len(rule_files) >= len(packs)


def test_wheel_contains_schemas(wheel_names: set[str]) -> None:
    for name in SCHEMAS:
        assert f"linter/_data/schemas/{name}.schema.json" in wheel_names


def test_wheel_contains_the_package(built: tuple[Path, Path], wheel_names: set[str]) -> None:
    _, src = built
    modules = {p.relative_to(src).as_posix() for p in (src / "linter").rglob("*.py")}
    assert "linter/cli.py" in modules
    missing = modules - wheel_names
    assert not missing, f"modules missing from the wheel: {sorted(missing)}"
    # nothing from outside the package (tests, docs, bench) is shipped as top-level code
    assert all(n.startswith(("linter/", "pitfall_lint-")) for n in wheel_names), sorted(wheel_names)


def test_wheel_declares_console_script(built: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(built[0]) as zf:
        eps = [n for n in zf.namelist() if n.endswith(".dist-info/entry_points.txt")]
        assert len(eps) == 1, eps
        text = zf.read(eps[0]).decode("utf-8")
    section = re.search(r"^\[console_scripts\]\n(.*?)(?:^\[|\Z)", text, re.M | re.S)
    assert section, text
    scripts = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition("=") for line in section.group(1).splitlines() if "=" in line)
    )
    # the target the project declares (pyproject [project.scripts]), inside the linter package
    declared = tomllib.loads((built[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["pitfall"]
    assert scripts.get("pitfall") == declared, text
    module, _, func = declared.partition(":")
    assert module.split(".")[0] == "linter" and func, declared
    with zipfile.ZipFile(built[0]) as zf:
        source = zf.read(module.replace(".", "/") + ".py").decode("utf-8")
    assert re.search(rf"^def {re.escape(func)}\(", source, re.M), f"{declared}: no such function in the wheel"


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages, no dev venv) with the wheel pip-installed; its bin dir."""
    wheel, _ = built
    env_dir = tmp_path_factory.mktemp("installed") / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    proc = run([python, "-m", "pip", "install", "--quiet", wheel], cwd=env_dir, timeout=600)
    assert proc.returncode == 0, _show(proc)
    return bindir


def test_installed_wheel_runs_from_site_packages(installed: Path, built: tuple[Path, Path], tmp_path: Path) -> None:
    _, src = built
    python = installed / "python"
    pitfall = installed / "pitfall"
    assert pitfall.is_file(), "the console script was not installed"

    project = tmp_path / "project"
    project.mkdir()
    (project / "client.py").write_text("import requests\nrequests.get(u)\n", encoding="utf-8")
    (project / "ok.py").write_text("import requests\nrequests.get(u, timeout=5)\n", encoding="utf-8")

    # the installed package and its data, not the checkout
    proc = run(
        [python, "-c", "import linter, linter.core.packs as p; print(linter.__file__); print(p.data_dir('rules')); print(p.data_dir('schemas'))"],
        cwd=project,
    )
    assert proc.returncode == 0, _show(proc)
    module, rules_dir, schemas_dir = (Path(line) for line in proc.stdout.splitlines())
    for path in (module, rules_dir, schemas_dir):
        assert "site-packages" in path.parts, path
        assert ROOT not in path.parents, path
    assert rules_dir.parts[-3:] == ("linter", "_data", "rules")
    assert schemas_dir.parts[-3:] == ("linter", "_data", "schemas")

    # `pitfall packs` lists every built-in pack
    proc = run([pitfall, "packs"], cwd=project)
    assert proc.returncode == 0, _show(proc)
    pack_names = sorted(p.name for p in (src / "rules").iterdir() if (p / "pack.yaml").is_file())
    pack_lines = [line for line in proc.stdout.splitlines() if line.strip() and not line.startswith((" ", "("))]
    assert sorted(line.split()[0] for line in pack_lines) == pack_names, _show(proc)
    assert all("[built-in]" in line for line in pack_lines), _show(proc)

    # every shipped rule loads
    proc = run([pitfall, "rules", "list"], cwd=project)
    assert proc.returncode == 0, _show(proc)
    n_rules = sum(1 for p in (src / "rules").rglob("*.yaml") if p.name != "pack.yaml")
    assert len([line for line in proc.stdout.splitlines() if line.strip()]) == n_rules, _show(proc)

    # `pitfall check` finds the missing timeout, and only there
    proc = run([pitfall, "check"], cwd=project)
    assert proc.returncode == 1, _show(proc)
    assert re.search(r"^client\.py:2:1: TMO101\b", proc.stdout, re.M), _show(proc)
    assert "ok.py" not in proc.stdout, _show(proc)
    assert "Traceback" not in proc.stderr, _show(proc)

    proc = run([pitfall, "check", "ok.py"], cwd=project)
    assert proc.returncode == 0, _show(proc)


def test_installed_version_matches_wheel(installed: Path, built: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, _ = built
    version = wheel.name.split("-")[1]
    proc = run([installed / "pitfall", "--version"], cwd=tmp_path)
    assert proc.returncode == 0, _show(proc)
    assert proc.stdout.strip() == f"pitfall {version}", _show(proc)


def test_an_installed_plugin_pack_is_active_locked_and_shown_with_its_origin(built: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, src = built
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    proc = run([bindir / "python", "-m", "pip", "install", "--quiet", wheel], cwd=env_dir, timeout=600)
    assert proc.returncode == 0, _show(proc)
    project = tmp_path / "project"
    project.mkdir()
    (project / "app.py").write_text("import time\nasync def handler():\n    time.sleep(1)\n", encoding="utf-8")
    pitfall = bindir / "pitfall"
    # a run before the plugin is installed keeps what it found in the cache: the install must
    # still be seen by the next run
    assert run([pitfall, "check", "--select", "SLP"], cwd=project).returncode == 2  # no such rule yet
    proc = run([bindir / "python", "-m", "pip", "install", "--quiet", src / "examples" / "plugin-pack"], cwd=env_dir, timeout=600)
    assert proc.returncode == 0, _show(proc)

    proc = run([pitfall, "packs"], cwd=project)
    assert re.search(r"^sleeps 0\.1\.0  SLP  1 rules  active \(always\)  \[plugin pitfall-pack-example\]$", proc.stdout, re.M), _show(proc)
    proc = run([pitfall, "check", "--select", "SLP"], cwd=project)
    assert proc.returncode == 1 and re.search(r"^app\.py:3:5: SLP101\b", proc.stdout, re.M), _show(proc)
    assert run([pitfall, "rules", "test"], cwd=project).returncode == 0

    # a lock pins the packs: removing the plugin afterwards is refused, with the difference named
    assert run([pitfall, "packs", "lock"], cwd=project).returncode == 0
    assert run([pitfall, "check", "--select", "SLP"], cwd=project).returncode == 1
    assert run([bindir / "python", "-m", "pip", "uninstall", "--quiet", "--yes", "pitfall-pack-example"], cwd=env_dir).returncode == 0
    proc = run([pitfall, "check"], cwd=project)
    assert proc.returncode == 2 and "sleeps 0.1.0 is locked but not active" in proc.stderr, _show(proc)
    assert "Traceback" not in proc.stderr
