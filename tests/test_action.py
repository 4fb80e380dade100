"""The GitHub composite action (``action.yml``), run the way the runner runs it.

Each ``run:`` step is executed locally with ``bash --noprofile --norc -eo pipefail`` (the
runner's ``shell: bash``), its ``${{ ... }}`` expressions substituted from the inputs and
``github.action_path`` (this checkout), its ``env:`` set and ``GITHUB_OUTPUT`` pointing at a temp
file. Two things differ from a real runner, both explicit below: the ``actions/setup-python``
step (a ``uses:`` step) is skipped, and the install step's ``python -m pip install`` lines become
no-ops, because the project is already installed in this environment whose ``bin`` folder
comes first on ``PATH``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import ROOT, validate_sarif, write

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
INPUTS = ACTION["inputs"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PIP_INSTALL = "python -m pip install"

BAD = 'import requests\nrequests.get("https://example.com")\n'
GOOD = 'import requests\nrequests.get("https://example.com", timeout=5)\n'
BIN = Path(sys.executable).parent  # the environment pitfall is installed in

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or not (BIN / "pitfall").exists(), reason="needs bash and the pitfall script")


def _expressions(node: object) -> list[str]:
    if isinstance(node, str):
        return EXPRESSION.findall(node)
    if isinstance(node, dict):
        return [e for v in node.values() for e in _expressions(v)]
    if isinstance(node, list):
        return [e for v in node for e in _expressions(v)]
    return []


# --------------------------------------------------------------------------- a valid composite action


def test_action_yml_is_a_valid_composite_action():
    assert ACTION["name"] and ACTION["description"]
    assert ACTION["runs"]["using"] == "composite"
    ids = [s["id"] for s in STEPS if "id" in s]
    assert len(ids) == len(set(ids))
    for step in STEPS:
        assert ("run" in step) != ("uses" in step), step
        if "run" in step:
            assert step.get("shell"), f"a composite `run:` step needs `shell`: {step.get('name')}"
    for name, spec in INPUTS.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name) and spec.get("description"), name
        assert isinstance(spec.get("default", ""), str), name  # the runner hands inputs over as strings
    # every expression (and `if:` condition) names a declared input, the action's own path, or a
    # step that exists
    for cond in (s["if"] for s in STEPS if "if" in s):
        refs = re.findall(r"\binputs\.([A-Za-z0-9_-]+)", cond)
        assert refs and set(refs) <= set(INPUTS), cond
    for expr in _expressions(ACTION):
        for ref in re.findall(r"\binputs\.([A-Za-z0-9_-]+)", expr):
            assert ref in INPUTS, f"`{expr}` names an input action.yml does not declare"
        for step_id in re.findall(r"\bsteps\.([A-Za-z0-9_-]+)", expr):
            assert step_id in ids, expr
        assert re.fullmatch(r"(inputs\.[a-z0-9-]+|github\.action_path|steps\.[a-z0-9-]+\.outputs\.[a-z0-9-]+)", expr), expr
    assert set(ACTION["outputs"]) == {"sarif-file"}
    setup = next(s for s in STEPS if "uses" in s)
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert INPUTS["python-version"]["default"] == "3.12"
    assert INPUTS["sarif-file"]["default"] == "pitfall.sarif"


# --------------------------------------------------------------------------- running it


def _substitute(text: str, inputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        expr = match.group(1)
        if expr == "github.action_path":
            return str(ROOT)
        name = re.fullmatch(r"inputs\.([a-z0-9-]+)", expr)
        assert name, f"the test knows no value for `{expr}`"
        return inputs[name.group(1)]

    return EXPRESSION.sub(value, text)


def run_action(cwd: Path, tmp: Path, **given: str) -> tuple[int, str, str, dict[str, str]]:
    """The action's steps in ``cwd``; returns the exit status of the first failing step (else 0),
    the steps' stdout and stderr, and the outputs the steps wrote to GITHUB_OUTPUT."""
    inputs = {name: spec.get("default", "") for name, spec in INPUTS.items()}
    unknown = set(given) - set(inputs)
    assert not unknown, unknown
    inputs.update(given)
    output_file = tmp / "github_output"
    output_file.write_text("", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env.update(PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]), GITHUB_OUTPUT=str(output_file), GITHUB_ACTIONS="true", CI="true")
    env["PITFALL_CACHE_DIR"] = str(tmp / "cache")  # not the user's cache folder
    out, err, status = [], [], 0
    for i, step in enumerate(STEPS):
        if "uses" in step:
            continue  # actions/setup-python: this environment's Python stands in for it
        assert "if" not in step, "conditions are not evaluated here"
        script = _substitute(step["run"], inputs)
        if step["name"] == "Install pitfall":
            # the one substitution: the project is already installed here, pip would only reinstall it
            assert script.count(PIP_INSTALL) == 2, script
            script = script.replace(PIP_INSTALL, ": " + PIP_INSTALL)
        else:
            assert PIP_INSTALL not in script
        assert step["shell"] == "bash"
        path = tmp / f"step{i}.sh"
        path.write_text(script, encoding="utf-8")
        step_env = {**env, **{k: _substitute(str(v), inputs) for k, v in step.get("env", {}).items()}}
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
            cwd=cwd, env=step_env, capture_output=True, text=True, timeout=300, check=False,
        )
        out.append(proc.stdout)
        err.append(proc.stderr)
        if proc.returncode:
            status = proc.returncode
            break
    outputs = dict(line.split("=", 1) for line in output_file.read_text(encoding="utf-8").splitlines() if "=" in line)
    return status, "".join(out), "".join(err), outputs


@pytest.fixture
def project(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    write(work, {"svc/bad.py": BAD, "svc/good.py": GOOD, "other/bad.py": BAD})
    return work


def _results(sarif_path: Path) -> list[tuple[str, str]]:
    doc = json.loads(sarif_path.read_text(encoding="utf-8"))
    validate_sarif(doc)
    assert doc["version"] == "2.1.0"
    return sorted(
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for run in doc["runs"] for r in run["results"]
    )


@pytest.mark.parametrize(("fail_on", "expected"), [("", 1), ("warning", 1), ("error", 0)])
def test_action_writes_sarif_and_annotations_then_exits_per_fail_on(project, tmp_path, fail_on, expected):
    status, out, err, outputs = run_action(project, tmp_path, paths="svc", **{"fail-on": fail_on})
    assert status == expected, out + err
    assert "Traceback" not in out + err
    # the SARIF log, valid, with the finding (the warning TMO101 on svc/bad.py only)
    assert outputs == {"sarif-file": "pitfall.sarif"}
    assert _results(project / "pitfall.sarif") == [("TMO101", "svc/bad.py")]
    # and the annotation, written before the step's exit
    assert re.search(r"^::warning file=svc/bad\.py,line=2,.*::TMO101 ", out, re.M), out
    assert "good.py" not in out and "other/" not in out


def test_action_on_a_clean_tree_passes(project, tmp_path):
    (project / "reports").mkdir()
    status, out, err, outputs = run_action(project, tmp_path, paths="svc/good.py", **{"sarif-file": "reports/x.sarif"})
    assert status == 0, out + err
    assert outputs == {"sarif-file": "reports/x.sarif"}
    assert _results(project / "reports/x.sarif") == []
    assert "::warning" not in out and "::error" not in out


def test_action_paths_args_and_annotations_off(project, tmp_path):
    # two paths on two lines, one of them a glob character that must reach pitfall as it is
    (project / "svc" / "*.py").write_text(GOOD, encoding="utf-8")
    status, out, err, outputs = run_action(project, tmp_path, paths="other\nsvc/*.py", annotations="false")
    assert status == 1, out + err
    assert _results(project / "pitfall.sarif") == [("TMO101", "other/bad.py")]  # not svc/bad.py
    assert "::warning" not in out  # no second run
    assert outputs == {"sarif-file": "pitfall.sarif"}
    # options through `args`: only the TLS rules, so the TMO101 findings are not selected
    status, out, err, outputs = run_action(project, tmp_path, paths="svc/bad.py other", args="--select TLS")
    assert status == 0, out + err
    assert _results(project / "pitfall.sarif") == []


def test_action_usage_error_exits_2_without_traceback(project, tmp_path):
    (project / "pitfall.sarif").write_text("stale", encoding="utf-8")
    status, out, err, outputs = run_action(project, tmp_path, paths="svc", **{"fail-on": "sometimes"})
    assert status == 2, out + err
    assert "--fail-on" in err and "Traceback" not in out + err
    assert not (project / "pitfall.sarif").exists()  # no stale log left to upload as this run's
    assert "::" not in out  # no annotations run after the error
    assert outputs == {"sarif-file": "pitfall.sarif"}


# --------------------------------------------------------------------------- docs/github.md


def _yaml_blocks() -> list[object]:
    text = (ROOT / "docs" / "github.md").read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"^```yaml\n(.*?)^```", text, re.M | re.S)]


def test_docs_workflows_parse_and_use_the_actions_real_inputs():
    blocks = _yaml_blocks()
    assert len(blocks) == 4
    workflows = [b for b in blocks if isinstance(b, dict) and "jobs" in b]
    assert len(workflows) == 3
    # the action's workflow: checkout, the action, upload-sarif of its output whatever happened
    main = workflows[0]
    assert main["permissions"]["security-events"] == "write"
    steps = [s for job in main["jobs"].values() for s in job["steps"]]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@")
    action = next(s for s in steps if s.get("uses", "").startswith("OWNER/pitfall@"))
    assert set(action["with"]) <= set(INPUTS)
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@v3"))
    assert upload["if"] == "always()"
    assert upload["with"]["sarif_file"] == "${{ steps.%s.outputs.sarif-file }}" % action["id"]
    assert uses.index(upload["uses"]) > uses.index(action["uses"])
    # the annotations variant runs pitfall with --format github, the pre-commit one pre-commit
    runs = [s.get("run", "") for job in workflows[1]["jobs"].values() for s in job["steps"]]
    assert any(r.startswith("pitfall check --format github") for r in runs)
    hooks = next(b for b in blocks if isinstance(b, dict) and "repos" in b)
    declared = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert {h["id"] for r in hooks["repos"] for h in r["hooks"]} <= declared
    assert any(s.get("uses", "").startswith("pre-commit/action@") for job in workflows[2]["jobs"].values() for s in job["steps"])
