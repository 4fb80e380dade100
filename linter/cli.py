"""Command line: ``pitfall check | rules | packs | stats | verify | report | clean | lsp``. ``main(argv) -> exit code``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, overload

from linter import __version__
from linter.core.config import Settings, load_settings, with_cli
from linter.report.feedback import apply_policy
from linter.core.model import SEVERITY_RANK, Finding, Notification, Pack
from linter.core.dependencies import declared_dependencies, satisfied, wanted_by
from linter.core.packs import TRUST_FLAG, PackError, load_packs, pack_applies, unknown_selectors

if TYPE_CHECKING:
    from linter.core.discover import Unit
    from linter.core.engine import RuleSet

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


@overload
def _csv(values: None) -> None: ...
@overload
def _csv(values: Sequence[str]) -> tuple[str, ...]: ...
def _csv(values: Sequence[str] | None) -> tuple[str, ...] | None:
    if values is None:
        return None
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


_COMMANDS = {
    "check": "lint files and folders (default: the current folder)",
    "rules": "list, show, document or test rules",
    "packs": "list the rule packs with their versions and origins; `packs lock` writes pitfall-packs.lock",
    "stats": "per rule: findings, suppressions by kind, false-positive rate (of a scan or of SARIF logs)",
    "verify": "check an attestation against required packs (the release gate)",
    "report": "a quality dashboard: one self-contained HTML page from SARIF logs of `pitfall check --format sarif`",
    "clean": "remove the results cache of the project (--all: of every project)",
    "lsp": "start the language server on stdio",
}


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``command``, only that command's options are declared
    (the others are listed, for ``--help`` and for an unknown command's error)."""
    p = argparse.ArgumentParser(prog="pitfall", description="Find the pitfalls that take services down: timeouts, context, retries, ports, pod security, TLS.")
    p.add_argument("--version", action="version", version=f"pitfall {__version__}")
    sub = p.add_subparsers(dest="command")
    for name, text in _COMMANDS.items():
        q = sub.add_parser(name, help=text)
        if command is None or command == name:
            _OPTIONS[name](q)
    return p


def _check_options(c: argparse.ArgumentParser) -> None:
    c.add_argument("paths", nargs="*")
    c.add_argument("--select", action="append", help="rules to enable: id, prefix, name or ALL (comma-separated)")
    c.add_argument("--extend-select", action="append")
    c.add_argument("--ignore", action="append")
    c.add_argument("--preview", action="store_true", default=None, help="enable preview rules")
    c.add_argument("--no-preview", dest="preview", action="store_false")
    c.add_argument(
        "--format", "--output-format", dest="format", choices=["text", "full", "json", "sarif", "github"], default=None,
        help="text: a line a finding (coloured on a terminal; NO_COLOR disables, FORCE_COLOR forces); full: also the source lines around it",
    )
    c.add_argument("-o", "--output", help="write the report to this file instead of stdout")
    c.add_argument("--fix", action="store_true", help="apply safe fixes")
    c.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes (with --fix or --diff)")
    c.add_argument("--diff", action="store_true", help="print the fixes as a diff; write nothing")
    c.add_argument(
        "--statistics", action="store_true",
        help="counts per rule: text/full print the table instead of each finding; json adds a `statistics` key; "
        "github adds the table in a collapsed log group after the annotations; sarif prints the table to stderr",
    )
    c.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    c.add_argument("--fail-on", choices=["error", "warning", "note", "none"], default=None)
    c.add_argument("--jobs", "-j", type=int, default=None, help="worker processes (default: cores)")
    c.add_argument("--no-cache", action="store_true", help="neither read nor write the results cache (`pitfall clean` removes it)")
    c.add_argument("--force-exclude", action="store_true", help="honour excludes for files passed explicitly")
    c.add_argument("--config", action="append", default=[], help="a config file, or a `key = value` TOML override (repeatable)")
    c.add_argument("--packs", action="append", default=[], help="an extra pack folder (repeatable)")
    c.add_argument(TRUST_FLAG, dest="trust_pack_code", action="store_true", help="let packs that are not built in run their Python hooks (visitor, check, unless)")
    c.add_argument("--baseline", help="a SARIF report from an earlier run: findings already in it are suppressed")
    c.add_argument("--show-settings", action="store_true", help="print the resolved settings and exit")
    c.add_argument("--attest", metavar="FILE", help="also write the pass status of every active pack (JSON, schemas/attestation.schema.json)")
    c.add_argument("--values", action="append", default=None, help="Helm values file (repeatable)")
    c.add_argument("--set", dest="set_values", action="append", default=None, help="Helm --set key=value (repeatable)")
    c.add_argument("--helm-profiles", default=None, help="comma-separated: defaults,ingress,tls,monitoring")


def _pack_options(q: argparse.ArgumentParser) -> None:
    q.add_argument("--packs", action="append", default=[])
    q.add_argument("--config", action="append", default=[])
    q.add_argument(TRUST_FLAG, dest="trust_pack_code", action="store_true", help="let packs that are not built in run their Python hooks")


def _rules_options(r: argparse.ArgumentParser) -> None:
    rsub = r.add_subparsers(dest="rules_command")
    rl = rsub.add_parser("list")
    rl.add_argument("--format", choices=["text", "json"], default="text")
    rs = rsub.add_parser("show")
    rs.add_argument("rule")
    rd = rsub.add_parser("docs")
    rd.add_argument("--out", default="docs/rules")
    rd.add_argument("--check", action="store_true", help="fail when the committed pages differ")
    rt = rsub.add_parser("test", help="run the valid/invalid examples of packs")
    rt.add_argument("dirs", nargs="*", help="pack folders (default: the built-in packs)")
    for q in (rl, rs, rd, rt):
        _pack_options(q)


def _packs_options(pk: argparse.ArgumentParser) -> None:
    pk.add_argument("action", nargs="?", choices=["list", "lock"], default="list")
    _pack_options(pk)


def _stats_options(st: argparse.ArgumentParser) -> None:
    st.add_argument("paths", nargs="*", help="folders and files to scan, or SARIF logs (*.sarif)")
    st.add_argument("--select", action="append")
    st.add_argument("--extend-select", action="append")
    st.add_argument("--ignore", action="append")
    st.add_argument("--format", choices=["text", "json"], default="text")
    st.add_argument("--config", action="append", default=[])
    st.add_argument("--packs", action="append", default=[])
    st.add_argument(TRUST_FLAG, dest="trust_pack_code", action="store_true")
    st.set_defaults(
        attest=None, preview=None, fail_on=None, jobs=None, output=None, fix=False, unsafe_fixes=False, diff=False, statistics=False,
        exit_zero=False, no_cache=False, force_exclude=False, baseline=None, show_settings=False, values=None,
        set_values=None, helm_profiles=None,
    )


def _verify_options(vf: argparse.ArgumentParser) -> None:
    vf.add_argument("attestation", help="a file written by `pitfall check --attest`")
    vf.add_argument("--require", action="append", default=[], metavar="PACK[SPEC]", help="a pack that must have run and passed, with an optional version range: timeouts>=0.3")


def _report_options(rp: argparse.ArgumentParser) -> None:
    rp.add_argument("logs", nargs="+", metavar="LOG.sarif", help="SARIF logs: the history of one repository, the latest logs of many, or both")
    rp.add_argument("--html", required=True, metavar="OUT.html", help="the page to write (needs the `dashboard` extra: pip install 'pitfall-lint[dashboard]')")


def _clean_options(cl: argparse.ArgumentParser) -> None:
    cl.add_argument("--all", dest="every", action="store_true", help="the caches of every project")
    cl.add_argument("--config", action="append", default=[])


_OPTIONS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "check": _check_options, "rules": _rules_options, "packs": _packs_options, "stats": _stats_options,
    "verify": _verify_options, "report": _report_options, "clean": _clean_options, "lsp": lambda q: None,
}


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = _parser(given[0] if given and given[0] in _COMMANDS else None)
    try:
        args = parser.parse_args(given)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.command == "check":
            return _check(args)
        if args.command == "rules":
            if not getattr(args, "rules_command", None):
                parser.parse_args(["rules", "--help"])
                return EXIT_ERROR
            return _rules(args, parser)
        if args.command == "packs":
            return _packs(args)
        if args.command == "stats":
            return _stats(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "report":
            from linter.report.dashboard import command as report_command

            return report_command(args.logs, args.html)
        if args.command == "clean":
            return _clean(args)
        if args.command == "lsp":
            from linter.lsp import serve

            return serve()
        parser.print_help()
        return EXIT_ERROR
    except PackError as exc:
        print(f"pitfall: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("pitfall: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception:  # an internal error: say so loudly, exit 2
        print("pitfall: internal error, please report it:", file=sys.stderr)
        import traceback

        traceback.print_exc()
        return EXIT_ERROR


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(config_args=args.config)
    extra = tuple(str(Path(p).resolve()) for p in getattr(args, "packs", []) or ())
    if extra:
        settings = replace(settings, packs=settings.packs + extra)
    return settings


def _check_usage(args: argparse.Namespace) -> None:
    """The options a mistake in which would otherwise surface late (a traceback, a finding, a file
    not written after the whole run): each raises one line naming the option and what is allowed."""
    from linter.core.config import HelmSettings

    for expr in args.set_values or ():
        key, eq, _ = expr.partition("=")
        if not eq or not key.strip():
            raise PackError("--set", None, None, f"`{expr}` is not of the form key=value (a Helm value, such as --set image.tag=1.2)")
    if args.helm_profiles is not None:
        allowed = HelmSettings().profiles
        bad = [p for p in _csv([args.helm_profiles]) or () if p not in allowed]
        if bad:
            raise PackError("--helm-profiles", None, None, f"unknown profile(s) {', '.join(bad)}; allowed: {', '.join(allowed)} (comma-separated)")
    if args.output:
        _check_output(Path(args.output))


def _check_output(out: Path) -> None:
    if out.is_dir():
        raise PackError("--output", None, None, f"`{out}` is a folder; give the path of a file to write the report to")
    parent = out.parent
    if not parent.is_dir():
        raise PackError("--output", None, None, f"cannot write `{out}`: folder `{parent}` does not exist (create it, or write into an existing folder)")


def _write_output(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PackError("--output", None, None, f"cannot write `{out}`: {exc.strerror or exc}") from None


def _check_selectors(args: argparse.Namespace, settings: Settings, packs: Sequence[object]) -> None:
    """Each unknown selector named with the key it came from (`ignore`, not `select`)."""
    given = {"select": _csv(args.select), "extend-select": _csv(args.extend_select), "ignore": _csv(args.ignore)}
    configured = {"select": settings.select, "extend-select": settings.extend_select, "ignore": settings.ignore, "extend-ignore": settings.extend_ignore}
    for key, values in configured.items():
        origin = f"--{key}" if given.get(key) is not None else (settings.config_path or "configuration")
        bad = unknown_selectors(packs, values)  # type: ignore[arg-type]
        if bad:
            raise PackError(
                origin, None, key,
                f"unknown rule selector(s): {', '.join(bad)}; a selector is a rule id, a prefix of one, a rule name or ALL (see `pitfall rules list`)",
            )


def _check(args: argparse.Namespace) -> int:
    _check_usage(args)
    settings = _settings(args)
    helm = settings.helm
    if args.values is not None or args.set_values is not None or args.helm_profiles is not None:
        helm = replace(
            helm,
            values=helm.values + tuple(str(Path(v).resolve()) for v in args.values or ()),
            set=helm.set + tuple(args.set_values or ()),
            profiles=_csv([args.helm_profiles]) if args.helm_profiles else helm.profiles,
        )
    settings = with_cli(
        settings,
        select=_csv(args.select),
        extend_select=_csv(args.extend_select),
        ignore=_csv(args.ignore),
        preview=args.preview,
        fail_on=args.fail_on,
        jobs=args.jobs,
        helm=helm if helm != settings.helm else None,
        cache=False if args.no_cache else None,
    )
    cwd = Path.cwd()
    memo = checked = None
    if settings.cache:
        from linter.core.cache import SnapshotCheck, startup_memo

        if not args.show_settings:  # the last run's paths are checked while the rest loads
            checked = SnapshotCheck.start(settings, cwd.resolve())
        memo = startup_memo(settings)
    from linter.core import engine
    from linter.core.discover import discover, named_folders
    from linter.report.formats import escape, github_report, json_report, sarif_report, text_report, unreported, use_colour

    units: list[Unit] | None = None
    missing: list[str] = []
    named = named_folders(args.paths, cwd)

    def load() -> list[Pack]:
        return load_packs(
            [Path(p) for p in settings.packs], dict(settings.pack_versions), config_path=settings.config_path, trust_code=args.trust_pack_code, memo=memo
        )

    prefetch = None
    if not args.show_settings and not settings.cache:
        units, missing = discover(args.paths, settings, cwd=cwd, force_exclude=args.force_exclude)
        engine.prestart_renderers(units, settings)  # they start while the packs load
        packs, prefetch = engine.ahead(units, settings, named, load)
    else:
        packs = load()
    _check_selectors(args, settings, packs)
    cache = None
    if settings.cache and not args.show_settings:
        from linter.core.cache import open_cache

        cache = open_cache(settings)
    ruleset = engine.build_ruleset(settings, packs=packs, memo=cache.store if cache is not None else None)
    if args.show_settings:
        shown = settings.as_dict()
        shown["rules"] = [r.id for r in ruleset.rules]
        shown["packs"] = {p.name: p.version for p in ruleset.active_packs}
        print(json.dumps(shown, indent=2, default=str))
        return EXIT_CLEAN
    ruleset.named = named
    snapshot = held = None
    if cache is not None:
        from linter.core.cache import Snapshot

        ruleset.cache = cache
        # the last run over these paths, if the tree is as it left it; it watches what this run looks at
        snapshot = Snapshot(cache, ruleset, args.paths, cwd, args.force_exclude, checked)
        held = snapshot.load()
    if units is None:
        if held is not None:
            units = held.units
        else:
            units, missing = discover(args.paths, settings, cwd=cwd, force_exclude=args.force_exclude, watch=snapshot.tree_path if snapshot else None)
        if ruleset.cache is None:  # else they start for the charts the cache does not answer (engine._run)
            engine.prestart_renderers(units, settings)
    notifications: list[Notification] = [Notification(f"{m}: no such file or directory", "error", m) for m in missing]
    with _progress_bar(len(units)) as bar:
        progress = bar.update if bar is not None else None
        if held is None:
            results = engine.run(units, ruleset, jobs=settings.jobs, progress=progress, prefetch=prefetch)
        else:
            if progress is not None and held.results:
                progress(len(held.results))
            fresh = engine.run(held.leftovers, ruleset, jobs=settings.jobs, progress=progress, context=units) if held.leftovers else []
            results = held.merge(fresh)
        if snapshot is not None and not missing:
            snapshot.save(units, results)
    fixed_count = 0
    fixed_by_rule: dict[str, int] | None = None
    if args.fix or args.diff:
        results, fixed_count, diffs, fixed_by_rule = _apply_fixes(results, units, ruleset, unsafe=args.unsafe_fixes, write=not args.diff, paths=args.paths, cwd=cwd)
        if args.diff:
            sys.stdout.write(diffs)
            return EXIT_FINDINGS if diffs else EXIT_CLEAN
    findings = engine.sort_findings(results)
    if args.baseline:
        findings = _apply_baseline(findings, Path(args.baseline))
    if args.command == "stats":
        from linter.report.feedback import count, from_findings, render

        sys.stdout.write(render(count(from_findings(findings)), settings.feedback, args.format))
        return EXIT_ERROR if missing else EXIT_CLEAN
    findings, lowered = apply_policy(findings, settings.feedback)
    notifications.extend(lowered)
    doc = None
    if args.attest or args.format == "sarif":
        from linter.report.attest import attestation

        doc = attestation(findings, ruleset.active_packs, ruleset.by_id, fail_on=settings.fail_on, root=Path(settings.root))
        if args.attest:
            from linter.report.attest import write as write_attestation

            write_attestation(Path(args.attest), doc)
    for r in results:
        notifications.extend(r.notifications)
    fmt = args.format or "text"
    if fmt in ("text", "full"):
        tty = not args.output and sys.stdout.isatty()
        out = text_report(
            findings, notifications, statistics=args.statistics, rules=ruleset.by_id, fixed=fixed_count,
            colour=not args.output and use_colour(sys.stdout), width=_terminal_width() if tty else None,
            full=fmt == "full", source=_source_reader(units, cwd, settings.max_file_size) if fmt == "full" else None,
        )
        if notifications and not args.output:
            for n in unreported(notifications, findings):
                where = f"{escape(n.path)}: " if n.path and not n.message.startswith(n.path) else ""
                print(f"{n.level}: {where}{escape(n.message)}", file=sys.stderr)
    elif fmt == "json":
        out = json_report(findings, notifications, ruleset.by_id, statistics=args.statistics)
    elif fmt == "github":
        out = github_report(findings, notifications, statistics=args.statistics, rules=ruleset.by_id)
    else:
        findings = _with_yaml_fixes(findings, units, ruleset, settings.max_file_size)
        out = sarif_report(
            findings, notifications, rules=ruleset.rules, packs=ruleset.active_packs, root=cwd,
            max_file_size=settings.max_file_size, attestation=doc, fixes_applied=fixed_by_rule if args.fix else None,
        )
    if fmt == "sarif" and args.statistics:  # the SARIF log stays one JSON document: the table goes to stderr
        sys.stderr.write(text_report(findings, [], statistics=True, rules=ruleset.by_id))
    if args.output:
        _write_output(Path(args.output), out)
    else:
        sys.stdout.write(out)
        sys.stdout.flush()
    if missing:
        return EXIT_ERROR
    if args.exit_zero:
        return EXIT_CLEAN
    threshold = SEVERITY_RANK[settings.fail_on]
    failing = [f for f in findings if f.suppression is None and threshold and SEVERITY_RANK[f.severity] >= threshold]
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def _with_yaml_fixes(findings: list[Finding], units: Sequence[Unit], ruleset: RuleSet, max_size: int) -> list[Finding]:
    """The findings with the fixes of Kubernetes manifests attached (a SARIF log carries every
    fix; they are computed for the report, a round trip through ruamel.yaml each)."""
    from linter.core.discover import Unreadable, read_file
    from linter.core.engine import decode
    from linter.kubernetes.yamlfix import FIXABLE, attach

    wanted = {f.path for f in findings if f.rule_id in FIXABLE and f.fix is None and f.suppression is None}
    if not wanted:
        return findings
    by_path = {u.path: u for u in units if u.kind == "yaml" and u.path in wanted}
    out: list[Finding] = []
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.path, []).append(f)
    for path, group in groups.items():
        unit = by_path.get(path)
        if unit is not None:
            try:
                text, _, _ = decode(read_file(unit.abspath, max_size))
            except Unreadable:
                text = None
            if text is not None:
                group = attach(path, text, group, ruleset)
        out.extend(group)
    return out


PROGRESS_MIN_UNITS = 50  # fewer files lint in about a second: no bar


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    """A context giving a "files done / total" bar on stderr (tqdm; erased when the run ends) for a
    run of more than PROGRESS_MIN_UNITS units with stderr on a terminal, else None: nothing in CI
    (``CI`` set), on a pipe or file, or on a dumb terminal."""
    import contextlib
    import os

    ci = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    if total <= PROGRESS_MIN_UNITS or ci or os.environ.get("TERM") == "dumb" or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the pool forks its workers while the bar is up
    return tqdm(total=total, unit="file", file=sys.stderr, leave=False, dynamic_ncols=True)


def _clean(args: argparse.Namespace) -> int:
    """``pitfall clean``: remove the results cache of the project (``--all``: of every project)."""
    from linter.core.cache import clean, project_folder

    settings = _settings(args)
    try:
        removed, failed = clean(settings, every=args.every)
    except OSError as exc:
        print(f"pitfall: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for folder, root in removed:
        print(f"removed {folder}" + (f" (the cache of {root})" if root else ""))
    if not removed and not failed:
        print(f"no cache to remove in {project_folder(settings).parent if args.every else project_folder(settings)}")
    for folder in failed:
        print(f"pitfall: error: cannot remove {folder} (check its permissions)", file=sys.stderr)
    return EXIT_ERROR if failed else EXIT_CLEAN


def _terminal_width() -> int | None:
    import shutil

    width = shutil.get_terminal_size((0, 0)).columns
    return width or None


def _source_reader(units: Sequence[object], cwd: Path, max_size: int):  # type: ignore[no-untyped-def]
    """``path -> text`` for the ``full`` format: a finding's file read the way it was linted
    (or, for a path no unit names, such as a chart's template, below the current folder)."""
    from linter.core.discover import Unreadable, read_file

    where = {u.path: u.abspath for u in units}  # type: ignore[attr-defined]
    cache: dict[str, str | None] = {}

    def source(path: str) -> str | None:
        if path not in cache:
            try:
                data = read_file(where.get(path) or str(cwd / path), max_size)
                text = data.decode("utf-8", "replace")
                cache[path] = text[1:] if text.startswith("\ufeff") else text
            except (Unreadable, OSError, ValueError):
                cache[path] = None
        return cache[path]

    return source


def _apply_fixes(results, units, ruleset, *, unsafe: bool, write: bool, paths: Sequence[str] = (), cwd: Path | None = None):  # type: ignore[no-untyped-def]
    """Apply (``write``) or diff each Python unit's fixes (see :func:`linter.core.fixes.fix_unit`: only
    to unchanged files, never damaging them). A file left alone gets a warning notification;
    with ``--diff`` (no report follows) those are printed to stderr here."""
    from collections import Counter

    from linter.core.fixes import fix_roots, fix_unit

    by_path = {u.path: u for u in units}
    roots = fix_roots(paths, cwd or Path.cwd())
    out = []
    fixed = 0
    by_rule: Counter[str] = Counter()
    diffs = []
    for result in results:
        unit = by_path.get(result.path)
        if unit is None:
            out.append(result)
            continue
        outcome = fix_unit(unit, result, ruleset, unsafe=unsafe, write=write, roots=roots)
        out.append(outcome.result)
        fixed += outcome.fixed
        if outcome.fixed:
            by_rule.update(Counter(f.rule_id for f in result.findings) - Counter(f.rule_id for f in outcome.result.findings))
        diffs.append(outcome.diff)
        if not write:
            for note in outcome.notices:
                print(f"{note.level}: {note.message}", file=sys.stderr)
    return out, fixed, "".join(diffs), dict(by_rule)


def _apply_baseline(findings: list[Finding], path: Path) -> list[Finding]:
    from linter.core.model import Suppression
    from linter.report.formats import fingerprints

    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        known = {
            res.get("partialFingerprints", {}).get("pitfall/v1")
            for run in doc.get("runs", [])
            for res in run.get("results", [])
        }
    except (OSError, ValueError, AttributeError) as exc:
        raise PackError(path, None, "--baseline", f"not a readable SARIF report: {exc}") from None
    out = []
    for f, fp in zip(findings, fingerprints(findings)):
        if f.suppression is None and fp in known:
            f = replace(f, suppression=Suppression("external", f"in baseline {path.name}", "baseline"))
        out.append(f)
    return out


def _rules(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from linter.report.docs import expected_docs, rule_page, write_docs

    settings = _settings(args)
    extra = [Path(d) for d in getattr(args, "dirs", []) or []]
    packs = load_packs([Path(p) for p in settings.packs] + extra, dict(settings.pack_versions), config_path=settings.config_path, trust_code=args.trust_pack_code)
    rules = sorted((r for p in packs for r in p.rules), key=lambda r: r.id)
    cmd = args.rules_command
    if cmd == "list":
        if args.format == "json":
            print(json.dumps([{"id": r.id, "name": r.name, "pack": r.pack, "target": r.target, "severity": r.severity, "status": r.status, "opt_in": r.opt_in, "tags": list(r.tags)} for r in rules], indent=2))
        else:
            for r in rules:
                print(f"{r.id}  {r.name:<45} {r.target:<10} {r.severity:<7} {r.status}{' (opt-in)' if r.opt_in else ''}")
        return EXIT_CLEAN
    if cmd == "show":
        for r in rules:
            if args.rule in (r.id, r.name):
                print(rule_page(r), end="")
                return EXIT_CLEAN
        print(f"pitfall: error: no rule `{args.rule}`", file=sys.stderr)
        return EXIT_ERROR
    if cmd == "docs":
        out = Path(args.out)
        if args.check:
            want = expected_docs(packs)
            stale = [n for n, t in want.items() if not (out / n).is_file() or (out / n).read_text(encoding="utf-8") != t]
            extra_files = sorted(p.name for p in out.glob("*.md") if p.name not in want) if out.is_dir() else []
            for n in stale + extra_files:
                print(f"{out / n}: out of date (run `pitfall rules docs`)", file=sys.stderr)
            return EXIT_FINDINGS if stale or extra_files else EXIT_CLEAN
        for path in write_docs(packs, out):
            print(f"wrote {path}")
        return EXIT_CLEAN
    if cmd == "test":
        from linter.core.testing import ExampleFailure, check_case, iter_example_cases

        chosen = [p for p in packs if not extra or any(Path(p.path).resolve() == d.resolve() or d.resolve() in Path(p.path).resolve().parents for d in extra)]
        passed = failed = 0
        for case in iter_example_cases(chosen):
            try:
                check_case(case, packs)
                passed += 1
            except ExampleFailure as exc:
                failed += 1
                print(f"FAIL {case.id}: {exc}")
        print(f"{passed} passed, {failed} failed")
        return EXIT_FINDINGS if failed else EXIT_CLEAN
    parser.parse_args(["rules", "--help"])
    return EXIT_ERROR


def _stats(args: argparse.Namespace) -> int:
    """``pitfall stats``: SARIF logs when every path names one, else a scan of the paths."""
    from linter.report.feedback import SarifError, count, from_sarif, render

    logs = [Path(p) for p in args.paths]
    if not logs or not all(p.name.endswith((".sarif", ".sarif.json")) for p in logs):
        return _check(args)
    try:
        items, fixed = from_sarif(logs)
    except SarifError as exc:
        print(f"pitfall: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    sys.stdout.write(render(count(items, fixed), _settings(args).feedback, args.format))
    return EXIT_CLEAN


def _verify(args: argparse.Namespace) -> int:
    """``pitfall verify``: 0 when every required pack ran and passed, 1 when not, 2 for a bad file."""
    from linter.report.attest import verify
    from linter.core.packs import schema_validator

    path = Path(args.attestation)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"pitfall: error: {path}: not a readable attestation ({exc})", file=sys.stderr)
        return EXIT_ERROR
    error = next(iter(sorted(schema_validator("attestation").iter_errors(doc), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        print(f"pitfall: error: {path}: {error.message} (key `{where}`)", file=sys.stderr)
        return EXIT_ERROR
    try:
        problems = verify(doc, args.require)
    except ValueError as exc:
        print(f"pitfall: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    for problem in problems:
        print(f"{path}: {problem}")
    if not problems:
        from packaging.requirements import Requirement

        wanted = {Requirement(r).name for r in args.require}
        ran = ", ".join(f"{p['name']} {p['version']}" for p in doc["packs"] if p["name"] in wanted)
        print(f"{path}: passed{': ' + ran if ran else ''}")
    return EXIT_FINDINGS if problems else EXIT_CLEAN


def _packs(args: argparse.Namespace) -> int:
    settings = _settings(args)
    packs = load_packs([Path(p) for p in settings.packs], dict(settings.pack_versions), config_path=settings.config_path, trust_code=args.trust_pack_code)
    declared = declared_dependencies(Path(settings.root), wanted_by(packs)) if any(p.applies_to for p in packs) else []
    if args.action == "lock":
        from linter.core.packs import LOCK_NAME, lock_document

        target = Path(settings.root) / LOCK_NAME
        target.write_text(json.dumps(lock_document([p for p in packs if pack_applies(p, declared)]), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {target}")
        return EXIT_CLEAN
    for p in sorted(packs, key=lambda p: p.name):
        origin = p.origin if p.origin != "folder" else p.path
        state = "active" if pack_applies(p, declared) else "inactive"
        print(f"{p.name} {p.version}  {p.prefix}  {len(p.rules)} rules  {state}{'' if p.applies_to else ' (always)'}  [{origin}]")
        for spec in p.applies_to:
            ok, evidence = satisfied(spec, declared)
            if evidence:
                said = "; ".join(f"{d.source}: {d.requirement}" + (f" (locked {d.pinned})" if d.pinned else "") for d in evidence[:3])
                more = f" and {len(evidence) - 3} more" if len(evidence) > 3 else ""
                print(f"    applies-to {spec}: {'satisfied' if ok else 'not satisfied'} by {said}{more}")
            else:
                print(f"    applies-to {spec}: not declared by the project (pyproject.toml, requirements, setup.cfg/setup.py, Pipfile or a lock file)")
    if any(not p.applies_to for p in packs):
        print("(always: a pack without applies-to; its rules fire only where a file imports the modules they know)")
    return EXIT_CLEAN
