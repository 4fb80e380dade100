"""Probes and timeouts: self-defeating probes and Jobs that can run forever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from linter.kubernetes.analyzer import CheckContext, Hit, get_path, pod_paths
from linter.kubernetes.hooks.kube_common import PROBES, as_dict, containers, is_int, message

# Kubernetes API defaults (0 or absent means the default)
DEFAULT_TIMEOUT_SECONDS = 1
DEFAULT_PERIOD_SECONDS = 10


def _seconds(probe: dict[str, Any], key: str, default: int) -> int | None:
    value = probe.get(key)
    if value is None or value == 0:
        return default
    return value if is_int(value) else None


def timeout_not_below_period(ctx: CheckContext) -> Iterator[Hit]:
    """PRB203: a probe whose timeoutSeconds is not below its periodSeconds."""
    for cpath, c, cname in containers(ctx.obj, init=True):
        for probe_name in PROBES:
            probe = c.get(probe_name)
            if not isinstance(probe, dict):
                continue
            timeout = _seconds(probe, "timeoutSeconds", DEFAULT_TIMEOUT_SECONDS)
            period = _seconds(probe, "periodSeconds", DEFAULT_PERIOD_SECONDS)
            if timeout is None or period is None or timeout < period:
                continue
            key = "timeoutSeconds" if probe.get("timeoutSeconds") else "periodSeconds"
            shown_timeout = f"{timeout}" if probe.get("timeoutSeconds") else f"{timeout} (the default)"
            shown_period = f"{period}" if probe.get("periodSeconds") else f"{period} (the default)"
            yield Hit(cpath + (probe_name, key), message(
                ctx, container=cname, probe=probe_name, timeout=shown_timeout, period=shown_period))


def liveness_same_as_readiness(ctx: CheckContext) -> Iterator[Hit]:
    """PRB204: livenessProbe identical to readinessProbe."""
    for cpath, c, cname in containers(ctx.obj, init=True):
        live, ready = c.get("livenessProbe"), c.get("readinessProbe")
        if isinstance(live, dict) and live and live == ready:
            yield Hit(cpath + ("livenessProbe",), message(ctx, container=cname))


def job_without_deadline(ctx: CheckContext) -> Iterator[Hit]:
    """PRB205: a Job (or CronJob job template) without activeDeadlineSeconds."""
    job_path: tuple[Any, ...] = ("spec", "jobTemplate", "spec") if ctx.kind == "CronJob" else ("spec",)
    job = get_path(ctx.obj, job_path)
    if job is not None and not isinstance(job, dict):
        return
    if isinstance(job, dict) and job.get("activeDeadlineSeconds") is not None:
        return
    paths = pod_paths(ctx.obj)
    if paths is not None and as_dict(get_path(ctx.obj, paths[1])).get("activeDeadlineSeconds") is not None:
        return  # every pod is bounded, and backoffLimit bounds the retries
    yield Hit(job_path, message(ctx, where="spec.jobTemplate.spec" if ctx.kind == "CronJob" else "spec"), True)
