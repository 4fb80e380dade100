"""Kubernetes Pod Security Standards, as the upstream PodSecurity admission plugin enforces them.

This module re-implements the checks of ``k8s.io/pod-security-admission/policy``
(``staging/src/k8s.io/pod-security-admission/policy/check_*.go`` in
kubernetes/kubernetes) on plain Python data, as produced by ``yaml.safe_load``.
It has no third-party dependencies and never raises on malformed objects.

Sources read (stored copies of kubernetes/kubernetes, commit in brackets)
-------------------------------------------------------------------------
The stored index holds several historical versions of every file, and reading
"a file" returns one of them, not necessarily the newest.  For each check the
newest text that could be found is what is implemented here:

* ``check_privileged.go`` [008b3652], ``check_hostNamespaces.go`` [9df7b734],
  ``check_hostPathVolumes.go`` [b15a9909], ``check_hostPorts.go`` [f5a2724d],
  ``check_windowsHostProcess.go`` [da0c8de9]: a single entry at v1.0.
* ``check_appArmorProfile.go`` [da0c8de9]: a single entry at v1.0 that checks
  BOTH the ``appArmorProfile`` fields (pod + every container) and the
  ``container.apparmor.security.beta.kubernetes.io/*`` annotations.  Because the
  field check was patched into the v1.0 function, it applies at every version.
* ``check_capabilities_baseline.go`` [c004d3b8, 003effe9]: v1.0, 13 allowed
  capabilities.  The c004d3b8 copy skips the check for ``hostUsers: false``
  pods, but only behind the perma-alpha, default-off
  ``UserNamespacesPodSecurityStandards`` gate (``helpers.go`` [95f08499]); no
  copy ties that relaxation to a policy version, so it is NOT applied here.
* ``check_seLinuxOptions.go`` (copy in kyverno/pod-security-admission, a mirror
  of the staging repo, [0144b27a]; older upstream copies [36907db9] only have
  v1.0): v1.0 and v1.31 (adds ``container_engine_t``).
* ``check_seccompProfile_baseline.go`` [046d201c]: v1.0 checks the alpha
  annotations (``seccomp.security.alpha.kubernetes.io/pod`` and
  ``container.seccomp.security.alpha.kubernetes.io/<name>``), v1.19 checks the
  fields.  So the check exists from v1.0 on; it is the *field* form that only
  starts at v1.19.
* ``check_sysctls.go`` (kubernetes/pod-security-admission, the published
  staging repository, at [8f84a87c], 2026-07-01, after the v0.36.2 release
  (Kubernetes 1.36) and the v0.37.0-alpha.2 tag; the v1.37 entry came with
  [23192ec], "Add net.ipv4.tcp_slow_start_after_idle and
  net.ipv4.tcp_notsent_lowat as safe sysctls"; its ``test/testdata/baseline``
  v1.36 and v1.37 sysctls fixtures confirm): v1.0, v1.27, v1.29, v1.32, v1.37.
  Policy version v1.36 has no entry of its own in any check: it evaluates
  like v1.35.
* ``check_hostProbesAndhostLifecycle.go`` [2e94b405] and its test [5e377f94]:
  v1.34, any non-empty ``host`` is forbidden, loopback included.  (An earlier
  draft [329dc939] allowed 127.0.0.1 / ::1; the later test rejects them.)
* ``check_procMount_baseline.go`` [e8bd3f62] (id ``procMount``: v1.0
  unconditional, v1.35 relaxed for ``hostUsers: false``) and
  ``check_procMount_restricted.go`` [7c0ae3a5] (id ``procMount_restricted``,
  v1.35, unconditional, ``OverrideCheckIDs: ["procMount"]``).  Another stored
  draft [4dde2a71] names the baseline check ``procMount_baseline`` and has no
  override; it admits and rejects exactly the same pods.
* ``check_runAsNonRoot.go`` / ``check_runAsUser.go`` [e8bd3f62]: v1.0 / v1.23,
  plus v1.35 entries that skip the check entirely for ``hostUsers: false``.
* ``check_allowPrivilegeEscalation.go`` (vendored copy [21410ddb]): v1.8, v1.25
  (``spec.os.name: windows`` exempt).
* ``check_capabilities_restricted.go`` and ``check_seccompProfile_restricted.go``
  (stored copies with ``OverrideCheckIDs``): v1.22/v1.25 and v1.19/v1.25, the
  v1.25 entries exempt Windows pods; they override ``capabilities_baseline`` and
  ``seccompProfile_baseline``.
* ``check_restrictedVolumes.go`` [b8ff6a45] and its test [030880a5]: v1.0,
  overrides ``hostPathVolumes``; allowed: configMap, csi, downwardAPI, emptyDir,
  ephemeral, image, persistentVolumeClaim, projected, secret (``image`` was
  added to the v1.0 function, so it is allowed at every version).
* Version table checked against kubernetes/pod-security-admission [8f84a87c]
  (2026-07-01; Kubernetes 1.37 in development, 1.36 released): every check's
  ``MinimumVersion`` list and ``OverrideCheckIDs`` there equal ``_REGISTRY``;
  the newest entry is sysctls v1.37, so ``latest`` is v1.37.
* ``registry.go`` (copy with override support): a version V runs, per check,
  the entry with the greatest MinimumVersion <= V; versions above the newest
  MinimumVersion behave like it (``latest``); at *restricted* the baseline
  checks named in the active restricted entries' ``OverrideCheckIDs`` are
  dropped.  ``api/helpers.go`` [50f645e1]: versions must match
  ``^v1\\.([0-9]|[1-9][0-9]*)$`` or be ``latest``.

Deliberate differences from upstream
------------------------------------
* Upstream returns one result per check with all offenders folded into one
  detail string; this module returns one ``PssViolation`` per offending
  container/volume/field so each can be reported at its own line (the PSA
  rules fold the two volume checks back to one finding a pod,
  ``_per_pod``).  Like
  upstream, ``runAsNonRoot``/``seccompProfile_restricted`` report the
  "must set" offenders only when nothing set an explicitly bad value.
* PSA sees objects after API defaulting.  The only default modelled here is the
  one that changes a verdict the other way: a volume with no known source is
  defaulted to ``emptyDir`` (upstream fixture "implicit empty dir" passes).
* Values of the wrong type (which the API server would refuse to decode) are
  ignored; ``null`` behaves like Go: unset for pointers, ``""`` for strings.
* The emulated-version lowering of ``latest`` (``NewEvaluator(checks,
  emulationVersion)``) is out of scope.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeGuard

from linter.kubernetes.objects import CheckContext, Hit, is_object, pod_target

__all__ = [
    "PSS_CHECKS",
    "LATEST",
    "CHECK_VERSIONS",
    "parse_version",
    "checks_for_level",
    "PssViolation",
    "evaluate",
    "evaluate_all",
]

Path = tuple[str | int, ...]
Version = tuple[int, int]

# ---------------------------------------------------------------------------
# public data types
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PssViolation:
    """One offending value (or missing value) found by a check."""

    check: str
    path: Path
    missing: bool
    message: str


# ---------------------------------------------------------------------------
# small helpers that mirror how Go would decode the data
# ---------------------------------------------------------------------------

_WINDOWS = "windows"


def _dict(value: Any) -> dict[Any, Any] | None:
    return value if isinstance(value, dict) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _bool(value: Any) -> bool | None:
    """A ``*bool``: None when unset, null or of the wrong type."""
    return value if isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    """An integer field; YAML booleans and floats are not integers to Go."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _gostr(value: Any) -> str | None:
    """A string field: null/absent decode to "", other types are rejected (None)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return None


def _quote(items: list[str] | tuple[str, ...]) -> str:
    """upstream joinQuote: no escaping, items wrapped in double quotes."""
    if not items:
        return ""
    return '"' + '", "'.join(items) + '"'


def _goq(value: str) -> str:
    """Approximation of Go's %q for the strings found in manifests."""
    return json.dumps(value, ensure_ascii=False)


def _plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def _msg(reason: str, detail: str) -> str:
    # Same shape as upstream AggregateCheckResult.ForbiddenDetail(): "reason (detail)".
    return f"{reason} ({detail})" if detail else reason


def _resolve(obj: Any, path: Path) -> Any:
    node = obj
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                return None
            node = node[key]
        else:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
    return node


@dataclass(frozen=True, slots=True)
class _Pod:
    meta: dict[Any, Any]
    spec: dict[Any, Any]
    meta_path: Path
    spec_path: Path

    # -- pod level -------------------------------------------------------
    @property
    def psc(self) -> dict[Any, Any] | None:
        return _dict(self.spec.get("securityContext"))

    @property
    def psc_path(self) -> Path:
        return self.spec_path + ("securityContext",)

    @property
    def pod_node(self) -> Path:
        """Most useful existing node for a missing pod-level security setting."""
        return self.psc_path if self.psc is not None else self.spec_path

    @property
    def annotations(self) -> dict[Any, Any]:
        return _dict(self.meta.get("annotations")) or {}

    def is_windows(self) -> bool:
        os_ = _dict(self.spec.get("os"))
        return os_ is not None and os_.get("name") == _WINDOWS

    def host_users_false(self) -> bool:
        # relaxPolicyForUserNamespacePod: HostUsers != nil && !*HostUsers
        return _bool(self.spec.get("hostUsers")) is False

    # -- containers ------------------------------------------------------
    def containers(self) -> Iterator[tuple[Path, dict[Any, Any], str]]:
        """visitContainers order: initContainers, containers, ephemeralContainers."""
        for key in ("initContainers", "containers", "ephemeralContainers"):
            for index, container in enumerate(_list(self.spec.get(key))):
                if isinstance(container, dict):
                    name = container.get("name")
                    yield self.spec_path + (key, index), container, name if isinstance(name, str) else ""


def _sc(container: dict[Any, Any]) -> dict[Any, Any] | None:
    return _dict(container.get("securityContext"))


def _container_node(cpath: Path, container: dict[Any, Any]) -> Path:
    """The container's securityContext mapping when it exists, else the container."""
    return cpath + ("securityContext",) if _sc(container) is not None else cpath


def _c(name: str) -> str:
    return f'container "{name}"'


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------

CheckFn = Callable[[str, _Pod], list[PssViolation]]


def _privileged_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        if sc is not None and _bool(sc.get("privileged")) is True:
            out.append(PssViolation(
                check, cpath + ("securityContext", "privileged"), False,
                _msg("privileged", f"{_c(name)} must not set securityContext.privileged=true")))
    return out


def _host_namespaces_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if _bool(pod.spec.get(field)) is True:
            out.append(PssViolation(check, pod.spec_path + (field,), False,
                                    _msg("host namespaces", f"{field}=true")))
    return out


def _volumes(pod: _Pod) -> Iterator[tuple[Path, dict[Any, Any], str]]:
    for index, volume in enumerate(_list(pod.spec.get("volumes"))):
        if isinstance(volume, dict):
            name = volume.get("name")
            yield pod.spec_path + ("volumes", index), volume, name if isinstance(name, str) else ""


def _host_path_volumes_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for vpath, volume, name in _volumes(pod):
        if _dict(volume.get("hostPath")) is not None:
            out.append(PssViolation(check, vpath + ("hostPath",), False,
                                    _msg("hostPath volumes", f'volume "{name}"')))
    return out


def _host_ports_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        for index, port in enumerate(_list(container.get("ports"))):
            if not isinstance(port, dict):
                continue
            host_port = _int(port.get("hostPort"))
            if host_port is not None and host_port != 0:
                out.append(PssViolation(
                    check, cpath + ("ports", index, "hostPort"), False,
                    _msg("hostPort", f"{_c(name)} uses hostPort {host_port}")))
    return out


_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_LIFECYCLE_HANDLERS = ("postStart", "preStop")
_HOST_ACTIONS = ("httpGet", "tcpSocket")


def _host_probes_and_host_lifecycle_1_34(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        handlers: list[tuple[Path, dict[Any, Any]]] = []
        for probe_key in _PROBES:
            probe = _dict(container.get(probe_key))
            if probe is not None:
                handlers.append((cpath + (probe_key,), probe))
        lifecycle = _dict(container.get("lifecycle"))
        if lifecycle is not None:
            for hook in _LIFECYCLE_HANDLERS:
                handler = _dict(lifecycle.get(hook))
                if handler is not None:
                    handlers.append((cpath + ("lifecycle", hook), handler))
        for hpath, handler in handlers:
            for action_key in _HOST_ACTIONS:
                action = _dict(handler.get(action_key))
                if action is None:
                    continue
                host = _gostr(action.get("host"))
                if host:
                    out.append(PssViolation(
                        check, hpath + (action_key, "host"), False,
                        _msg("probe or lifecycle host",
                             f'{_c(name)} uses probe or lifecycle host "{host}"')))
    return out


_CAPABILITIES_ALLOWED_1_0 = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})


def _capabilities_baseline_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        caps = _dict(sc.get("capabilities")) if sc is not None else None
        if caps is None:
            continue
        for index, cap in enumerate(_list(caps.get("add"))):
            value = _gostr(cap)
            if value is not None and value not in _CAPABILITIES_ALLOWED_1_0:
                out.append(PssViolation(
                    check, cpath + ("securityContext", "capabilities", "add", index), False,
                    _msg("non-default capabilities",
                         f'{_c(name)} must not include "{value}" in securityContext.capabilities.add')))
    return out


_APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
_APPARMOR_TYPES_ALLOWED = frozenset({"RuntimeDefault", "Localhost"})


def _apparmor_annotation_allowed(value: str) -> bool:
    return len(value) == 0 or value == "runtime/default" or value.startswith("localhost/")


def _typed_profile(profile: dict[Any, Any], ppath: Path) -> tuple[str | None, Path, bool]:
    """The ``type`` of a seccomp/AppArmor profile and where to point at it."""
    value = _gostr(profile.get("type"))
    if isinstance(profile.get("type"), str):
        return value, ppath + ("type",), False
    return value, ppath, True  # type absent/null -> "" ; point at the profile mapping


def _app_armor_profile_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    reason = "forbidden AppArmor profile"
    out: list[PssViolation] = []
    psc = pod.psc
    profile = _dict(psc.get("appArmorProfile")) if psc is not None else None
    if profile is not None:
        value, path, missing = _typed_profile(profile, pod.psc_path + ("appArmorProfile",))
        if value is not None and value not in _APPARMOR_TYPES_ALLOWED:
            out.append(PssViolation(check, path, missing, _msg(
                reason, f'pod must not set AppArmor profile type to "{value}"')))
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        profile = _dict(sc.get("appArmorProfile")) if sc is not None else None
        if profile is None:
            continue
        value, path, missing = _typed_profile(profile, cpath + ("securityContext", "appArmorProfile"))
        if value is not None and value not in _APPARMOR_TYPES_ALLOWED:
            out.append(PssViolation(check, path, missing, _msg(
                reason, f'{_c(name)} must not set AppArmor profile type to "{value}"')))
    annotations = pod.annotations
    for key in sorted(k for k in annotations if isinstance(k, str)):
        value = annotations[key]
        if (key.startswith(_APPARMOR_ANNOTATION_PREFIX) and isinstance(value, str)
                and not _apparmor_annotation_allowed(value)):
            out.append(PssViolation(
                check, pod.meta_path + ("annotations", key), False,
                _msg(reason, f'annotation must not set AppArmor profile type to "{key}={_goq(value)}"')))
    return out


_SELINUX_TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_SELINUX_TYPES_1_31 = _SELINUX_TYPES_1_0 | {"container_engine_t"}


def _selinux(check: str, pod: _Pod, allowed: frozenset[str]) -> list[PssViolation]:
    out: list[PssViolation] = []

    def visit(opts: dict[Any, Any], opath: Path, setter: str) -> None:
        prefix = f"{setter} set forbidden securityContext.seLinuxOptions"
        selinux_type = _gostr(opts.get("type"))
        if selinux_type is not None and selinux_type not in allowed:
            out.append(PssViolation(check, opath + ("type",), False,
                                    _msg("seLinuxOptions", f'{prefix}: type "{selinux_type}"')))
        for field in ("user", "role"):
            value = _gostr(opts.get(field))
            if value:
                out.append(PssViolation(check, opath + (field,), False,
                                        _msg("seLinuxOptions", f"{prefix}: {field} may not be set")))

    psc = pod.psc
    opts = _dict(psc.get("seLinuxOptions")) if psc is not None else None
    if opts is not None:
        visit(opts, pod.psc_path + ("seLinuxOptions",), "pod")
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        opts = _dict(sc.get("seLinuxOptions")) if sc is not None else None
        if opts is not None:
            visit(opts, cpath + ("securityContext", "seLinuxOptions"), _c(name))
    return out


def _selinux_options_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    return _selinux(check, pod, _SELINUX_TYPES_1_0)


def _selinux_options_1_31(check: str, pod: _Pod) -> list[PssViolation]:
    return _selinux(check, pod, _SELINUX_TYPES_1_31)


def _proc_mount_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        if sc is None or not isinstance(sc.get("procMount"), str):
            continue  # nil securityContext / nil procMount (null, or undecodable) is allowed
        value = sc["procMount"]
        if value != "Default":
            out.append(PssViolation(
                check, cpath + ("securityContext", "procMount"), False,
                _msg("procMount", f'{_c(name)} must not set securityContext.procMount to "{value}"')))
    return out


def _proc_mount_1_35_baseline(check: str, pod: _Pod) -> list[PssViolation]:
    if pod.host_users_false():
        return []
    return _proc_mount_1_0(check, pod)


_SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
_SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
_SECCOMP_TYPES_ALLOWED = frozenset({"RuntimeDefault", "Localhost"})


def _seccomp_annotation_allowed(value: str) -> bool:
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def _seccomp_profile_baseline_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    annotations = pod.annotations
    keys: list[str] = []
    if _SECCOMP_POD_ANNOTATION in annotations:
        keys.append(_SECCOMP_POD_ANNOTATION)
    for _cpath, _container, name in pod.containers():
        key = _SECCOMP_CONTAINER_ANNOTATION_PREFIX + name
        if key in annotations and key not in keys:
            keys.append(key)
    out: list[PssViolation] = []
    for key in keys:
        value = _gostr(annotations[key])
        if value is not None and not _seccomp_annotation_allowed(value):
            out.append(PssViolation(check, pod.meta_path + ("annotations", key), False,
                                    _msg("seccompProfile", f"forbidden annotation {key}={_goq(value)}")))
    return out


def _seccomp_profile_baseline_1_19(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    psc = pod.psc
    profile = _dict(psc.get("seccompProfile")) if psc is not None else None
    if profile is not None:
        value, path, missing = _typed_profile(profile, pod.psc_path + ("seccompProfile",))
        if value is not None and value not in _SECCOMP_TYPES_ALLOWED:
            out.append(PssViolation(check, path, missing, _msg(
                "seccompProfile", f'pod must not set securityContext.seccompProfile.type to "{value}"')))
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        profile = _dict(sc.get("seccompProfile")) if sc is not None else None
        if profile is None:
            continue
        value, path, missing = _typed_profile(profile, cpath + ("securityContext", "seccompProfile"))
        if value is not None and value not in _SECCOMP_TYPES_ALLOWED:
            out.append(PssViolation(check, path, missing, _msg(
                "seccompProfile", f'{_c(name)} must not set securityContext.seccompProfile.type to "{value}"')))
    return out


_SYSCTLS_1_0 = frozenset({
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
})
_SYSCTLS_1_27 = _SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
_SYSCTLS_1_29 = _SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
_SYSCTLS_1_32 = _SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}
_SYSCTLS_1_37 = _SYSCTLS_1_32 | {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}


def _sysctls(check: str, pod: _Pod, allowed: frozenset[str]) -> list[PssViolation]:
    out: list[PssViolation] = []
    psc = pod.psc
    if psc is None:
        return out
    for index, sysctl in enumerate(_list(psc.get("sysctls"))):
        if not isinstance(sysctl, dict):
            continue
        name = _gostr(sysctl.get("name"))
        if name is None or name in allowed:
            continue
        spath = pod.psc_path + ("sysctls", index)
        has_name = isinstance(sysctl.get("name"), str)
        out.append(PssViolation(check, spath + ("name",) if has_name else spath, not has_name,
                                _msg("forbidden sysctls", name)))
    return out


def _sysctls_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    return _sysctls(check, pod, _SYSCTLS_1_0)


def _sysctls_1_27(check: str, pod: _Pod) -> list[PssViolation]:
    return _sysctls(check, pod, _SYSCTLS_1_27)


def _sysctls_1_29(check: str, pod: _Pod) -> list[PssViolation]:
    return _sysctls(check, pod, _SYSCTLS_1_29)


def _sysctls_1_32(check: str, pod: _Pod) -> list[PssViolation]:
    return _sysctls(check, pod, _SYSCTLS_1_32)


def _sysctls_1_37(check: str, pod: _Pod) -> list[PssViolation]:
    return _sysctls(check, pod, _SYSCTLS_1_37)


def _windows_host_process_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    detail = "must not set securityContext.windowsOptions.hostProcess=true"
    out: list[PssViolation] = []
    psc = pod.psc
    opts = _dict(psc.get("windowsOptions")) if psc is not None else None
    if opts is not None and _bool(opts.get("hostProcess")) is True:
        out.append(PssViolation(check, pod.psc_path + ("windowsOptions", "hostProcess"), False,
                                _msg("hostProcess", f"pod {detail}")))
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        opts = _dict(sc.get("windowsOptions")) if sc is not None else None
        if opts is not None and _bool(opts.get("hostProcess")) is True:
            out.append(PssViolation(check, cpath + ("securityContext", "windowsOptions", "hostProcess"),
                                    False, _msg("hostProcess", f"{_c(name)} {detail}")))
    return out


def _allow_privilege_escalation_1_8(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        value = _bool(sc.get("allowPrivilegeEscalation")) if sc is not None else None
        if value is False:
            continue
        message = _msg("allowPrivilegeEscalation != false",
                       f"{_c(name)} must set securityContext.allowPrivilegeEscalation=false")
        if value is True:
            out.append(PssViolation(check, cpath + ("securityContext", "allowPrivilegeEscalation"),
                                    False, message))
        else:
            out.append(PssViolation(check, _container_node(cpath, container), True, message))
    return out


def _windows_exempt(fn: CheckFn) -> CheckFn:
    """The v1.25 variants: ``spec.os.name == windows`` pods are allowed outright."""

    def check_1_25(check: str, pod: _Pod) -> list[PssViolation]:
        if pod.is_windows():
            return []
        return fn(check, pod)

    check_1_25.__name__ = fn.__name__ + "_windows_exempt_1_25"
    return check_1_25


def _capabilities_restricted_1_22(check: str, pod: _Pod) -> list[PssViolation]:
    reason = "unrestricted capabilities"
    out: list[PssViolation] = []
    for cpath, container, name in pod.containers():
        drop_message = _msg(reason, f'{_c(name)} must set securityContext.capabilities.drop=["ALL"]')
        sc = _sc(container)
        caps = _dict(sc.get("capabilities")) if sc is not None else None
        if caps is None:
            out.append(PssViolation(check, _container_node(cpath, container), True, drop_message))
            continue
        caps_path = cpath + ("securityContext", "capabilities")
        drop = caps.get("drop")
        if not any(item == "ALL" for item in _list(drop)):
            if isinstance(drop, list):
                out.append(PssViolation(check, caps_path + ("drop",), False, drop_message))
            else:
                out.append(PssViolation(check, caps_path, True, drop_message))
        for index, cap in enumerate(_list(caps.get("add"))):
            value = _gostr(cap)
            if value is not None and value != "NET_BIND_SERVICE":
                out.append(PssViolation(
                    check, caps_path + ("add", index), False,
                    _msg(reason, f'{_c(name)} must not include "{value}" in securityContext.capabilities.add')))
    return out


# upstream switch order in restrictedVolumes: allowed sources first, then the
# restricted ones in this order; a volume matching none is "unknown".
_VOLUMES_ALLOWED = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
                    "persistentVolumeClaim", "projected", "secret")
_VOLUMES_RESTRICTED = ("hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs",
                       "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker",
                       "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
                       "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos")


def _restricted_volumes_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    for vpath, volume, name in _volumes(pod):
        if any(_dict(volume.get(key)) is not None for key in _VOLUMES_ALLOWED):
            continue
        for key in _VOLUMES_RESTRICTED:
            if _dict(volume.get(key)) is not None:
                out.append(PssViolation(check, vpath + (key,), False, _msg(
                    "restricted volume types", f'volume "{name}" uses restricted volume type "{key}"')))
                break
        # else: no known source -> API defaulting makes it an emptyDir (allowed).
    return out


def _run_as_non_root_1_0(check: str, pod: _Pod) -> list[PssViolation]:
    reason = "runAsNonRoot != true"
    explicit: list[PssViolation] = []
    implicit: list[PssViolation] = []
    pod_ok = False
    psc = pod.psc
    pod_value = _bool(psc.get("runAsNonRoot")) if psc is not None else None
    if pod_value is False:
        explicit.append(PssViolation(check, pod.psc_path + ("runAsNonRoot",), False,
                                     _msg(reason, "pod must not set securityContext.runAsNonRoot=false")))
    elif pod_value is True:
        pod_ok = True
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        value = _bool(sc.get("runAsNonRoot")) if sc is not None else None
        if value is False:
            explicit.append(PssViolation(
                check, cpath + ("securityContext", "runAsNonRoot"), False,
                _msg(reason, f"{_c(name)} must not set securityContext.runAsNonRoot=false")))
        elif value is None and not pod_ok:
            implicit.append(PssViolation(
                check, _container_node(cpath, container), True,
                _msg(reason, f"pod or {_c(name)} must set securityContext.runAsNonRoot=true")))
    return explicit if explicit else implicit


def _user_namespace_relaxed(fn: CheckFn) -> CheckFn:
    """The v1.35 variants: pods with ``hostUsers: false`` are allowed outright."""

    def check_1_35(check: str, pod: _Pod) -> list[PssViolation]:
        if pod.host_users_false():
            return []
        return fn(check, pod)

    check_1_35.__name__ = fn.__name__ + "_relaxed_1_35"
    return check_1_35


def _run_as_user_1_23(check: str, pod: _Pod) -> list[PssViolation]:
    out: list[PssViolation] = []
    psc = pod.psc
    if psc is not None and _int(psc.get("runAsUser")) == 0:
        out.append(PssViolation(check, pod.psc_path + ("runAsUser",), False,
                                _msg("runAsUser=0", "pod must not set runAsUser=0")))
    for cpath, container, name in pod.containers():
        sc = _sc(container)
        if sc is not None and _int(sc.get("runAsUser")) == 0:
            out.append(PssViolation(check, cpath + ("securityContext", "runAsUser"), False,
                                    _msg("runAsUser=0", f"{_c(name)} must not set runAsUser=0")))
    return out


def _seccomp_profile_restricted_1_19(check: str, pod: _Pod) -> list[PssViolation]:
    reason = "seccompProfile"
    explicit: list[PssViolation] = []
    pod_set = False
    psc = pod.psc
    profile = _dict(psc.get("seccompProfile")) if psc is not None else None
    if profile is not None:
        value, path, missing = _typed_profile(profile, pod.psc_path + ("seccompProfile",))
        if value is not None and value not in _SECCOMP_TYPES_ALLOWED:
            explicit.append(PssViolation(check, path, missing, _msg(
                reason, f'pod must not set securityContext.seccompProfile.type to "{value}"')))
        elif value is not None:
            pod_set = True
    implicit: list[tuple[Path, dict[Any, Any], str]] = []
    visited = 0
    for cpath, container, name in pod.containers():
        visited += 1
        sc = _sc(container)
        profile = _dict(sc.get("seccompProfile")) if sc is not None else None
        if profile is not None:
            value, path, missing = _typed_profile(profile, cpath + ("securityContext", "seccompProfile"))
            if value is not None and value not in _SECCOMP_TYPES_ALLOWED:
                explicit.append(PssViolation(check, path, missing, _msg(
                    reason, f'{_c(name)} must not set securityContext.seccompProfile.type to "{value}"')))
        elif not pod_set:
            implicit.append((cpath, container, name))
    if explicit:
        return explicit
    if not implicit:
        return []
    must = 'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"'
    if len(implicit) == visited and _pod_seccomp_absent(pod):
        # Neither the pod nor any container sets a profile: the fix is pod-level.
        names = [name for _cpath, _container, name in implicit]
        detail = f"pod or {_plural('container', 'containers', len(names))} {_quote(names)} {must}"
        return [PssViolation(check, pod.pod_node, True, _msg(reason, detail))]
    return [PssViolation(check, _container_node(cpath, container), True,
                         _msg(reason, f"pod or {_c(name)} {must}"))
            for cpath, container, name in implicit]


def _pod_seccomp_absent(pod: _Pod) -> bool:
    psc = pod.psc
    return psc is None or _dict(psc.get("seccompProfile")) is None


# ---------------------------------------------------------------------------
# registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    minimum: Version
    fn: CheckFn
    overrides: tuple[str, ...] = ()


_REGISTRY: dict[str, tuple[str, tuple[_Entry, ...]]] = {
    # baseline (upstream order: IDs sorted byte-wise, baseline first)
    "appArmorProfile": ("baseline", (_Entry((1, 0), _app_armor_profile_1_0),)),
    "capabilities_baseline": ("baseline", (_Entry((1, 0), _capabilities_baseline_1_0),)),
    "hostNamespaces": ("baseline", (_Entry((1, 0), _host_namespaces_1_0),)),
    "hostPathVolumes": ("baseline", (_Entry((1, 0), _host_path_volumes_1_0),)),
    "hostPorts": ("baseline", (_Entry((1, 0), _host_ports_1_0),)),
    "hostProbesAndHostLifecycle": ("baseline", (_Entry((1, 34), _host_probes_and_host_lifecycle_1_34),)),
    "privileged": ("baseline", (_Entry((1, 0), _privileged_1_0),)),
    "procMount": ("baseline", (
        _Entry((1, 0), _proc_mount_1_0),
        _Entry((1, 35), _proc_mount_1_35_baseline),
    )),
    "seLinuxOptions": ("baseline", (
        _Entry((1, 0), _selinux_options_1_0),
        _Entry((1, 31), _selinux_options_1_31),
    )),
    "seccompProfile_baseline": ("baseline", (
        _Entry((1, 0), _seccomp_profile_baseline_1_0),
        _Entry((1, 19), _seccomp_profile_baseline_1_19),
    )),
    "sysctls": ("baseline", (
        _Entry((1, 0), _sysctls_1_0),
        _Entry((1, 27), _sysctls_1_27),
        _Entry((1, 29), _sysctls_1_29),
        _Entry((1, 32), _sysctls_1_32),
        _Entry((1, 37), _sysctls_1_37),
    )),
    "windowsHostProcess": ("baseline", (_Entry((1, 0), _windows_host_process_1_0),)),
    # restricted
    "allowPrivilegeEscalation": ("restricted", (
        _Entry((1, 8), _allow_privilege_escalation_1_8),
        _Entry((1, 25), _windows_exempt(_allow_privilege_escalation_1_8)),
    )),
    "capabilities_restricted": ("restricted", (
        _Entry((1, 22), _capabilities_restricted_1_22, ("capabilities_baseline",)),
        _Entry((1, 25), _windows_exempt(_capabilities_restricted_1_22), ("capabilities_baseline",)),
    )),
    "procMount_restricted": ("restricted", (
        _Entry((1, 35), _proc_mount_1_0, ("procMount",)),
    )),
    "restrictedVolumes": ("restricted", (
        _Entry((1, 0), _restricted_volumes_1_0, ("hostPathVolumes",)),
    )),
    "runAsNonRoot": ("restricted", (
        _Entry((1, 0), _run_as_non_root_1_0),
        _Entry((1, 35), _user_namespace_relaxed(_run_as_non_root_1_0)),
    )),
    "runAsUser": ("restricted", (
        _Entry((1, 23), _run_as_user_1_23),
        _Entry((1, 35), _user_namespace_relaxed(_run_as_user_1_23)),
    )),
    "seccompProfile_restricted": ("restricted", (
        _Entry((1, 19), _seccomp_profile_restricted_1_19, ("seccompProfile_baseline",)),
        _Entry((1, 25), _windows_exempt(_seccomp_profile_restricted_1_19), ("seccompProfile_baseline",)),
    )),
}

PSS_CHECKS: dict[str, str] = {check: level for check, (level, _entries) in _REGISTRY.items()}

CHECK_VERSIONS: dict[str, tuple[Version, ...]] = {
    check: tuple(entry.minimum for entry in entries) for check, (_level, entries) in _REGISTRY.items()
}

# upstream "latest" is the registry's maxVersion: the newest MinimumVersion of any check.
LATEST: Version = max(version for versions in CHECK_VERSIONS.values() for version in versions)

_LEVELS = ("privileged", "baseline", "restricted")
_VERSION_RE = re.compile(r"v1\.([0-9]|[1-9][0-9]*)")


def parse_version(text: str) -> Version:
    """``"latest"`` -> LATEST, ``"v1.24"`` -> (1, 24); anything else raises ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"policy version must be a string, got {type(text).__name__}")
    if text == "latest":
        return LATEST
    match = _VERSION_RE.fullmatch(text)
    if match is None:
        raise ValueError(f'policy version {text!r}: must be "latest" or "v1.x"')
    return (1, int(match.group(1)))


def _check_version(version: Version) -> Version:
    if (not isinstance(version, tuple) or len(version) != 2
            or any(isinstance(part, bool) or not isinstance(part, int) for part in version)
            or version[0] != 1 or version[1] < 0):
        raise ValueError(f"policy version {version!r}: must be (1, minor) with minor >= 0")
    return version


def checks_for_level(level: str) -> list[str]:
    """Check ids evaluated at a level (restricted = baseline + restricted ids)."""
    if level == "privileged":
        return []
    if level == "baseline":
        return [check for check, lvl in PSS_CHECKS.items() if lvl == "baseline"]
    if level == "restricted":
        return list(PSS_CHECKS)
    raise ValueError(f"level {level!r}: must be one of {', '.join(_LEVELS)}")


def _pod(obj: Any) -> _Pod | None:
    target = pod_target(obj)
    if target is None:
        return None
    meta = _dict(_resolve(obj, target.meta_path)) or {}
    spec = _dict(_resolve(obj, target.spec_path)) or {}
    return _Pod(meta, spec, target.meta_path, target.spec_path)


def _entry(check: str, version: Version) -> _Entry | None:
    chosen: _Entry | None = None
    for entry in _REGISTRY[check][1]:
        if entry.minimum <= version:
            chosen = entry
    return chosen


def _run(check: str, entry: _Entry, pod: _Pod) -> list[PssViolation]:
    # The checks are written not to raise on malformed data; should one still raise, the
    # analyzer reports an internal error naming the rule (never a silent pass).
    return entry.fn(check, pod)


def evaluate(check: str, obj: dict[Any, Any], version: Version = LATEST) -> list[PssViolation]:
    """Evaluate one check at a policy version; [] when it does not apply."""
    if check not in _REGISTRY:
        raise ValueError(f"unknown Pod Security check {check!r}")
    version = _check_version(version)
    entry = _entry(check, version)
    pod = _pod(obj)
    if entry is None or pod is None:
        return []
    return _run(check, entry, pod)


def evaluate_all(obj: dict[Any, Any], level: str, version: Version = LATEST) -> list[PssViolation]:
    """Evaluate every check of a level, dropping baseline checks that the active
    restricted entries override (upstream ``OverrideCheckIDs``)."""
    checks = checks_for_level(level)
    version = _check_version(version)
    pod = _pod(obj)
    if not checks or pod is None:
        return []
    entries = {check: _entry(check, version) for check in checks}
    overridden: set[str] = set()
    if level == "restricted":
        for check, entry in entries.items():
            if entry is not None and PSS_CHECKS[check] == "restricted":
                overridden.update(entry.overrides)
    out: list[PssViolation] = []
    for check in checks:
        entry = entries[check]
        if entry is None or check in overridden:
            continue
        out.extend(_run(check, entry, pod))
    return out


# --------------------------------------------------------------------------- the rules' matcher

_last: tuple[dict[str, Any], str, tuple[int, int], list[PssViolation]] | None = None


def violations(obj: dict[str, Any], level: str, version: tuple[int, int]) -> list[PssViolation]:
    """evaluate_all, remembered for the last object (the rules of one object run back to back).

    The cache holds the object itself and compares identity: an ``id()`` alone can be reused
    by a later object once the first is freed, which would hand one object another's result.
    """
    global _last
    if _last is not None and _last[0] is obj and _last[1] == level and _last[2] == version:
        return _last[3]
    found = evaluate_all(obj, level, version)
    _last = (obj, level, version, found)
    return found


def rule_hits(ctx: CheckContext) -> Iterator[Hit]:
    """The matcher of a rule's ``pss`` block: the whole level is evaluated once per object
    (upstream's overrides included: at ``restricted`` a restricted check replaces the baseline
    check it overrides) and the violations of the rule's check are kept."""

    rule = ctx.rule
    level = ctx.settings.pss_level
    if rule.pss_level == "restricted" and level != "restricted":
        return
    version = parse_version(ctx.settings.pss_version)
    kind, name = ctx.kind, ctx.display_name
    found = [v for v in violations(ctx.obj, level, version) if v.check == rule.pss_check]
    for v in _per_pod(rule.pss_check, found, ctx.obj):
        yield Hit(v.path, rule.message.format(kind=kind, name=name, detail=v.message), v.missing)


def _at(obj: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        if isinstance(obj, dict) and key in obj or isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _per_pod(check: str | None, found: list[PssViolation], obj: dict[str, Any]) -> list[PssViolation]:
    """The volume checks as upstream reports them: one violation a pod that lists every offending
    volume (`restricted volume types (volumes "a", "b" use restricted volume type "hostPath")`),
    at the first of them. Volumes a chart renders in a loop all sit on one template line, where
    one finding per volume would repeat itself."""
    if check not in ("restrictedVolumes", "hostPathVolumes") or len(found) < 2:
        return found
    names: list[str] = []
    types: set[str] = set()
    for v in found:
        volume = _at(obj, v.path[:-1])
        name = volume.get("name") if isinstance(volume, dict) else None
        names.append(name if isinstance(name, str) else "")
        types.add(str(v.path[-1]))
    volumes = f"{_plural('volume', 'volumes', len(names))} {_quote(names)}"
    if check == "hostPathVolumes":
        message = _msg("hostPath volumes", volumes)
    else:
        kinds = _plural("restricted volume type", "restricted volume types", len(types))
        message = _msg("restricted volume types", f"{volumes} {_plural('uses', 'use', len(names))} {kinds} {_quote(sorted(types))}")
    first = found[0]
    return [PssViolation(first.check, first.path, first.missing, message)]


# --------------------------------------------------------------------------- Namespaces
#
# Pod Security Admission reads six labels on a Namespace: ``pod-security.kubernetes.io/<mode>``
# (a level) and ``pod-security.kubernetes.io/<mode>-version`` (a policy version) for the modes
# ``enforce``, ``audit`` and ``warn``. The API server refuses to create or update a Namespace
# whose labels do not parse (``PolicyToEvaluate`` in ``k8s.io/pod-security-admission/api``).
# Namespaces listed in the ``exempt-namespaces`` setting are exempt from evaluation and need no
# labels. A rule's ``pss: {namespace: <check>}`` names one of ``NAMESPACE_CHECKS``.

LABEL_PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
RANK = {level: i for i, level in enumerate(_LEVELS)}
ENFORCE = LABEL_PREFIX + "enforce"
_LABELS = ("metadata", "labels")


def _labels(obj: dict[str, Any]) -> dict[Any, Any]:
    return _dict(_at(obj, _LABELS)) or {}


def valid_level(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value in _LEVELS


def valid_version(value: Any) -> TypeGuard[str]:  # parse_version takes only a str
    try:
        parse_version(value)
    except ValueError:
        return False
    return True


def enforce_policy(labels: dict[Any, Any]) -> tuple[str, str] | None:
    """(level, version text) that PSA enforces, or None when the labels leave it to the
    cluster default (no enforce label) or do not parse (the Namespace itself is refused)."""
    level = labels.get(ENFORCE)
    version = labels.get(ENFORCE + "-version", "latest")
    if not valid_level(level) or not valid_version(version):
        return None
    return level, version


def _missing_enforce(ctx: CheckContext) -> Iterator[Hit]:

    meta = ctx.obj.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    if isinstance(labels, dict) and ENFORCE in labels:
        return
    path: Path = _LABELS if isinstance(labels, dict) else ("metadata",) if isinstance(meta, dict) else ()
    yield Hit(path, ctx.format(label=ENFORCE), True)


def _invalid_labels(ctx: CheckContext) -> Iterator[Hit]:

    for key, value in _labels(ctx.obj).items():
        if not isinstance(key, str) or not key.startswith(LABEL_PREFIX):
            continue
        mode = key[len(LABEL_PREFIX) :]
        shown = value if isinstance(value, str) else repr(value)
        if mode in MODES:
            if valid_level(value):
                continue
            hint = ""
            if isinstance(value, str) and value.lower() in _LEVELS:
                hint = f" (levels are lowercase: `{value.lower()}`)"
            detail = f"`{key}: {shown}` is not a Pod Security level: use privileged, baseline or restricted{hint}"
        elif mode.endswith("-version") and mode[: -len("-version")] in MODES:
            if valid_version(value):
                continue
            hint = ""
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                hint = " (a YAML number: write a quoted string such as `\"v1.30\"`)"
            detail = f"`{key}: {shown}` is not a policy version: use `latest` or `v1.N`{hint}"
        else:
            detail = (
                f"`{key}` is not a Pod Security Admission label (enforce, audit, warn and their "
                "-version labels): it is ignored"
            )
            yield Hit(_LABELS + (key,), ctx.format(detail=detail, label=key))
            continue
        yield Hit(_LABELS + (key,), ctx.format(detail=detail + "; the API server refuses the Namespace", label=key))


def _enforces_privileged(ctx: CheckContext) -> Iterator[Hit]:

    if _labels(ctx.obj).get(ENFORCE) == "privileged":
        yield Hit(_LABELS + (ENFORCE,), ctx.format(label=ENFORCE))


def _weaker_than_enforce(ctx: CheckContext) -> Iterator[Hit]:

    labels = _labels(ctx.obj)
    enforce = labels.get(ENFORCE)
    if not valid_level(enforce):
        return
    for mode in ("warn", "audit"):
        key = LABEL_PREFIX + mode
        value = labels.get(key)
        if valid_level(value) and RANK[value] < RANK[enforce]:
            yield Hit(_LABELS + (key,), ctx.format(mode=mode, level=value, enforce=enforce, label=key))


def _rejected(ctx: CheckContext) -> Iterator[Hit]:

    ns = ctx.namespace
    if not isinstance(ns, str) or ns in tuple(ctx.settings.exempt_namespaces):
        return
    namespace = None
    for doc in ctx.docs:
        obj = doc.data
        if is_object(obj) and obj.get("kind") == "Namespace" and _at(obj, ("metadata", "name")) == ns:
            namespace = obj  # the last one wins, as it would when applied in order
    if namespace is None:
        return
    policy = enforce_policy(_labels(namespace))
    if policy is None or policy[0] == "privileged":
        return
    level, version = policy
    for v in evaluate_all(ctx.obj, level, parse_version(version)):
        yield Hit(v.path, ctx.format(namespace=ns, level=level, version=version, detail=v.message, check=v.check), v.missing)


#: what a rule's ``pss: {namespace: ...}`` may name: the Namespace label checks (on Namespaces)
#: and ``rejected`` (on workloads: the level their Namespace, among the same documents, enforces)
NAMESPACE_CHECKS: dict[str, Callable[[CheckContext], Iterator[Hit]]] = {
    "missing-enforce": _missing_enforce,
    "invalid-labels": _invalid_labels,
    "enforces-privileged": _enforces_privileged,
    "weaker-than-enforce": _weaker_than_enforce,
    "rejected": _rejected,
}


def namespace_hits(ctx: CheckContext) -> Iterator[Hit]:
    """The matcher of a rule's ``pss: {namespace: <check>}`` block. A Namespace listed in the
    ``exempt-namespaces`` setting is not evaluated (nor, for ``rejected``, its workloads);
    ``invalid-labels`` checks it all the same: the API server refuses its labels whatever PSA
    exempts."""
    check = ctx.rule.matcher["pss"]["namespace"]
    if check not in ("invalid-labels", "rejected"):
        name = ctx.name
        if check == "missing-enforce" and not isinstance(name, str):
            return
        if isinstance(name, str) and name in tuple(ctx.settings.exempt_namespaces):
            return
    yield from NAMESPACE_CHECKS[check](ctx)
