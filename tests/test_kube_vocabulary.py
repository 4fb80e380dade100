"""The Kubernetes rule vocabulary's comparison keywords (below, distinct, refers, unique), `suggest`,
per-place messages, the job scope and the {path} and {item} placeholders, through the command line with packs that
are not built in (so they may not name Python hooks): what a rule author can say in YAML."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from linter.cli import main


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _pack(tmp_path: Path, body: str) -> Path:
    """A pack of one kubernetes rule VOC201 whose matcher and message are ``body``."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "pack.yaml").write_text("name: voc\nprefix: VOC\nversion: 0.1.0\ndescription: d\n")
    (pack / "VOC201-r.yaml").write_text(
        "id: VOC201\nname: r\ntarget: kubernetes\nseverity: warning\narea: config\nsummary: s\nrationale: r\n"
        + textwrap.dedent(body).lstrip("\n")
        + "examples:\n  valid: ['apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: x}\\n']\n  invalid: ['x: 1  # error']\n"
    )
    return pack


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str, manifest: str) -> list[tuple[int, str]]:
    pack = _pack(tmp_path, body)
    target = tmp_path / "proj" / "m.yaml"
    target.parent.mkdir()
    target.write_text(textwrap.dedent(manifest).lstrip("\n"))
    code = main(["check", str(target), "--packs", str(pack), "--select", "VOC", "--format", "json", "--no-cache"])
    out, err = capsys.readouterr()
    assert code in (0, 1), out
    assert "internal error" not in out + err, out + err
    return [(f["location"]["row"], f["message"]) for f in json.loads(out)["findings"]]


def _refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], body: str) -> str:
    pack = _pack(tmp_path, body)
    code = main(["check", str(tmp_path), "--packs", str(pack), "--select", "VOC", "--format", "json", "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


PROBES = """
message: "{container} {path[-2]}: {value} vs {limit} ({detail})"
kinds: [Pod]
scope: container
must:
  properties:
    probe:
      below: {key: timeout, than: period, defaults: {timeout: 1, period: 10}, unset: [0]}
"""


def test_below_compares_two_keys_with_defaults_and_reports_the_written_one(tmp_path, capsys):
    found = _run(tmp_path, capsys, PROBES, """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: a
              probe: {timeout: 10}
            - name: b
              probe:
                period: 1
            - name: c
              probe: {timeout: 0, period: 0}
            - name: d
              probe: {timeout: 3, period: 3}
            - name: e
              probe: {timeout: "3", period: 2}
            - name: f
              probe: {timeout: true, period: 0}
            - name: g
              probe: {timeout: null, period: -1}
    """)
    assert found == [
        (7, "a probe: 10 vs 10 (the default) (timeout 10 is not below period 10 (the default))"),
        (10, "b probe: 1 (the default) vs 1 (timeout 1 (the default) is not below period 1)"),
        (14, "d probe: 3 vs 3 (timeout 3 is not below period 3)"),
        (20, "g probe: 1 (the default) vs -1 (timeout 1 (the default) is not below period -1)"),
    ]


def test_below_reads_go_durations_and_names_whose_default_it_is(tmp_path, capsys):
    body = """
        message: "{value} / {limit}"
        kinds: [Certificate]
        must:
          properties:
            spec:
              below: {key: renewBefore, than: duration, as: duration, defaults: {duration: 2160h}, default-note: the issuer's default}
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: x/v1
        kind: Certificate
        metadata: {name: a}
        spec: {renewBefore: 2400h}
        ---
        apiVersion: x/v1
        kind: Certificate
        metadata: {name: b}
        spec: {renewBefore: 90m, duration: 1h30m}
        ---
        apiVersion: x/v1
        kind: Certificate
        metadata: {name: c}
        spec: {renewBefore: 1h, duration: 2d}
        ---
        apiVersion: x/v1
        kind: Certificate
        metadata: {name: d}
        spec: {duration: 1s}
    """)
    # 2d is no Go duration and an absent renewBefore has no default: nothing to compare
    assert found == [(4, "2400h / 2160h (the issuer's default)"), (9, "90m / 1h30m")]


def test_distinct_reports_a_key_equal_to_an_earlier_one(tmp_path, capsys):
    body = """
        message: "{container}: {detail}"
        kinds: [Pod]
        scope: container
        must:
          distinct: [readinessProbe, livenessProbe, startupProbe]
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
            - name: a
              readinessProbe: {httpGet: {port: 80}}
              livenessProbe: {httpGet: {port: 81}}
              startupProbe: {httpGet: {port: 80}}
            - name: b
              livenessProbe: {httpGet: {port: 80}}
              startupProbe: {httpGet: {port: 81}}
            - name: c
              readinessProbe: null
              livenessProbe: null
    """)
    assert found == [(9, "a: startupProbe is identical to readinessProbe")]


def test_refers_checks_names_against_the_declared_ones(tmp_path, capsys):
    body = """
        message: "{container} {path}: `{value}` not in ({declared})"
        kinds: [Pod]
        scope: pod
        must:
          refers:
            at: [[containers, initContainers], '*', volumeMounts, '*', name]
            to: [volumes, '*', name]
            when: {type: string}
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          volumes: [{name: data}, {name: cache}, {name: 7}, {name: {not: a name}}]
          initContainers:
            - name: init
              volumeMounts: [{name: cache}, {name: logs}]
          containers:
            - name: app
              volumeMounts:
                - name: data
                - name: 7
                - {}
                - name: tmp
    """)
    assert found == [
        (8, " spec.initContainers[0].volumeMounts[1].name: `logs` not in (cache, data)"),
        (15, " spec.containers[0].volumeMounts[3].name: `tmp` not in (cache, data)"),
    ]


def test_unique_reports_repeats_across_groups_or_within_each(tmp_path, capsys):
    body = """
        message: "{path}: {value} again ({earlier})"
        kinds: [Pod]
        scope: pod
        must:
          allOf:
            - unique: {at: [volumes, '*'], by: [name], as: string}
              message: "volume {value} twice"
            - unique:
                each: [[initContainers, containers], '*']
                at: [env, '*']
                by: [name]
                as: string
                unset: [""]
                earlier: {same: "same", other: "first in {group}"}
            - unique:
                each: [containers, '*']
                at: [ports, '*']
                by: [containerPort, protocol]
                as: {containerPort: integer, protocol: string}
                defaults: {protocol: TCP}
                unset: {protocol: [""]}
                when: {not: {required: [hostPort]}}
                across: false
              message: "{group}: {value} twice"
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          volumes: [{name: data}, {name: 7}, {name: 7}, {name: data}]
          initContainers:
            - name: init
              env: [{name: A}, {name: ""}, {name: ""}]
          containers:
            - name: app
              env: [{name: B}, {name: A}, {name: B}]
              ports:
                - {containerPort: 80}
                - {containerPort: 80, protocol: ""}
                - {containerPort: 80, protocol: UDP}
                - {containerPort: 80, hostPort: 80}
                - {containerPort: true}
                - {containerPort: true}
                - {containerPort: 81.0}
                - {containerPort: 81.0}
            - ports: [{containerPort: 80, protocol: TCP}]
              env: [{name: B}]
    """)
    assert found == [
        (5, "volume data twice"),
        (11, "spec.containers[0].env[1].name: A again (first in init)"),
        (11, "spec.containers[0].env[2].name: B again (same)"),
        (14, "app: 80/TCP twice"),
        (22, "spec.containers[1].env[0].name: B again (first in app)"),
    ]


def test_job_scope_and_a_message_beside_the_failing_keyword(tmp_path, capsys):
    body = """
        message: "{kind} {path} lacks a deadline"
        kinds: [JobLike]
        scope: job
        must:
          required: [activeDeadlineSeconds]
          properties:
            backoffLimit:
              maximum: 10
              message: "{kind} {path[-1]} {value} is over 10"
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: a}
        spec:
          activeDeadlineSeconds: null
          template: {spec: {containers: [{name: c}]}}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: b}
        spec:
          jobTemplate:
            spec:
              activeDeadlineSeconds: 60
              backoffLimit: 20
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: c}
        spec: {schedule: "* * * * *"}
    """)
    # a null key is absent; a CronJob without a job template has no Job spec to check
    assert found == [(4, "Job spec lacks a deadline"), (15, "CronJob backoffLimit 20 is over 10")]


def test_item_placeholders_read_values_of_the_list_items_on_the_reported_path(tmp_path, capsys):
    body = """
        message: "{item}: {item:hosts.*|every host}"
        kinds: [Ingress]
        must:
          properties:
            spec:
              properties:
                tls:
                  items:
                    required: [secret]
                    properties:
                      secret: {type: string}
                groups:
                  items:
                    properties:
                      ports:
                        items:
                          properties:
                            on:
                              const: false
                              message: "{item[-2]:name|?} {item[-2]} / {item:port.number|none} {item} {item[0]:name} {item[5]:name|out}"
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: v1
        kind: Ingress
        metadata: {name: a}
        spec:
          tls:
            - hosts: [a.example.com, b.example.com]
            - hosts: [c.example.com]
              secret: 7
            - hosts: []
            - hosts: "not a list"
            - {hosts: ["", null]}
            - {name: n, hosts: [d.example.com], secret: ok}
          groups:
            - name: g
              ports:
                - {port: {number: 8443}, on: true}
                - {name: p, on: true}
            - ports:
                - {port: {number: null}, on: true}
    """)
    assert found == [
        (6, "#0: a.example.com, b.example.com"),
        (8, "#1: c.example.com"),  # reported on the key, read in the entry that holds it
        (9, "#2: every host"),
        (10, "#3: every host"),  # `*` reads the items of a list only
        (11, "#4: every host"),  # nothing but an empty string and a null: the fallback
        (16, "g `g` / 8443 #0 g out"),
        (17, "g `g` / none `p` g out"),
        (19, "? #1 / none #0  out"),  # no fallback: empty
    ]


def test_suggest_names_the_enum_value_written_in_another_case(tmp_path, capsys):
    body = """
        message: "{value} is no mode{suggestion}"
        kinds: [Pod]
        must:
          properties:
            spec:
              additionalProperties:
                enum: [STRICT, Permissive, null]
                suggest: "; did you mean `{closest}`?"
              properties:
                plain: {enum: [STRICT]}
    """
    found = _run(tmp_path, capsys, body, """
        apiVersion: v1
        kind: Pod
        metadata: {name: a}
        spec:
          a: strict
          b: PERMISSIVE
          c: STRICTER
          d: 3
          e: null
          f: Permissive
          plain: strict
    """)
    # `{suggestion}` stays as written where no `suggest` is beside the enum
    assert found == [
        (5, "strict is no mode; did you mean `STRICT`?"),
        (6, "PERMISSIVE is no mode; did you mean `Permissive`?"),
        (7, "STRICTER is no mode"),
        (8, "3 is no mode"),
        (11, "strict is no mode{suggestion}"),
    ]


@pytest.mark.parametrize(
    ("matcher", "key"),
    [
        ("below: {key: a}", "must.properties.spec.below.than"),
        ("below: {key: a, than: b, as: seconds}", "must.properties.spec.below.as"),
        ("below: {key: a, than: b, defaults: {a: [1]}}", "must.properties.spec.below.defaults.a"),
        ("distinct: [a]", "must.properties.spec.distinct"),
        ("refers: {at: a, to: [b]}", "must.properties.spec.refers.at"),
        ("refers: {at: [a], to: [b], because: x}", "must.properties.spec.refers.because"),
        ("unique: {each: [a]}", "must.properties.spec.unique.at"),
        ("unique: {at: [a], as: float}", "must.properties.spec.unique.as"),
        ("unique: {at: [a], across: 1}", "must.properties.spec.unique.across"),
        ("unique: {at: [a], earlier: {then: x}}", "must.properties.spec.unique.earlier.then"),
        ("message: 3", "must.properties.spec.message"),
        ("suggest: ''", "must.properties.spec.suggest"),
        ("suggest: [a]", "must.properties.spec.suggest"),
    ],
)
def test_bad_keyword_values_stop_the_run_naming_file_line_and_key(tmp_path, capsys, matcher, key):
    body = f'message: "m"\nkinds: [Pod]\nmust:\n  properties:\n    spec:\n      {matcher}\n'
    err = _refused(tmp_path, capsys, body)
    assert "VOC201-r.yaml:13:" in err, err
    assert f"key `{key}`" in err, err


def test_a_keyword_inside_any_applicator_is_checked(tmp_path, capsys):
    body = 'message: "m"\nkinds: [Pod]\nmust:\n  anyOf:\n    - not:\n        items:\n          below: {than: b}\n'
    err = _refused(tmp_path, capsys, body)
    assert "key `must.anyOf.0.not.items.below.key`" in err, err


def test_an_unknown_scope_is_refused(tmp_path, capsys):
    err = _refused(tmp_path, capsys, 'message: "m"\nkinds: [Pod]\nscope: jobs\nmust: {}\n')
    assert "VOC201-r.yaml:10:" in err and "key `scope`" in err, err
