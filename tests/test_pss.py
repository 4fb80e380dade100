"""Tests for linter.kubernetes.pss (Kubernetes Pod Security Standards).

Cases marked "upstream:" are ported from kubernetes/kubernetes
staging/src/k8s.io/pod-security-admission (policy/check_*_test.go,
test/fixtures_*.go and the generated test/testdata/**.yaml); the comment names
the file each one comes from.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Callable, Iterator

import pytest
import yaml

from linter.kubernetes import pss
from linter.kubernetes.pss import (
    LATEST,
    PSS_CHECKS,
    PssViolation,
    checks_for_level,
    evaluate,
    evaluate_all,
    parse_version,
)
from linter.kubernetes.objects import PodTarget, pod_target

Obj = dict[str, Any]


# ---------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------


def mkpod(spec: dict[str, Any] | None = None, annotations: dict[str, Any] | None = None) -> Obj:
    meta: dict[str, Any] = {"name": "p"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec if spec is not None else {}}


def ctr(name: str = "app", **sc: Any) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": "registry.k8s.io/pause"}
    if sc:
        c["securityContext"] = dict(sc)
    return c


def one(name: str = "app", **sc: Any) -> Obj:
    return mkpod({"containers": [ctr(name, **sc)]})


def ids(violations: list[PssViolation]) -> list[str]:
    return [v.check for v in violations]


def checks_hit(obj: Obj, level: str, version: tuple[int, int] = LATEST) -> set[str]:
    return set(ids(evaluate_all(obj, level, version)))


def restricted_ok(**extra_spec: Any) -> Obj:
    """A pod that passes restricted at every version (mirrors fixtures.go restricted_1_22)."""
    sc = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause",
                            "securityContext": copy.deepcopy(sc)}],
        "containers": [{"name": "container1", "image": "registry.k8s.io/pause",
                        "securityContext": copy.deepcopy(sc)}],
    }
    spec.update(extra_spec)
    return mkpod(spec)


ALL_VERSIONS = [(1, minor) for minor in range(0, LATEST[1] + 3)]


# ---------------------------------------------------------------------------
# interface
# ---------------------------------------------------------------------------


def test_check_ids_levels_and_upstream_order() -> None:
    baseline = ["appArmorProfile", "capabilities_baseline", "hostNamespaces", "hostPathVolumes",
                "hostPorts", "hostProbesAndHostLifecycle", "privileged", "procMount",
                "seLinuxOptions", "seccompProfile_baseline", "sysctls", "windowsHostProcess"]
    restricted = ["allowPrivilegeEscalation", "capabilities_restricted", "procMount_restricted",
                  "restrictedVolumes", "runAsNonRoot", "runAsUser", "seccompProfile_restricted"]
    # registry.go sorts the ids (Go byte order) and puts baseline before restricted
    assert baseline == sorted(baseline) and restricted == sorted(restricted)
    assert list(PSS_CHECKS) == baseline + restricted
    assert all(PSS_CHECKS[c] == "baseline" for c in baseline)
    assert all(PSS_CHECKS[c] == "restricted" for c in restricted)


def test_latest_is_newest_minimum_version() -> None:
    # kubernetes/pod-security-admission at 8f84a87c (2026-07-01): the newest entry is sysctls v1.37
    assert LATEST == (1, 37)
    assert LATEST == max(v for vs in pss.CHECK_VERSIONS.values() for v in vs)


def test_check_versions_table() -> None:
    assert pss.CHECK_VERSIONS == {
        "appArmorProfile": ((1, 0),),
        "capabilities_baseline": ((1, 0),),
        "hostNamespaces": ((1, 0),),
        "hostPathVolumes": ((1, 0),),
        "hostPorts": ((1, 0),),
        "hostProbesAndHostLifecycle": ((1, 34),),
        "privileged": ((1, 0),),
        "procMount": ((1, 0), (1, 35)),
        "seLinuxOptions": ((1, 0), (1, 31)),
        "seccompProfile_baseline": ((1, 0), (1, 19)),
        "sysctls": ((1, 0), (1, 27), (1, 29), (1, 32), (1, 37)),
        "windowsHostProcess": ((1, 0),),
        "allowPrivilegeEscalation": ((1, 8), (1, 25)),
        "capabilities_restricted": ((1, 22), (1, 25)),
        "procMount_restricted": ((1, 35),),
        "restrictedVolumes": ((1, 0),),
        "runAsNonRoot": ((1, 0), (1, 35)),
        "runAsUser": ((1, 23), (1, 35)),
        "seccompProfile_restricted": ((1, 19), (1, 25)),
    }


# upstream: api/helpers_test.go TestParseVersion (successes and failures), plus edge cases
@pytest.mark.parametrize("text,expected", [
    ("latest", LATEST), ("v1.0", (1, 0)), ("v1.1", (1, 1)), ("v1.20", (1, 20)),
    ("v1.10000", (1, 10000)), ("v1.25", (1, 25)),
])
def test_parse_version_ok(text: str, expected: tuple[int, int]) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", [
    "foo", "", "v2.0", "v1", "1.1",            # upstream failures
    "v0.9", "v0.0", "v1.01", "v1.-1", "V1.2", "v1.2 ", " v1.2", "v1.2\n", "Latest", "v1.x",
    "v1.٣",                                     # non-ASCII digit
])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_version(text)


@pytest.mark.parametrize("bad", [None, 1, 1.24, (1, 24), b"v1.2"])
def test_parse_version_rejects_non_strings(bad: Any) -> None:
    with pytest.raises(ValueError):
        parse_version(bad)


@pytest.mark.parametrize("bad", [(0, 9), (2, 0), (1, -1), (1,), (1, 2, 3), "v1.2", (1, 2.0), (True, 2)])
def test_evaluate_rejects_invalid_version_tuples(bad: Any) -> None:
    with pytest.raises(ValueError):
        evaluate("privileged", one(privileged=True), bad)
    with pytest.raises(ValueError):
        evaluate_all(one(privileged=True), "baseline", bad)


def test_checks_for_level() -> None:
    baseline = [c for c, lvl in PSS_CHECKS.items() if lvl == "baseline"]
    assert checks_for_level("privileged") == []
    assert checks_for_level("baseline") == baseline
    assert checks_for_level("restricted") == list(PSS_CHECKS)
    with pytest.raises(ValueError):
        checks_for_level("Restricted")


def test_unknown_check_and_level_raise() -> None:
    with pytest.raises(ValueError):
        evaluate("procMount_baseline", one())
    with pytest.raises(ValueError):
        evaluate_all(one(), "strict")


def test_privileged_level_never_reports() -> None:
    obj = one(privileged=True)
    assert evaluate_all(obj, "privileged") == []


def test_violation_and_target_are_frozen_slotted() -> None:
    v = PssViolation("privileged", ("spec",), False, "m")
    with pytest.raises(Exception):
        v.check = "x"  # type: ignore[misc]
    assert not hasattr(v, "__dict__")
    t = PodTarget(("metadata",), ("spec",))
    assert not hasattr(t, "__dict__")


# ---------------------------------------------------------------------------
# pod-bearing kinds
# ---------------------------------------------------------------------------

TEMPLATE = ("spec", "template")
CRON = ("spec", "jobTemplate", "spec", "template")


@pytest.mark.parametrize("kind,meta,spec", [
    ("Pod", ("metadata",), ("spec",)),
    ("Deployment", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("StatefulSet", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("DaemonSet", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("ReplicaSet", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("ReplicationController", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("Job", TEMPLATE + ("metadata",), TEMPLATE + ("spec",)),
    ("CronJob", CRON + ("metadata",), CRON + ("spec",)),
    ("PodTemplate", ("template", "metadata"), ("template", "spec")),
])
def test_pod_target(kind: str, meta: tuple[str, ...], spec: tuple[str, ...]) -> None:
    assert pod_target({"kind": kind}) == PodTarget(meta, spec)


@pytest.mark.parametrize("obj", [
    {"kind": "Service"}, {"kind": "pod"}, {}, {"kind": None}, {"kind": ["Pod"]}, {"kind": {"a": 1}},
    None, [], "Pod", 3,
])
def test_pod_target_none(obj: Any) -> None:
    assert pod_target(obj) is None


def wrap(kind: str, meta: dict[str, Any], spec: dict[str, Any]) -> Obj:
    template = {"metadata": meta, "spec": spec}
    if kind == "Pod":
        return {"kind": "Pod", "metadata": meta, "spec": spec}
    if kind == "PodTemplate":
        return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": template}
    if kind == "CronJob":
        return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
                "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "d"},
            "spec": {"selector": {}, "template": template}}


@pytest.mark.parametrize("kind", ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet",
                                  "ReplicationController", "Job", "CronJob", "PodTemplate"])
def test_paths_are_from_object_root_for_every_kind(kind: str) -> None:
    meta = {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}
    spec = {"containers": [ctr("app", privileged=True)]}
    obj = wrap(kind, meta, spec)
    target = pod_target(obj)
    assert target is not None
    got = {v.check: v for v in evaluate_all(obj, "baseline")}
    assert set(got) == {"privileged", "appArmorProfile"}
    assert got["privileged"].path == target.spec_path + ("containers", 0, "securityContext", "privileged")
    assert got["appArmorProfile"].path == target.meta_path + (
        "annotations", "container.apparmor.security.beta.kubernetes.io/app")
    # every path must resolve to an existing node in the object
    for v in got.values():
        assert resolve(obj, v.path) is not None


def test_deployment_pod_level_metadata_is_template_metadata() -> None:
    # annotations on the Deployment itself are NOT the pod's annotations
    obj = wrap("Deployment", {}, {"containers": [ctr()]})
    obj["metadata"]["annotations"] = {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"}
    assert evaluate("seccompProfile_baseline", obj, (1, 18)) == []
    obj["spec"]["template"]["metadata"]["annotations"] = {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined"}
    [v] = evaluate("seccompProfile_baseline", obj, (1, 18))
    assert v.path == ("spec", "template", "metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod")


def test_cronjob_restricted_paths() -> None:
    obj = wrap("CronJob", {}, {"containers": [ctr("job")]})
    got = {v.check: v for v in evaluate_all(obj, "restricted")}
    base = CRON + ("spec",)
    assert got["runAsNonRoot"].path == base + ("containers", 0)
    assert got["runAsNonRoot"].missing
    assert got["seccompProfile_restricted"].path == base
    assert got["seccompProfile_restricted"].missing
    assert got["allowPrivilegeEscalation"].path == base + ("containers", 0)


def test_podtemplate_restricted_clean() -> None:
    good = restricted_ok()
    obj = wrap("PodTemplate", good["metadata"], good["spec"])
    assert evaluate_all(obj, "restricted") == []


def test_non_pod_kinds_are_ignored() -> None:
    svc = {"kind": "Service", "spec": {"containers": [ctr(privileged=True)], "hostNetwork": True}}
    assert evaluate_all(svc, "restricted") == []
    for check in PSS_CHECKS:
        assert evaluate(check, svc) == []


def resolve(obj: Any, path: tuple[Any, ...]) -> Any:
    node = obj
    for key in path:
        node = node[key]
    return node


# ---------------------------------------------------------------------------
# container kinds
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["initContainers", "containers", "ephemeralContainers"])
def test_every_container_list_is_checked(field: str) -> None:
    obj = mkpod({field: [ctr("c", privileged=True, procMount="Unmasked",
                             capabilities={"add": ["SYS_ADMIN"]})]})
    hit = evaluate_all(obj, "baseline")
    assert sorted(ids(hit)) == ["capabilities_baseline", "privileged", "procMount"]
    assert all(v.path[:3] == ("spec", field, 0) for v in hit)


def test_visit_order_init_then_containers_then_ephemeral() -> None:
    obj = mkpod({
        "ephemeralContainers": [ctr("e", privileged=True)],
        "containers": [ctr("c", privileged=True)],
        "initContainers": [ctr("i", privileged=True)],
    })
    assert [v.path[1] for v in evaluate("privileged", obj)] == [
        "initContainers", "containers", "ephemeralContainers"]


# ---------------------------------------------------------------------------
# baseline checks, one block per check
# ---------------------------------------------------------------------------


def test_privileged() -> None:
    assert evaluate("privileged", one(privileged=False)) == []
    assert evaluate("privileged", one()) == []
    [v] = evaluate("privileged", one("app", privileged=True))
    assert v == PssViolation(
        "privileged", ("spec", "containers", 0, "securityContext", "privileged"), False,
        'privileged (container "app" must not set securityContext.privileged=true)')


def test_privileged_yaml11_boolean() -> None:
    obj = yaml.safe_load("""
kind: Pod
spec:
  containers:
  - name: app
    securityContext: {privileged: yes}
""")
    assert ids(evaluate("privileged", obj)) == ["privileged"]


def test_host_namespaces_one_violation_per_field() -> None:
    assert evaluate("hostNamespaces", mkpod({"hostNetwork": False, "hostPID": False})) == []
    got = evaluate("hostNamespaces", mkpod({"hostNetwork": True, "hostPID": True, "hostIPC": True}))
    assert [v.path for v in got] == [("spec", "hostNetwork"), ("spec", "hostPID"), ("spec", "hostIPC")]
    assert got[0].message == "host namespaces (hostNetwork=true)"


def test_host_path_volumes() -> None:
    ok = mkpod({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "hostPath": None}]})
    assert evaluate("hostPathVolumes", ok) == []
    bad = mkpod({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "h", "hostPath": {"path": "/"}}]})
    [v] = evaluate("hostPathVolumes", bad)
    assert v.path == ("spec", "volumes", 1, "hostPath")
    assert v.message == 'hostPath volumes (volume "h")'


def test_host_ports() -> None:
    ok = mkpod({"containers": [{"name": "a", "ports": [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]}]})
    assert evaluate("hostPorts", ok) == []
    bad = mkpod({"containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 8080},
                                                        {"containerPort": 81, "hostPort": 9090}]}],
                 "initContainers": [{"name": "i", "ports": [{"containerPort": 1, "hostPort": 1}]}]})
    got = evaluate("hostPorts", bad)
    assert [v.path for v in got] == [
        ("spec", "initContainers", 0, "ports", 0, "hostPort"),
        ("spec", "containers", 0, "ports", 0, "hostPort"),
        ("spec", "containers", 0, "ports", 1, "hostPort"),
    ]
    assert got[1].message == 'hostPort (container "a" uses hostPort 8080)'


def test_host_probes_and_lifecycle_versioned() -> None:
    obj = mkpod({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "evil", "port": 80}}}]})
    assert evaluate("hostProbesAndHostLifecycle", obj, (1, 33)) == []
    assert "hostProbesAndHostLifecycle" not in checks_hit(obj, "baseline", (1, 33))
    [v] = evaluate("hostProbesAndHostLifecycle", obj, (1, 34))
    assert v.path == ("spec", "containers", 0, "livenessProbe", "httpGet", "host")
    assert v.message == 'probe or lifecycle host (container "a" uses probe or lifecycle host "evil")'
    assert evaluate("hostProbesAndHostLifecycle", obj) != []


def test_host_probes_every_location() -> None:
    c = {
        "name": "a",
        "livenessProbe": {"tcpSocket": {"host": "h1"}},
        "readinessProbe": {"httpGet": {"host": "h2"}},
        "startupProbe": {"httpGet": {"host": ""}, "tcpSocket": {"port": 1}},
        "lifecycle": {"postStart": {"httpGet": {"host": "h3"}}, "preStop": {"tcpSocket": {"host": "h4"}}},
    }
    got = evaluate("hostProbesAndHostLifecycle", mkpod({"ephemeralContainers": [c]}))
    assert [v.path[3:] for v in got] == [
        ("livenessProbe", "tcpSocket", "host"),
        ("readinessProbe", "httpGet", "host"),
        ("lifecycle", "postStart", "httpGet", "host"),
        ("lifecycle", "preStop", "tcpSocket", "host"),
    ]


# upstream: policy/check_hostProbesAndhostLifecycle_test.go (TestHostProbesAndHostLifecycle)
@pytest.mark.parametrize("container,bad_hosts", [
    ({"name": "a", "livenessProbe": {"httpGet": {}}, "readinessProbe": {"tcpSocket": {}},
      "lifecycle": {"postStart": {"httpGet": {}}}}, []),
    ({"name": "a", "livenessProbe": {"httpGet": {"host": "127.0.0.1"}},
      "readinessProbe": {"tcpSocket": {"host": "::1"}},
      "startupProbe": {"httpGet": {"host": "localhost"}}}, ["127.0.0.1", "::1", "localhost"]),
    ({"name": "b", "readinessProbe": {"tcpSocket": {"host": "invalid.host"}}}, ["invalid.host"]),
    ({"name": "d", "lifecycle": {"postStart": {"tcpSocket": {"host": "invalid.host"}}}}, ["invalid.host"]),
    ({"name": "e", "lifecycle": {"preStop": {"httpGet": {"host": "another.invalid.host"}}}},
     ["another.invalid.host"]),
    ({"name": "a", "livenessProbe": {"httpGet": {"host": "8.8.8.8"}}}, ["8.8.8.8"]),
    ({"name": "a", "livenessProbe": {"tcpSocket": {"host": "2001:4860:4860::8888"}}}, ["2001:4860:4860::8888"]),
])
def test_upstream_host_probes_unit(container: dict[str, Any], bad_hosts: list[str]) -> None:
    got = evaluate("hostProbesAndHostLifecycle", mkpod({"containers": [container]}))
    assert [resolve(mkpod({"containers": [container]}), v.path) for v in got] == bad_hosts


def test_capabilities_baseline() -> None:
    allowed = ["AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
               "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]
    assert evaluate("capabilities_baseline", one(capabilities={"add": allowed, "drop": ["NET_RAW"]})) == []
    got = evaluate("capabilities_baseline", one("a", capabilities={"add": ["CHOWN", "NET_RAW", "chown", "CAP_CHOWN"]}))
    assert [v.path[-1] for v in got] == [1, 2, 3]
    assert got[0].path == ("spec", "containers", 0, "securityContext", "capabilities", "add", 1)
    assert got[0].message == ('non-default capabilities (container "a" must not include "NET_RAW" '
                              'in securityContext.capabilities.add)')


# upstream: policy/check_capabilities_baseline_test.go (TestCapabilitiesBaseline)
def test_upstream_capabilities_baseline_unit() -> None:
    obj = mkpod({"containers": [ctr("a", capabilities={"add": ["FOO", "BAR"]}),
                                ctr("b", capabilities={"add": ["BAR", "BAZ"]})]})
    got = evaluate("capabilities_baseline", obj)
    assert [(v.path[2], resolve(obj, v.path)) for v in got] == [(0, "FOO"), (0, "BAR"), (1, "BAR"), (1, "BAZ")]


def test_capabilities_baseline_not_relaxed_for_user_namespaces() -> None:
    # the userns relaxation only ever existed behind a default-off feature gate
    obj = mkpod({"hostUsers": False, "containers": [ctr(capabilities={"add": ["SYS_ADMIN"]})]})
    assert ids(evaluate("capabilities_baseline", obj)) == ["capabilities_baseline"]


def test_apparmor_fields() -> None:
    ok = mkpod({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}},
                "containers": [ctr(appArmorProfile={"type": "Localhost", "localhostProfile": "x"})]})
    assert evaluate("appArmorProfile", ok) == []
    bad = mkpod({"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
                 "containers": [ctr("a", appArmorProfile={"type": "Unconfined"}), ctr("b", appArmorProfile={})]})
    got = evaluate("appArmorProfile", bad)
    assert [(v.path, v.missing) for v in got] == [
        (("spec", "securityContext", "appArmorProfile", "type"), False),
        (("spec", "containers", 0, "securityContext", "appArmorProfile", "type"), False),
        # an empty profile has type "" which is not allowed; point at the mapping
        (("spec", "containers", 1, "securityContext", "appArmorProfile"), True),
    ]
    assert got[0].message == 'forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")'


def test_apparmor_fields_apply_at_every_version() -> None:
    obj = one(appArmorProfile={"type": "Unconfined"})
    assert ids(evaluate("appArmorProfile", obj, (1, 0))) == ["appArmorProfile"]


@pytest.mark.parametrize("value,bad", [
    ("runtime/default", False), ("localhost/foo", False), ("", False),
    ("unconfined", True), ("localhost", True), ("docker/default", True), ("Runtime/Default", True),
])
def test_apparmor_annotations(value: str, bad: bool) -> None:
    key = "container.apparmor.security.beta.kubernetes.io/whatever"  # any suffix is checked
    got = evaluate("appArmorProfile", mkpod({"containers": [ctr("app")]}, {key: value}))
    if bad:
        [v] = got
        assert v.path == ("metadata", "annotations", key)
        assert not v.missing
    else:
        assert got == []


def test_apparmor_unrelated_annotations_ignored() -> None:
    obj = mkpod({"containers": [ctr()]}, {"apparmor.security.beta.kubernetes.io/app": "unconfined",
                                          "example.com/x": "unconfined"})
    assert evaluate("appArmorProfile", obj) == []


def test_selinux_options() -> None:
    ok = mkpod({"securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"}},
                "containers": [ctr(seLinuxOptions={"type": "container_init_t"})],
                "initContainers": [ctr("i", seLinuxOptions={"type": "container_kvm_t"})]})
    assert evaluate("seLinuxOptions", ok, (1, 0)) == []
    bad = mkpod({"securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "u", "role": "r"}},
                 "containers": [ctr("a", seLinuxOptions={"user": "system_u"})]})
    got = evaluate("seLinuxOptions", bad)
    assert [v.path[-1] for v in got] == ["type", "user", "role", "user"]
    assert got[0].path == ("spec", "securityContext", "seLinuxOptions", "type")
    assert got[0].message == 'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t")'
    assert got[3].message == ('seLinuxOptions (container "a" set forbidden securityContext.seLinuxOptions: '
                              'user may not be set)')


def test_selinux_container_engine_t_allowed_from_1_31() -> None:
    obj = one(seLinuxOptions={"type": "container_engine_t"})
    assert ids(evaluate("seLinuxOptions", obj, (1, 30))) == ["seLinuxOptions"]
    assert evaluate("seLinuxOptions", obj, (1, 31)) == []
    assert evaluate("seLinuxOptions", obj) == []


def test_proc_mount() -> None:
    assert evaluate("procMount", one(procMount="Default")) == []
    assert evaluate("procMount", one(procMount=None)) == []
    [v] = evaluate("procMount", one("a", procMount="Unmasked"))
    assert v.path == ("spec", "containers", 0, "securityContext", "procMount")
    assert v.message == 'procMount (container "a" must not set securityContext.procMount to "Unmasked")'
    # Go compares the string: an explicit empty value is not "Default"
    assert ids(evaluate("procMount", one(procMount=""))) == ["procMount"]


def test_proc_mount_user_namespace_relaxation_from_1_35() -> None:
    obj = mkpod({"hostUsers": False, "containers": [ctr(procMount="Unmasked")]})
    assert ids(evaluate("procMount", obj, (1, 34))) == ["procMount"]
    assert evaluate("procMount", obj, (1, 35)) == []
    assert evaluate_all(obj, "baseline") == []
    # only an explicit hostUsers: false relaxes
    for host_users in (True, None, "false"):
        obj["spec"]["hostUsers"] = host_users
        assert ids(evaluate("procMount", obj)) == ["procMount"]


def test_seccomp_baseline_fields_from_1_19_annotations_before() -> None:
    field = one("app", seccompProfile={"type": "Unconfined"})
    assert evaluate("seccompProfile_baseline", field, (1, 18)) == []
    [v] = evaluate("seccompProfile_baseline", field, (1, 19))
    assert v.path == ("spec", "containers", 0, "securityContext", "seccompProfile", "type")
    assert v.message == ('seccompProfile (container "app" must not set securityContext.seccompProfile.type '
                         'to "Unconfined")')
    ann = mkpod({"containers": [ctr("app")]}, {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
    [v] = evaluate("seccompProfile_baseline", ann, (1, 0))
    assert v.path == ("metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod")
    assert v.message == 'seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")'
    assert evaluate("seccompProfile_baseline", ann, (1, 19)) == []


@pytest.mark.parametrize("value,bad", [
    ("runtime/default", False), ("docker/default", False), ("localhost/prof.json", False),
    ("unconfined", True), ("", True), ("RuntimeDefault", True),
])
def test_seccomp_baseline_annotation_values(value: str, bad: bool) -> None:
    key = "container.seccomp.security.alpha.kubernetes.io/app"
    obj = mkpod({"containers": [ctr("app")]}, {key: value})
    assert bool(evaluate("seccompProfile_baseline", obj, (1, 18))) is bad


def test_seccomp_baseline_container_annotation_needs_matching_container() -> None:
    key = "container.seccomp.security.alpha.kubernetes.io/"
    obj = mkpod({"initContainers": [ctr("init")], "containers": [ctr("app")]},
                {key + "init": "unconfined", key + "ghost": "unconfined"})
    [v] = evaluate("seccompProfile_baseline", obj, (1, 10))
    assert v.path[-1] == key + "init"


def test_seccomp_baseline_pod_level_and_unset() -> None:
    assert evaluate("seccompProfile_baseline", one()) == []
    obj = mkpod({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [ctr()]})
    [v] = evaluate("seccompProfile_baseline", obj)
    assert v.path == ("spec", "securityContext", "seccompProfile", "type")


def sysctl_pod(*names: str) -> Obj:
    return mkpod({"securityContext": {"sysctls": [{"name": n, "value": "1"} for n in names]},
                  "containers": [ctr()]})


@pytest.mark.parametrize("name,first_allowed", [
    ("kernel.shm_rmid_forced", (1, 0)),
    ("net.ipv4.ip_local_port_range", (1, 0)),
    ("net.ipv4.tcp_syncookies", (1, 0)),
    ("net.ipv4.ping_group_range", (1, 0)),
    ("net.ipv4.ip_unprivileged_port_start", (1, 0)),
    ("net.ipv4.ip_local_reserved_ports", (1, 27)),
    ("net.ipv4.tcp_keepalive_time", (1, 29)),
    ("net.ipv4.tcp_fin_timeout", (1, 29)),
    ("net.ipv4.tcp_keepalive_intvl", (1, 29)),
    ("net.ipv4.tcp_keepalive_probes", (1, 29)),
    ("net.ipv4.tcp_rmem", (1, 32)),
    ("net.ipv4.tcp_wmem", (1, 32)),
    ("net.ipv4.tcp_slow_start_after_idle", (1, 37)),
    ("net.ipv4.tcp_notsent_lowat", (1, 37)),
])
def test_sysctls_allowed_per_version(name: str, first_allowed: tuple[int, int]) -> None:
    obj = sysctl_pod(name)
    for version in ALL_VERSIONS:
        assert (evaluate("sysctls", obj, version) == []) is (version >= first_allowed), version


@pytest.mark.parametrize("name", ["kernel.msgmax", "net.core.somaxconn", "net.ipv4.tcp_congestion_control",
                                  "kernel.shm_rmid_forced ", ""])
def test_sysctls_never_allowed(name: str) -> None:
    assert ids(evaluate("sysctls", sysctl_pod(name))) == ["sysctls"]


def test_sysctls_paths() -> None:
    obj = sysctl_pod("kernel.shm_rmid_forced", "kernel.msgmax")
    obj["spec"]["securityContext"]["sysctls"].append({"value": "1"})
    got = evaluate("sysctls", obj)
    assert [(v.path, v.missing) for v in got] == [
        (("spec", "securityContext", "sysctls", 1, "name"), False),
        (("spec", "securityContext", "sysctls", 2), True),
    ]
    assert got[0].message == "forbidden sysctls (kernel.msgmax)"


# upstream: policy/check_sysctls_test.go (TestSysctls, TestSysctls_1_27)
def test_upstream_sysctls_unit() -> None:
    assert [resolve(sysctl_pod("a", "b"), v.path) for v in evaluate("sysctls", sysctl_pod("a", "b"), (1, 0))] == ["a", "b"]
    assert ids(evaluate("sysctls", sysctl_pod("net.ipv4.ip_local_reserved_ports"), (1, 0))) == ["sysctls"]
    assert evaluate("sysctls", sysctl_pod("net.ipv4.ip_local_reserved_ports"), (1, 27)) == []


def test_windows_host_process() -> None:
    assert evaluate("windowsHostProcess", one(windowsOptions={"hostProcess": False})) == []
    obj = mkpod({"securityContext": {"windowsOptions": {"hostProcess": True}},
                 "containers": [ctr("a", windowsOptions={"hostProcess": True}),
                                ctr("b", windowsOptions={"hostProcess": False})]})
    got = evaluate("windowsHostProcess", obj)
    assert [v.path for v in got] == [
        ("spec", "securityContext", "windowsOptions", "hostProcess"),
        ("spec", "containers", 0, "securityContext", "windowsOptions", "hostProcess"),
    ]
    assert got[0].message == "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)"


# ---------------------------------------------------------------------------
# restricted checks
# ---------------------------------------------------------------------------


def test_allow_privilege_escalation() -> None:
    assert evaluate("allowPrivilegeEscalation", one(allowPrivilegeEscalation=False)) == []
    bare = mkpod({"containers": [{"name": "a"}]})
    [v] = evaluate("allowPrivilegeEscalation", bare)
    assert (v.path, v.missing) == (("spec", "containers", 0), True)
    [v] = evaluate("allowPrivilegeEscalation", one("a", runAsNonRoot=True))
    assert (v.path, v.missing) == (("spec", "containers", 0, "securityContext"), True)
    [v] = evaluate("allowPrivilegeEscalation", one("a", allowPrivilegeEscalation=True))
    assert (v.path, v.missing) == (("spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"), False)
    assert v.message == ('allowPrivilegeEscalation != false (container "a" must set '
                         'securityContext.allowPrivilegeEscalation=false)')


def test_allow_privilege_escalation_starts_at_1_8() -> None:
    obj = one(allowPrivilegeEscalation=True)
    assert evaluate("allowPrivilegeEscalation", obj, (1, 7)) == []
    assert evaluate("allowPrivilegeEscalation", obj, (1, 8)) != []


# upstream: policy/check_allowPrivilegeEscalation_test.go (TestAllowPrivilegeEscalation_1_25 / _1_8)
def test_upstream_allow_privilege_escalation_unit() -> None:
    multi = mkpod({"containers": [{"name": "a"}, {"name": "b", "securityContext": {"allowPrivilegeEscalation": None}},
                                  {"name": "c", "securityContext": {"allowPrivilegeEscalation": True}},
                                  {"name": "d", "securityContext": {"allowPrivilegeEscalation": False}}]})
    for version in ((1, 8), (1, 25)):
        assert [v.path[2] for v in evaluate("allowPrivilegeEscalation", multi, version)] == [0, 1, 2]
    windows = mkpod({"os": {"name": "windows"}, "containers": [{"name": "a"}]})
    linux = mkpod({"os": {"name": "linux"}, "containers": [{"name": "a"}]})
    assert evaluate("allowPrivilegeEscalation", windows, (1, 25)) == []
    assert evaluate("allowPrivilegeEscalation", windows, (1, 24)) != []
    assert evaluate("allowPrivilegeEscalation", linux, (1, 25)) != []


def test_capabilities_restricted() -> None:
    assert evaluate("capabilities_restricted", one(capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})) == []
    got = evaluate("capabilities_restricted", one("a", capabilities={"drop": ["NET_RAW"], "add": ["CHOWN"]}))
    assert [(v.path, v.missing) for v in got] == [
        (("spec", "containers", 0, "securityContext", "capabilities", "drop"), False),
        (("spec", "containers", 0, "securityContext", "capabilities", "add", 0), False),
    ]
    assert got[0].message == 'unrestricted capabilities (container "a" must set securityContext.capabilities.drop=["ALL"])'
    assert got[1].message == ('unrestricted capabilities (container "a" must not include "CHOWN" '
                              'in securityContext.capabilities.add)')
    [v] = evaluate("capabilities_restricted", one(capabilities={"add": ["NET_BIND_SERVICE"]}))
    assert (v.path, v.missing) == (("spec", "containers", 0, "securityContext", "capabilities"), True)
    [v] = evaluate("capabilities_restricted", mkpod({"containers": [{"name": "x"}]}))
    assert (v.path, v.missing) == (("spec", "containers", 0), True)
    # "all" (lower case) is not "ALL"
    assert evaluate("capabilities_restricted", one(capabilities={"drop": ["all"]})) != []


def test_capabilities_restricted_starts_at_1_22() -> None:
    obj = mkpod({"containers": [{"name": "x"}]})
    assert evaluate("capabilities_restricted", obj, (1, 21)) == []
    assert evaluate("capabilities_restricted", obj, (1, 22)) != []


def test_proc_mount_restricted_ignores_user_namespaces() -> None:
    obj = mkpod({"hostUsers": False, "containers": [ctr(procMount="Unmasked")]})
    assert evaluate("procMount_restricted", obj, (1, 34)) == []  # check does not exist yet
    [v] = evaluate("procMount_restricted", obj, (1, 35))
    assert v.path == ("spec", "containers", 0, "securityContext", "procMount")


# upstream: policy/check_procMount_restricted_test.go (TestProcMountRestricted)
@pytest.mark.parametrize("host_users", [True, False])
def test_upstream_proc_mount_restricted_unit(host_users: bool) -> None:
    obj = mkpod({"hostUsers": host_users, "containers": [
        {"name": "a", "securityContext": None}, {"name": "b", "securityContext": {}},
        ctr("c", procMount="Default"), ctr("d", procMount="Unmasked"), ctr("e", procMount="other")]})
    got = evaluate("procMount_restricted", obj, (1, 35))
    assert [resolve(obj, v.path) for v in got] == ["Unmasked", "other"]
    assert [v.path[2] for v in got] == [3, 4]


def test_restricted_volumes() -> None:
    allowed = [{"name": k, k: {}} for k in ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                            "image", "persistentVolumeClaim", "projected", "secret")]
    assert evaluate("restrictedVolumes", mkpod({"volumes": allowed})) == []
    obj = mkpod({"volumes": [{"name": "ok", "secret": {"secretName": "s"}},
                             {"name": "nfs", "nfs": {"server": "x", "path": "/"}}]})
    [v] = evaluate("restrictedVolumes", obj)
    assert v.path == ("spec", "volumes", 1, "nfs")
    assert v.message == 'restricted volume types (volume "nfs" uses restricted volume type "nfs")'


# upstream: policy/check_restrictedVolumes_test.go (TestRestrictedVolumes)
def test_upstream_restricted_volumes_unit() -> None:
    allowed = ["emptyDir", "secret", "persistentVolumeClaim", "downwardAPI", "configMap", "projected",
               "csi", "ephemeral", "image"]
    restricted = ["hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
                  "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
                  "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "portworxVolume",
                  "scaleIO", "storageos"]
    volumes = [{"name": f"a{i + 1}", key: {}} for i, key in enumerate(allowed)]
    volumes += [{"name": f"b{i + 1}", key: {}} for i, key in enumerate(restricted)]
    # upstream's "c1" (a Go VolumeSource with no field set) reports "unknown"; from a manifest the API
    # server defaults such a volume to emptyDir before admission, so it is allowed here.
    volumes.append({"name": "c1"})
    got = evaluate("restrictedVolumes", mkpod({"volumes": volumes}))
    assert [v.message.split('"')[1] for v in got] == [f"b{i + 1}" for i in range(len(restricted))]
    assert [v.path[-1] for v in got] == restricted


def test_run_as_non_root_inheritance() -> None:
    def pod(pod_value: Any, container_sc: dict[str, Any] | None) -> Obj:
        c: dict[str, Any] = {"name": "app"}
        if container_sc is not None:
            c["securityContext"] = container_sc
        spec: dict[str, Any] = {"containers": [c]}
        if pod_value is not None:
            spec["securityContext"] = {"runAsNonRoot": pod_value}
        return mkpod(spec)

    # pod true + container unset -> fine
    assert evaluate("runAsNonRoot", pod(True, None)) == []
    assert evaluate("runAsNonRoot", pod(True, {})) == []
    # container true, pod unset -> fine
    assert evaluate("runAsNonRoot", pod(None, {"runAsNonRoot": True})) == []
    # pod true + container false -> violation at the container's field
    [v] = evaluate("runAsNonRoot", pod(True, {"runAsNonRoot": False}))
    assert (v.path, v.missing) == (("spec", "containers", 0, "securityContext", "runAsNonRoot"), False)
    assert v.message == 'runAsNonRoot != true (container "app" must not set securityContext.runAsNonRoot=false)'
    # pod false + container true -> the pod is the bad setter
    [v] = evaluate("runAsNonRoot", pod(False, {"runAsNonRoot": True}))
    assert v.path == ("spec", "securityContext", "runAsNonRoot")
    assert v.message == "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)"
    # nothing set -> missing, pointing at the container (or its securityContext)
    [v] = evaluate("runAsNonRoot", pod(None, None))
    assert (v.path, v.missing) == (("spec", "containers", 0), True)
    assert v.message == 'runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)'
    [v] = evaluate("runAsNonRoot", pod(None, {"runAsUser": 1000}))
    assert (v.path, v.missing) == (("spec", "containers", 0, "securityContext"), True)


def test_run_as_non_root_explicit_hides_implicit_like_upstream() -> None:
    obj = mkpod({"containers": [ctr("a"), ctr("b", runAsNonRoot=False), ctr("c", runAsNonRoot=True)]})
    got = evaluate("runAsNonRoot", obj)
    assert [(v.path[2], v.missing) for v in got] == [(1, False)]
    obj = mkpod({"containers": [ctr("a"), ctr("b", runAsUser=5), ctr("c", runAsNonRoot=True)]})
    assert [(v.path[2], v.missing) for v in evaluate("runAsNonRoot", obj)] == [(0, True), (1, True)]


def test_run_as_non_root_and_run_as_user_user_namespace_relaxation() -> None:
    obj = mkpod({"hostUsers": False, "securityContext": {"runAsUser": 0},
                 "containers": [ctr(runAsNonRoot=False, runAsUser=0)]})
    assert ids(evaluate("runAsNonRoot", obj, (1, 34))) == ["runAsNonRoot"]
    assert sorted(ids(evaluate("runAsUser", obj, (1, 34)))) == ["runAsUser", "runAsUser"]
    assert evaluate("runAsNonRoot", obj, (1, 35)) == []
    assert evaluate("runAsUser", obj, (1, 35)) == []
    obj["spec"]["hostUsers"] = True
    assert evaluate("runAsNonRoot", obj, (1, 35)) != []


def test_run_as_user() -> None:
    obj = mkpod({"securityContext": {"runAsUser": 0}, "containers": [ctr("a", runAsUser=0), ctr("b", runAsUser=1000)]})
    got = evaluate("runAsUser", obj)
    assert [v.path for v in got] == [("spec", "securityContext", "runAsUser"),
                                     ("spec", "containers", 0, "securityContext", "runAsUser")]
    assert got[1].message == 'runAsUser=0 (container "a" must not set runAsUser=0)'
    assert evaluate("runAsUser", obj, (1, 22)) == []  # check starts at 1.23
    assert evaluate("runAsUser", one(runAsUser=1)) == []
    assert evaluate("runAsUser", one()) == []
    # YAML 1.1 false is not the integer 0
    assert evaluate("runAsUser", one(runAsUser=False)) == []


def test_seccomp_restricted_pod_level_covers_containers() -> None:
    obj = mkpod({"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                 "containers": [ctr("a")], "initContainers": [ctr("i", seccompProfile={"type": "Localhost"})]})
    assert evaluate("seccompProfile_restricted", obj) == []


def test_seccomp_restricted_missing_everywhere_points_at_pod() -> None:
    obj = mkpod({"containers": [ctr("a"), ctr("b")]})
    [v] = evaluate("seccompProfile_restricted", obj)
    assert (v.path, v.missing) == (("spec",), True)
    assert v.message == ('seccompProfile (pod or containers "a", "b" must set securityContext.seccompProfile.type '
                         'to "RuntimeDefault" or "Localhost")')
    obj["spec"]["securityContext"] = {"runAsNonRoot": True}
    [v] = evaluate("seccompProfile_restricted", obj)
    assert (v.path, v.missing) == (("spec", "securityContext"), True)


def test_seccomp_restricted_some_containers_missing() -> None:
    obj = mkpod({"containers": [ctr("a", seccompProfile={"type": "RuntimeDefault"}), ctr("b", runAsUser=1),
                                {"name": "c"}]})
    got = evaluate("seccompProfile_restricted", obj)
    assert [(v.path, v.missing) for v in got] == [
        (("spec", "containers", 1, "securityContext"), True),
        (("spec", "containers", 2), True),
    ]


# upstream: policy/check_seccompProfile_restricted_test.go (TestSeccompProfileRestricted_1_25 / _1_19)
def test_upstream_seccomp_restricted_unit() -> None:
    def sp(t: str) -> dict[str, Any]:
        return {"seccompProfile": {"type": t}}

    no_explicit = mkpod({"containers": [{"name": "a"}]})
    windows = mkpod({"os": {"name": "windows"}, "containers": [{"name": "a"}]})
    linux = mkpod({"os": {"name": "linux"}, "containers": [{"name": "a"}]})
    pod_invalid = mkpod({"securityContext": sp("Unconfined"), "containers": [{"name": "a", "securityContext": None}]})
    containers_invalid = mkpod({"securityContext": sp("RuntimeDefault"), "containers": [
        {"name": "a", "securityContext": None}, {"name": "b", "securityContext": {}},
        {"name": "c", "securityContext": sp("Unconfined")}, {"name": "d", "securityContext": sp("Unconfined")},
        {"name": "e", "securityContext": sp("RuntimeDefault")}, {"name": "f", "securityContext": sp("RuntimeDefault")}]})
    fallthrough = mkpod({"containers": [
        {"name": "a", "securityContext": None}, {"name": "b", "securityContext": {}},
        {"name": "d", "securityContext": sp("RuntimeDefault")}, {"name": "e", "securityContext": sp("RuntimeDefault")}]})
    for version in ((1, 19), (1, 25)):
        assert ids(evaluate("seccompProfile_restricted", no_explicit, version)) == ["seccompProfile_restricted"]
        [v] = evaluate("seccompProfile_restricted", pod_invalid, version)
        assert v.message == 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'
        got = evaluate("seccompProfile_restricted", containers_invalid, version)
        assert [v.path[2] for v in got] == [2, 3]
        got = evaluate("seccompProfile_restricted", fallthrough, version)
        assert [v.path[2] for v in got] == [0, 1]
        assert ids(evaluate("seccompProfile_restricted", linux, version)) == ["seccompProfile_restricted"]
    assert evaluate("seccompProfile_restricted", windows, (1, 25)) == []
    assert evaluate("seccompProfile_restricted", windows, (1, 24)) != []
    assert evaluate("seccompProfile_restricted", no_explicit, (1, 18)) == []


# ---------------------------------------------------------------------------
# evaluate_all: levels, overrides, Windows
# ---------------------------------------------------------------------------


def test_restricted_level_includes_baseline_checks() -> None:
    obj = restricted_ok(hostNetwork=True)
    assert checks_hit(obj, "baseline") == {"hostNamespaces"}
    assert checks_hit(obj, "restricted") == {"hostNamespaces"}


def test_restricted_overrides_host_path_volumes() -> None:
    obj = restricted_ok(volumes=[{"name": "h", "hostPath": {"path": "/"}}])
    assert checks_hit(obj, "baseline") == {"hostPathVolumes"}
    assert checks_hit(obj, "restricted") == {"restrictedVolumes"}


def test_restricted_override_of_capabilities_is_versioned() -> None:
    obj = restricted_ok()
    obj["spec"]["containers"][0]["securityContext"]["capabilities"]["add"] = ["SYS_ADMIN"]
    assert checks_hit(obj, "restricted", (1, 21)) == {"capabilities_baseline"}
    assert checks_hit(obj, "restricted", (1, 22)) == {"capabilities_restricted"}


def test_restricted_override_of_seccomp_baseline_is_versioned() -> None:
    obj = mkpod({"securityContext": {"runAsNonRoot": True},
                 "containers": [ctr(allowPrivilegeEscalation=False)]},
                {"seccomp.security.alpha.kubernetes.io/pod": "unconfined"})
    assert checks_hit(obj, "restricted", (1, 18)) == {"seccompProfile_baseline"}
    # from 1.19 the restricted seccomp check replaces the baseline one (annotations no longer read)
    assert checks_hit(obj, "restricted", (1, 19)) == {"seccompProfile_restricted"}


def test_proc_mount_override_at_1_35() -> None:
    obj = restricted_ok(hostUsers=False)
    obj["spec"]["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    assert checks_hit(obj, "restricted", (1, 34)) == {"procMount"}
    assert checks_hit(obj, "restricted", (1, 35)) == {"procMount_restricted"}
    assert checks_hit(obj, "baseline", (1, 35)) == set()
    obj["spec"]["hostUsers"] = True
    assert checks_hit(obj, "restricted", (1, 35)) == {"procMount_restricted"}
    assert checks_hit(obj, "baseline", (1, 35)) == {"procMount"}


def windows_pod(**container_sc: Any) -> Obj:
    c: dict[str, Any] = {"name": "win"}
    if container_sc:
        c["securityContext"] = container_sc
    return mkpod({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": True}, "containers": [c]})


def test_windows_pod_restricted_1_24_vs_1_25() -> None:
    obj = windows_pod()
    assert checks_hit(obj, "restricted", (1, 24)) == {
        "allowPrivilegeEscalation", "capabilities_restricted", "seccompProfile_restricted"}
    assert checks_hit(obj, "restricted", (1, 25)) == set()
    assert checks_hit(obj, "restricted") == set()


def test_windows_exemption_is_case_sensitive_and_restricted_only() -> None:
    assert checks_hit(mkpod({"os": {"name": "Windows"}, "securityContext": {"runAsNonRoot": True},
                             "containers": [{"name": "w"}]}), "restricted", (1, 25)) != set()
    # runAsNonRoot, runAsUser and the baseline checks still apply to Windows pods
    obj = mkpod({"os": {"name": "windows"}, "containers": [ctr("w", runAsUser=0, privileged=True)]})
    assert checks_hit(obj, "restricted") == {"privileged", "runAsNonRoot", "runAsUser"}


def test_windows_exemption_also_drops_overridden_baseline_checks() -> None:
    # capabilities_restricted / seccompProfile_restricted override their baseline counterparts,
    # so at restricted >= 1.25 a Windows pod is not held to capabilities_baseline either.
    obj = windows_pod(capabilities={"add": ["SYS_ADMIN"]}, seccompProfile={"type": "Unconfined"})
    assert checks_hit(obj, "restricted", (1, 25)) == set()
    assert checks_hit(obj, "baseline", (1, 25)) == {"capabilities_baseline", "seccompProfile_baseline"}


def test_versions_above_latest_behave_like_latest() -> None:
    obj = restricted_ok(hostUsers=False)
    obj["spec"]["containers"][0]["securityContext"]["procMount"] = "Unmasked"
    assert evaluate_all(obj, "restricted", (1, 99)) == evaluate_all(obj, "restricted", LATEST)


def test_version_zero_evaluates_only_1_0_checks() -> None:
    obj = mkpod({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "x"}}}]})
    assert checks_hit(obj, "restricted", (1, 0)) == {"runAsNonRoot"}


# ---------------------------------------------------------------------------
# upstream fixture framework (test/fixtures.go + test/fixtures_*.go), ported
# ---------------------------------------------------------------------------

PAUSE = "registry.k8s.io/pause"


def minimal_valid_pod(level: str, version: tuple[int, int]) -> Obj:
    """upstream: test/fixtures.go minimalValidPods."""
    spec: dict[str, Any] = {"initContainers": [{"name": "initcontainer1", "image": PAUSE}],
                            "containers": [{"name": "container1", "image": PAUSE}]}
    if level == "restricted":
        spec["securityContext"] = {"runAsNonRoot": True}
        if version >= (1, 8):
            for c in spec["containers"] + spec["initContainers"]:
                c["securityContext"] = {"allowPrivilegeEscalation": False}
        if version >= (1, 19):
            spec["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
        if version >= (1, 22):
            for c in spec["containers"] + spec["initContainers"]:
                c["securityContext"]["capabilities"] = {"drop": ["ALL"]}
    return mkpod(spec)


def tweak(pod: Obj, fn: Callable[[dict[str, Any]], None]) -> Obj:
    out = copy.deepcopy(pod)
    fn(out["spec"])
    return out


def ensure_sc(spec: dict[str, Any]) -> None:
    spec.setdefault("securityContext", {})
    for c in spec["containers"] + spec["initContainers"]:
        c.setdefault("securityContext", {})


def setp(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Tweak: set a dotted path under spec, creating mappings; "c0"/"i0" = container/initContainer 0."""
    def fn(spec: dict[str, Any]) -> None:
        ensure_sc(spec)
        node: Any = spec
        parts = path.split(".")
        for part in parts[:-1]:
            if part == "c0":
                node = spec["containers"][0]
            elif part == "i0":
                node = spec["initContainers"][0]
            else:
                node = node.setdefault(part, {})
        node[parts[-1]] = value
    return fn


def both(*fns: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def fn(spec: dict[str, Any]) -> None:
        for f in fns:
            f(spec)
    return fn


Tweak = Callable[[dict[str, Any]], None]
# (level, version, check, expectErrorSubstring, pass tweaks, fail tweaks, pass-only-if-not-drop-all)
FIXTURES: list[tuple[str, tuple[int, int], str, str, list[Tweak], list[Tweak], bool]] = [
    # upstream: test/fixtures_sysctls.go (1.0, 1.27, 1.29)
    ("baseline", (1, 0), "sysctls", "forbidden sysctl",
     [setp("securityContext.sysctls", None),
      setp("securityContext.sysctls", [{"name": n, "value": "0"} for n in (
          "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
          "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start")])],
     [setp("securityContext.sysctls", [{"name": "othersysctl", "value": "other"}])], False),
    ("baseline", (1, 27), "sysctls", "forbidden sysctl",
     [setp("securityContext.sysctls", [{"name": n, "value": "0"} for n in (
         "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
         "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
         "net.ipv4.ip_local_reserved_ports")])],
     [setp("securityContext.sysctls", [{"name": "othersysctl", "value": "other"}])], False),
    ("baseline", (1, 29), "sysctls", "forbidden sysctl",
     [setp("securityContext.sysctls", [{"name": n, "value": "0"} for n in (
         "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
         "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
         "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
         "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes")])],
     [setp("securityContext.sysctls", [{"name": "othersysctl", "value": "other"}])], False),
    # upstream: test/fixtures_sysctls.go (1.32, 1.37)
    ("baseline", (1, 32), "sysctls", "forbidden sysctl",
     [setp("securityContext.sysctls", None),
      setp("securityContext.sysctls", [{"name": "net.ipv4.tcp_rmem", "value": "4096 87380 16777216"},
                                       {"name": "net.ipv4.tcp_wmem", "value": "4096 65536 16777216"}])],
     [setp("securityContext.sysctls", [{"name": "othersysctl", "value": "other"}])], False),
    ("baseline", (1, 37), "sysctls", "forbidden sysctl",
     [setp("securityContext.sysctls", None),
      setp("securityContext.sysctls", [{"name": "net.ipv4.tcp_slow_start_after_idle", "value": "0"},
                                       {"name": "net.ipv4.tcp_notsent_lowat", "value": "16384"}])],
     [setp("securityContext.sysctls", [{"name": "othersysctl", "value": "other"}])], False),
    # upstream: test/fixtures_seLinuxOptions.go (1.0)
    ("baseline", (1, 0), "seLinuxOptions", "seLinuxOptions",
     [both(setp("securityContext.seLinuxOptions", None), setp("c0.securityContext.seLinuxOptions", None),
           setp("i0.securityContext.seLinuxOptions", {})),
      both(setp("securityContext.seLinuxOptions", {"type": "container_t", "level": ""}),
           setp("c0.securityContext.seLinuxOptions", {"type": "container_init_t", "level": "somevalue"}),
           setp("i0.securityContext.seLinuxOptions", {"type": "container_kvm_t"}))],
     [setp("securityContext.seLinuxOptions", {"type": "somevalue"}),
      setp("c0.securityContext.seLinuxOptions", {"type": "somevalue"}),
      setp("i0.securityContext.seLinuxOptions", {"type": "somevalue"}),
      setp("securityContext.seLinuxOptions", {"user": "somevalue"}),
      setp("securityContext.seLinuxOptions", {"role": "somevalue"})], False),
    # upstream: test/fixtures_capabilities_baseline.go (1.0); pass fixtures skipped when the
    # minimal pod drops ALL (restricted >= 1.22), as upstream does
    ("baseline", (1, 0), "capabilities_baseline", "capabilities",
     [both(setp("c0.securityContext.capabilities", {"add": [
         "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
         "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]}),
         setp("i0.securityContext.capabilities", {"add": [
             "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
             "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]}))],
     [setp("c0.securityContext.capabilities.add", ["NET_RAW"]),
      setp("i0.securityContext.capabilities.add", ["NET_RAW"]),
      setp("c0.securityContext.capabilities.add", ["chown"]),
      setp("c0.securityContext.capabilities.add", ["CAP_CHOWN"])], True),
    # upstream: test/fixtures_hostProbesAndHostLifecycle.go (1.34, newest version: loopback rejected)
    ("baseline", (1, 34), "hostProbesAndHostLifecycle", "probe or lifecycle host",
     [lambda spec: None,
      setp("c0.livenessProbe", {"httpGet": {"port": 8080}}),
      setp("c0.readinessProbe", {"tcpSocket": {"port": 8080}})],
     [setp("c0.livenessProbe", {"httpGet": {"host": "bad.host", "port": 8080}}),
      both(setp("i0.restartPolicy", "Always"),
           setp("i0.readinessProbe", {"tcpSocket": {"host": "8.8.8.8", "port": 8080}})),
      setp("c0.lifecycle", {"postStart": {"httpGet": {"host": "bad.host", "port": 8080}}}),
      setp("c0.livenessProbe", {"httpGet": {"host": "127.0.0.1", "port": 8080}}),
      setp("c0.readinessProbe", {"tcpSocket": {"host": "::1", "port": 8080}})], False),
    # upstream: test/fixtures_restrictedVolumes.go (restricted 1.0)
    ("restricted", (1, 0), "restrictedVolumes", "restricted volume types",
     [setp("volumes", [{"name": "volume0"},  # implicit empty dir
                       {"name": "volume1", "emptyDir": {}},
                       {"name": "volume2", "secret": {"secretName": "test"}},
                       {"name": "volume3", "persistentVolumeClaim": {"claimName": "test"}},
                       {"name": "volume4", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {
                           "fieldPath": "metadata.labels"}}]}},
                       {"name": "volume5", "configMap": {"name": "test"}},
                       {"name": "volume6", "projected": {"sources": []}}])],
     [setp("volumes", [{"name": "volume1", key: value}]) for key, value in [
         ("gcePersistentDisk", {"pdName": "test"}), ("awsElasticBlockStore", {"volumeID": "test"}),
         ("gitRepo", {"repository": "github.com/kubernetes/kubernetes"}),
         ("nfs", {"server": "test", "path": "/test"}),
         ("iscsi", {"targetPortal": "test", "iqn": "iqn.2001-04.com.example:storage.kube.sys1.xyz", "lun": 0}),
         ("glusterfs", {"path": "test", "endpoints": "test"}), ("rbd", {"monitors": ["test"], "image": "test"}),
         ("flexVolume", {"driver": "test"}), ("cinder", {"volumeID": "test"}), ("cephfs", {"monitors": ["test"]}),
         ("flocker", {"datasetName": "test"}), ("fc", {"wwids": ["test"]}),
         ("azureFile", {"secretName": "test", "shareName": "test"}), ("vsphereVolume", {"volumePath": "test"}),
         ("quobyte", {"registry": "localhost:1234", "volume": "test"}),
         ("azureDisk", {"diskName": "test", "diskURI": "https://test.blob.core.windows.net/test/test.vhd"}),
         ("portworxVolume", {"volumeID": "test", "fsType": "ext4"}),
         ("scaleIO", {"volumeName": "test", "gateway": "localhost", "system": "test"}),
         ("storageos", {"volumeName": "test"}), ("hostPath", {"path": "/dev/null"})]], False),
    # upstream: test/fixtures_seccompProfile_restricted.go (restricted 1.19)
    ("restricted", (1, 19), "seccompProfile_restricted", "seccompProfile",
     [setp("securityContext.seccompProfile", {"type": "RuntimeDefault"}),
      setp("securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "testing"}),
      both(setp("securityContext.seccompProfile", None),
           setp("c0.securityContext.seccompProfile", {"type": "RuntimeDefault"}),
           setp("i0.securityContext.seccompProfile", {"type": "Localhost", "localhostProfile": "testing"}))],
     [setp("securityContext.seccompProfile", None),
      setp("securityContext.seccompProfile", {"type": "Unconfined"}),
      both(setp("securityContext.seccompProfile", None),
           setp("c0.securityContext.seccompProfile", {"type": "RuntimeDefault"})),
      both(setp("securityContext.seccompProfile", None),
           setp("i0.securityContext.seccompProfile", {"type": "RuntimeDefault"})),
      both(setp("securityContext.seccompProfile", None),
           setp("c0.securityContext.seccompProfile", {"type": "RuntimeDefault"}),
           setp("i0.securityContext.seccompProfile", {"type": "Unconfined"}))], False),
    # upstream: test/fixtures_procMount.go (ids as in the merged check files: procMount / procMount_restricted)
    ("baseline", (1, 0), "procMount", "procMount",
     [both(setp("c0.securityContext.procMount", "Default"), setp("i0.securityContext.procMount", "Default"),
           setp("hostUsers", False))],
     [both(setp("c0.securityContext.procMount", "Unmasked"), setp("hostUsers", False)),
      both(setp("i0.securityContext.procMount", "Unmasked"), setp("hostUsers", False))], False),
    ("baseline", (1, 35), "procMount", "procMount",
     [both(setp("c0.securityContext.procMount", "Default"), setp("i0.securityContext.procMount", "Default"),
           setp("hostUsers", False)),
      both(setp("c0.securityContext.procMount", "Unmasked"), setp("i0.securityContext.procMount", "Unmasked"),
           setp("hostUsers", False))],
     [both(setp("c0.securityContext.procMount", "Unmasked"), setp("hostUsers", True)),
      both(setp("i0.securityContext.procMount", "Unmasked"), setp("hostUsers", True))], False),
    ("restricted", (1, 35), "procMount_restricted", "procMount",
     [both(setp("c0.securityContext.procMount", "Default"), setp("i0.securityContext.procMount", "Default"),
           setp("hostUsers", False))],
     [both(setp("c0.securityContext.procMount", "Unmasked"), setp("hostUsers", False)),
      both(setp("i0.securityContext.procMount", "Unmasked"), setp("hostUsers", False))], False),
]


def fixture_cases() -> Iterator[tuple[str, tuple[int, int], int]]:
    """Expand each generator over the versions it covers (fixtures.go getFixtures): from its
    version up to the next generator for the same check, for the level and (baseline) restricted."""
    for index, (level, version, check, _sub, _p, _f, _skip) in enumerate(FIXTURES):
        newer = [v for (lvl, v, c, *_rest) in FIXTURES if c == check and v > version]
        end = min(newer) if newer else (1, LATEST[1] + 1)
        levels = [level]
        if level == "baseline" and not (check == "procMount" and version == (1, 35)):
            levels.append("restricted")  # registerFixtureGenerator copies baseline fixtures to restricted
        for lvl in levels:
            if lvl == "restricted" and check == "procMount" and (1, 35) <= end:
                end = (1, 35)  # from 1.35 the restricted procMount fixture is the procMount_restricted one
            for minor in range(version[1], end[1]):
                yield lvl, (1, minor), index


@pytest.mark.parametrize("level,version,index", list(fixture_cases()))
def test_upstream_fixtures(level: str, version: tuple[int, int], index: int) -> None:
    _lvl, _v, check, substring, passes, fails, skip_pass_if_drop_all = FIXTURES[index]
    base = minimal_valid_pod(level, version)
    assert evaluate_all(base, level, version) == []
    drops_all = "ALL" in (base["spec"]["containers"][0].get("securityContext") or {}).get(
        "capabilities", {}).get("drop", [])
    if not (skip_pass_if_drop_all and drops_all):
        for fn in passes:
            pod = tweak(base, fn)
            assert evaluate_all(pod, level, version) == [], (check, pod)
    for fn in fails:
        pod = tweak(base, fn)
        got = evaluate_all(pod, level, version)
        assert got, (check, level, version, pod)
        assert any(substring in v.message for v in got), got
        if level == "baseline":
            assert check in ids(got)


# upstream: test/testdata/<level>/<version>/{pass,fail}/<name>.yaml (generated fixtures)
TESTDATA: list[tuple[str, str, bool, str]] = [
    ("restricted/v1.25/pass/base_windows.yaml", "restricted", True, """
apiVersion: v1
kind: Pod
metadata:
  name: base_windows
spec:
  containers:
  - image: k8s.gcr.io/pause
    name: container1
  initContainers:
  - image: k8s.gcr.io/pause
    name: initcontainer1
  os:
    name: windows
  securityContext:
    runAsNonRoot: true
"""),
    ("restricted/v1.25/fail/runasnonroot3.yaml", "restricted", False, """
apiVersion: v1
kind: Pod
metadata:
  name: runasnonroot3
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      runAsNonRoot: false
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
"""),
    ("restricted/v1.25/fail/capabilities_restricted3.yaml", "restricted", False, """
apiVersion: v1
kind: Pod
metadata:
  name: capabilities_restricted3
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        add: [AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE,
              SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT]
        drop:
        - ALL
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        add: [AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE,
              SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT]
        drop:
        - ALL
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
"""),
    ("restricted/v1.34/pass/sysctls1.yaml", "restricted", True, """
apiVersion: v1
kind: Pod
metadata:
  name: sysctls1
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
    sysctls:
    - name: net.ipv4.tcp_rmem
      value: 4096 87380 16777216
    - name: net.ipv4.tcp_wmem
      value: 4096 65536 16777216
"""),
    ("restricted/v1.35/fail/restrictedvolumes18.yaml", "restricted", False, """
apiVersion: v1
kind: Pod
metadata:
  name: restrictedvolumes18
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - name: volume1
    storageos:
      volumeName: test
"""),
    ("restricted/v1.35/fail/procmount_restricted0.yaml", "restricted", False, """
apiVersion: v1
kind: Pod
metadata:
  name: procmount_restricted0
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
      procMount: Unmasked
  hostUsers: false
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop:
        - ALL
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
"""),
    ("baseline/v1.35/pass/procmount_baseline1.yaml", "baseline", True, """
apiVersion: v1
kind: Pod
metadata:
  name: procmount_baseline1
spec:
  containers:
  - image: registry.k8s.io/pause
    name: container1
    securityContext:
      procMount: Unmasked
  hostUsers: false
  initContainers:
  - image: registry.k8s.io/pause
    name: initcontainer1
    securityContext:
      procMount: Unmasked
  securityContext: {}
"""),
    ("baseline/v1.2/fail/apparmorprofile0.yaml", "baseline", False, """
apiVersion: v1
kind: Pod
metadata:
  annotations:
    container.apparmor.security.beta.kubernetes.io/container1: unconfined
  name: apparmorprofile0
spec:
  containers:
  - image: k8s.gcr.io/pause
    name: container1
  initContainers:
  - image: k8s.gcr.io/pause
    name: initcontainer1
"""),
    ("baseline/v1.12/fail/seccompprofile_baseline0.yaml", "baseline", False, """
apiVersion: v1
kind: Pod
metadata:
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
  name: seccompprofile_baseline0
spec:
  containers:
  - image: k8s.gcr.io/pause
    name: container1
  initContainers:
  - image: k8s.gcr.io/pause
    name: initcontainer1
"""),
    ("baseline/v1.20/fail/hostprocess0.yaml", "baseline", False, """
apiVersion: v1
kind: Pod
metadata:
  name: hostprocess0
spec:
  containers:
  - image: k8s.gcr.io/pause
    name: container1
    securityContext:
      windowsOptions: {}
  hostNetwork: true
  initContainers:
  - image: k8s.gcr.io/pause
    name: initcontainer1
    securityContext:
      windowsOptions: {}
  securityContext:
    windowsOptions:
      hostProcess: true
"""),
]


@pytest.mark.parametrize("name,level,passes,text", TESTDATA, ids=[t[0] for t in TESTDATA])
def test_upstream_testdata(name: str, level: str, passes: bool, text: str) -> None:
    version = parse_version(name.split("/")[1])
    obj = yaml.safe_load(text)
    got = evaluate_all(obj, level, version)
    if passes:
        assert got == []
    else:
        assert got
        expected = {
            "runasnonroot3.yaml": {"runAsNonRoot"},
            "capabilities_restricted3.yaml": {"capabilities_restricted"},
            "restrictedvolumes18.yaml": {"restrictedVolumes"},
            "procmount_restricted0.yaml": {"procMount_restricted"},
            "apparmorprofile0.yaml": {"appArmorProfile"},
            "seccompprofile_baseline0.yaml": {"seccompProfile_baseline"},
            "hostprocess0.yaml": {"windowsHostProcess", "hostNamespaces"},
        }[name.rsplit("/", 1)[1]]
        assert set(ids(got)) == expected


def test_testdata_windows_base_fails_before_1_25() -> None:
    obj = yaml.safe_load(TESTDATA[0][3])
    assert evaluate_all(obj, "restricted", (1, 24)) != []


def test_testdata_sysctls1_fails_before_1_32() -> None:
    obj = yaml.safe_load(TESTDATA[3][3])
    assert checks_hit(obj, "restricted", (1, 31)) == {"sysctls"}
    assert checks_hit(obj, "restricted", (1, 32)) == set()


# ---------------------------------------------------------------------------
# every path points into the object; missing flags are consistent
# ---------------------------------------------------------------------------


def kitchen_sink() -> Obj:
    bad_sc = {
        "privileged": True, "allowPrivilegeEscalation": True, "runAsNonRoot": False, "runAsUser": 0,
        "procMount": "Unmasked", "capabilities": {"add": ["SYS_ADMIN", "NET_BIND_SERVICE"], "drop": ["NET_RAW"]},
        "seLinuxOptions": {"type": "spc_t", "user": "u", "role": "r"},
        "seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"},
        "windowsOptions": {"hostProcess": True},
    }
    c = {"name": "c", "securityContext": bad_sc, "ports": [{"containerPort": 1, "hostPort": 1}],
         "livenessProbe": {"httpGet": {"host": "h"}}, "lifecycle": {"preStop": {"tcpSocket": {"host": "h"}}}}
    return mkpod({
        "hostNetwork": True, "hostPID": True, "hostIPC": True,
        "securityContext": {"runAsNonRoot": False, "runAsUser": 0, "sysctls": [{"name": "kernel.msgmax"}],
                            "seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Unconfined"},
                            "seLinuxOptions": {"type": "spc_t"}, "windowsOptions": {"hostProcess": True}},
        "volumes": [{"name": "h", "hostPath": {"path": "/"}}, {"name": "n", "nfs": {}}],
        "initContainers": [copy.deepcopy(c)], "containers": [copy.deepcopy(c), {"name": "bare"}],
        "ephemeralContainers": [copy.deepcopy(c)],
    }, {"container.apparmor.security.beta.kubernetes.io/c": "unconfined",
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined"})


@pytest.mark.parametrize("version", [(1, 0), (1, 18), (1, 24), (1, 25), LATEST])
@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_every_violation_path_resolves(level: str, version: tuple[int, int]) -> None:
    obj = kitchen_sink()
    got = evaluate_all(obj, level, version)
    assert got
    for v in got:
        node = resolve(obj, v.path)  # raises if the path does not exist
        if v.missing:
            assert isinstance(node, dict), v
        assert v.message and v.check in PSS_CHECKS


def test_evaluate_does_not_mutate_input() -> None:
    obj = kitchen_sink()
    before = copy.deepcopy(obj)
    for level in ("baseline", "restricted"):
        evaluate_all(obj, level)
    assert obj == before


def test_every_check_has_a_pass_and_fail_case() -> None:
    fail = kitchen_sink()
    clean = restricted_ok()
    for check, level in PSS_CHECKS.items():
        version = LATEST
        assert evaluate(check, clean, version) == [], check
        obj = fail
        if check in ("procMount",):
            obj = copy.deepcopy(fail)  # hostUsers unset -> not relaxed
        assert evaluate(check, obj, version), check


# ---------------------------------------------------------------------------
# malformed input never raises
# ---------------------------------------------------------------------------

JUNK: list[Any] = [None, "", "x", "true", 0, 1, -1, True, False, 1.5, [], [None], ["x"], [[]], [{}],
                   {}, {"name": None}, {"type": 3}, {"": {}}, [1, "a", None, {}]]


def all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from all_paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield prefix + (index,)
            yield from all_paths(value, prefix + (index,))


def replaced(obj: Obj, path: tuple[Any, ...], value: Any) -> Obj:
    out = copy.deepcopy(obj)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = copy.deepcopy(value)
    return out


def test_malformed_values_at_every_path_never_raise() -> None:
    base = kitchen_sink()
    base["spec"]["hostUsers"] = False
    base["spec"]["os"] = {"name": "windows"}
    for path in all_paths(base):
        for junk in JUNK:
            obj = replaced(base, path, junk)
            for version in ((1, 0), (1, 25), LATEST):
                for level in ("baseline", "restricted"):
                    for v in evaluate_all(obj, level, version):
                        assert isinstance(v, PssViolation)
                        resolve(obj, v.path)


@pytest.mark.parametrize("obj", [
    None, [], "Pod", 5, {}, {"kind": "Pod"}, {"kind": "Pod", "spec": None}, {"kind": "Pod", "spec": []},
    {"kind": "Pod", "spec": "x", "metadata": "y"}, {"kind": "Pod", "metadata": {"annotations": ["a"]}},
    {"kind": "Pod", "metadata": {"annotations": {1: "x", "seccomp.security.alpha.kubernetes.io/pod": 5}}},
    {"kind": "Deployment", "spec": {"template": None}}, {"kind": "Deployment", "spec": {"template": []}},
    {"kind": "CronJob", "spec": {"jobTemplate": {"spec": "x"}}}, {"kind": "PodTemplate", "template": 1},
    {"kind": "Pod", "spec": {"containers": {"name": "a"}}}, {"kind": "Pod", "spec": {"containers": "abc"}},
    {"kind": "Pod", "spec": {"containers": [None, "x", 1, [], {"name": ["a"]}]}},
    {"kind": "Pod", "spec": {"volumes": [None, {"name": 1, "hostPath": "/x"}, {"nfs": []}]}},
    {"kind": "Pod", "spec": {"securityContext": {"sysctls": {"name": "x"}}}},
    {"kind": "Pod", "spec": {"securityContext": {"sysctls": [None, "x", {"name": 1}, {"name": None}]}}},
])
def test_malformed_objects_never_raise(obj: Any) -> None:
    for version in ((1, 0), (1, 19), (1, 25), LATEST):
        for level in ("privileged", "baseline", "restricted"):
            assert isinstance(evaluate_all(obj, level, version), list)
        for check in PSS_CHECKS:
            assert isinstance(evaluate(check, obj, version), list)


def test_random_mutations_never_raise() -> None:
    rng = random.Random(1234)
    base = kitchen_sink()
    paths = list(all_paths(base))
    for _ in range(400):
        obj = copy.deepcopy(base)
        for _ in range(rng.randint(1, 4)):
            live = [p for p in all_paths(obj)]
            if not live:
                break
            path = rng.choice(live)
            obj = replaced(obj, path, rng.choice(JUNK + [copy.deepcopy(base["spec"]), rng.choice(paths)]))
        evaluate_all(obj, "restricted", (1, rng.randint(0, LATEST[1] + 2)))


def test_wrong_types_are_ignored_like_go_decoding_would_reject_them() -> None:
    # a string "true" is not a bool, a string port is not an int: the API server refuses these objects
    assert evaluate("privileged", one(privileged="true")) == []
    assert evaluate("hostNamespaces", mkpod({"hostNetwork": "true"})) == []
    assert evaluate("hostPorts", mkpod({"containers": [{"name": "a", "ports": [{"hostPort": "80"}]}]})) == []
    # but a required setting given with the wrong type is still not satisfied
    assert ids(evaluate("runAsNonRoot", one(runAsNonRoot="true"))) == ["runAsNonRoot"]
    assert ids(evaluate("allowPrivilegeEscalation", one(allowPrivilegeEscalation="false"))) == [
        "allowPrivilegeEscalation"]


def test_null_behaves_like_go() -> None:
    # null pointer -> unset
    assert evaluate("procMount", one(procMount=None)) == []
    assert evaluate("hostPathVolumes", mkpod({"volumes": [{"name": "a", "hostPath": None}]})) == []
    # null string in a list -> "" which is not an allowed capability
    assert ids(evaluate("capabilities_baseline", one(capabilities={"add": [None]}))) == ["capabilities_baseline"]
    # a volume whose only source is null is defaulted to emptyDir
    assert evaluate("restrictedVolumes", mkpod({"volumes": [{"name": "a", "nfs": None}]})) == []


# upstream: test/testdata/baseline/v1.36 and v1.37 (kubernetes/pod-security-admission 8f84a87c):
# v1.36 has no entry of its own and evaluates like v1.32 for sysctls; v1.37 allows two more
_SYSCTLS_1_37 = ("net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat")


@pytest.mark.parametrize("version,passes", [("v1.36", False), ("v1.37", True), ("latest", True)])
def test_testdata_sysctls_v1_36_v1_37(version: str, passes: bool) -> None:
    obj = sysctl_pod(*_SYSCTLS_1_37)
    got = evaluate_all(obj, "baseline", parse_version(version))
    assert (got == []) is passes
    if not passes:
        assert [v.message for v in got] == [f"forbidden sysctls ({name})" for name in _SYSCTLS_1_37]
    # baseline/v1.36/pass/sysctls1.yaml: tcp_rmem and tcp_wmem (allowed since v1.32)
    assert evaluate_all(sysctl_pod("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"), "baseline", parse_version(version)) == []
    # baseline/v1.3x/fail/sysctls0.yaml
    assert ids(evaluate_all(sysctl_pod("othersysctl"), "baseline", parse_version(version))) == ["sysctls"]


def test_v1_36_evaluates_like_v1_35() -> None:
    for obj in (kitchen_sink(), sysctl_pod(*_SYSCTLS_1_37)):
        for level in ("baseline", "restricted"):
            assert evaluate_all(obj, level, (1, 36)) == evaluate_all(obj, level, (1, 35))
