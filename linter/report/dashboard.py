"""``pitfall report --html OUT.html LOG.sarif...``: a quality dashboard from SARIF logs.

The logs are those ``pitfall check --format sarif`` writes: the history of one repository (a log a
commit, from CI), or the latest log of many repositories (a platform team collecting each
service's CI artifact), or both. Nothing but the named logs is read and nothing is fetched: the
page is one HTML file with its styles and plotly's JavaScript inlined.

What the page counts (:func:`build` computes it, :func:`render` draws it):

- runs are grouped by repository: ``versionControlProvenance[0].repositoryUri``, else the
  run's ``%SRCROOT%`` (``originalUriBaseIds``), else the log's file name; a repository's runs are
  ordered by the time they record (``invocations[0].startTimeUtc``/``endTimeUtc``, else the time
  of the commit they ran on, ``versionControlProvenance[0].asOfTimeUtc``, which pitfall writes)
  when every one of them records one, else in the order the logs were given;
- a finding is followed across a repository's runs by its ``partialFingerprints["pitfall/v1"]``;
  it is *fixed* when it was open (not suppressed) and a later run that still ran its rule no
  longer reports it; time to fix counts the runs (and, when the runs record times, the time)
  from the first run that reported it to the first that did not;
- a suppression's kind is the start of its justification (``false-positive:``, ``accepted:``,
  else ``other``, as ``pitfall stats`` counts it); the suppression and false-positive rates are
  per distinct finding, as each last stood;
- pass status is the run's ``properties["pitfall/passed"]`` and, per pack and version,
  ``properties["pitfall/packs"]``.
"""

from __future__ import annotations

import html
import json
import re
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from linter.report.feedback import suppression_kind

INSTALL_HINT = "pip install 'pitfall-lint[dashboard]'"
STATES = ("open", "false-positive", "accepted", "other")
_MAX_LOG_SIZE = 512 * 1024 * 1024


class DashboardError(Exception):
    """A user error: one line naming the file or option and the cause."""


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Result:
    rule: str
    fingerprint: str
    state: str  # "open" | "false-positive" | "accepted" | "other"
    path: str


@dataclass
class Run:
    log: str  # the file as given
    position: int  # order among the runs as given (file, then run in the file)
    repository: str
    commit: str | None
    time: datetime | None
    tool_version: str
    packs: dict[str, str]  # pack name -> version
    pack_passed: dict[str, bool]
    passed: bool | None
    fail_on: str | None
    active_rules: frozenset[str] | None  # the rules the run ran; None when the log does not say
    results: list[Result]
    index: int = 0  # 1-based position in its repository's ordered history
    label: str = ""

    def count(self, state: str | None = None, pack: str | None = None, rules: dict[str, RuleInfo] | None = None) -> int:
        return sum(
            1
            for r in self.results
            if (state is None or r.state == state) and (pack is None or (rules or {}).get(r.rule, _NO_RULE).pack == pack)
        )


@dataclass(frozen=True)
class RuleInfo:
    id: str
    name: str
    pack: str
    summary: str


_NO_RULE = RuleInfo("", "", "", "")


@dataclass
class Track:
    """One finding followed across the ordered runs of its repository."""

    repository: str
    fingerprint: str
    rule: str
    pack: str
    pack_version: str  # at its last sighting
    first: Run
    last: Run
    state: str  # at its last sighting
    fixed_in: Run | None = None

    @property
    def runs_to_fix(self) -> int | None:
        return None if self.fixed_in is None else self.fixed_in.index - self.first.index

    @property
    def time_to_fix(self) -> timedelta | None:
        if self.fixed_in is None or self.fixed_in.time is None or self.first.time is None:
            return None
        return self.fixed_in.time - self.first.time


@dataclass
class Row:
    """The counts of a group of findings (a rule, or a pack version)."""

    key: str
    title: str
    pack: str
    versions: list[str] = field(default_factory=list)
    findings: int = 0  # distinct findings, suppressed or not
    states: Counter[str] = field(default_factory=Counter)  # as each last stood
    open_now: int = 0  # open in the latest run of its repository
    fixed: int = 0
    runs_to_fix: list[int] = field(default_factory=list)
    time_to_fix: list[timedelta] = field(default_factory=list)
    repositories: set[str] = field(default_factory=set)

    @property
    def suppressed(self) -> int:
        return self.findings - self.states["open"]

    @property
    def suppression_rate(self) -> float:
        return self.suppressed / self.findings if self.findings else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.states["false-positive"] / self.findings if self.findings else 0.0

    @property
    def median_runs_to_fix(self) -> float | None:
        return statistics.median(self.runs_to_fix) if self.runs_to_fix else None

    @property
    def median_time_to_fix(self) -> timedelta | None:
        # statistics.median, spelled out: typeshed types it for numbers only, not timedelta
        if not self.time_to_fix:
            return None
        ordered = sorted(self.time_to_fix)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class Dashboard:
    histories: dict[str, list[Run]]  # repository -> its runs, ordered
    rules: dict[str, RuleInfo]
    tracks: list[Track]
    by_rule: list[Row]
    by_pack: list[Row]

    @property
    def runs(self) -> list[Run]:
        return [r for runs in self.histories.values() for r in runs]

    def latest(self, repository: str) -> Run:
        return self.histories[repository][-1]


# --------------------------------------------------------------------------- reading


def _get(obj: Any, *keys: str | int) -> Any:
    for key in keys:
        if isinstance(key, int):
            obj = obj[key] if isinstance(obj, list) and -len(obj) <= key < len(obj) else None
        else:
            obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def _time(value: Any, where: str) -> datetime | None:
    if value is None:
        return None
    text = str(value).strip()
    text = _FRACTION.sub(lambda m: (m.group(1) + "00000")[:7], text)  # Python 3.10 takes 3 or 6 digits
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise DashboardError(f"{where} `{value}` is not a date-time (such as 2026-01-31T12:00:00Z)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _repository(run: dict[str, Any], log: Path) -> str:
    uri = _str(_get(run, "versionControlProvenance", 0, "repositoryUri"))
    if uri:
        uri = uri.rstrip("/")
        return uri[: -len(".git")] if uri.endswith(".git") else uri
    bases = _get(run, "originalUriBaseIds")
    for key in ("%SRCROOT%", "SRCROOT"):
        root = _str(_get(bases, key, "uri"))
        if root:
            return root.rstrip("/")
    return log.name


def _result(item: Any, where: str) -> Result | None:
    if not isinstance(item, dict):
        raise DashboardError(f"{where} is not an object")
    rule = _str(item.get("ruleId")) or _str(_get(item, "rule", "id"))
    if rule is None:
        return None
    path = _str(_get(item, "locations", 0, "physicalLocation", "artifactLocation", "uri")) or ""
    raw_prints = item.get("partialFingerprints")
    prints: dict[str, Any] = raw_prints if isinstance(raw_prints, dict) else {}
    fingerprint = _str(prints.get("pitfall/v1"))
    if fingerprint is None:  # a log of another writer: the upload action's line hash, else the message
        line_hash = _str(prints.get("primaryLocationLineHash"))
        fingerprint = "\x1f".join((rule, path, line_hash or str(_get(item, "message", "text"))))
    state = "open"
    suppressions = item.get("suppressions")
    if isinstance(suppressions, list) and suppressions:
        accepted = [s for s in suppressions if isinstance(s, dict) and s.get("status", "accepted") == "accepted"]
        if accepted:
            state = suppression_kind(_str(accepted[0].get("justification")))
    return Result(rule, fingerprint, state, path)


def read_log(path: Path, position: int) -> tuple[list[Run], dict[str, RuleInfo]]:
    """The runs of one SARIF log; raises DashboardError naming ``path`` and the cause."""
    if path.is_dir():
        raise DashboardError(f"{path}: is a folder, not a SARIF log")
    if not path.exists():
        raise DashboardError(f"{path}: no such file")
    if not path.is_file():
        raise DashboardError(f"{path}: not a regular file")
    try:
        if path.stat().st_size > _MAX_LOG_SIZE:
            raise DashboardError(f"{path}: over {_MAX_LOG_SIZE // (1024 * 1024)} MiB, too large for a SARIF log")
        data = path.read_bytes()
    except OSError as exc:
        raise DashboardError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DashboardError(f"{path}: not a SARIF log (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise DashboardError(f"{path}: not a SARIF log (invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise DashboardError(f"{path}: not a SARIF log (JSON nested too deeply)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise DashboardError(f"{path}: not a SARIF log (no `runs` list at the top level)")
    runs: list[Run] = []
    rules: dict[str, RuleInfo] = {}
    for n, run in enumerate(doc["runs"]):
        where = f"{path}: runs[{n}]"
        if not isinstance(run, dict):
            raise DashboardError(f"{where} is not an object")
        driver = _get(run, "tool", "driver")
        active: set[str] | None = None
        if isinstance(_get(driver, "rules"), list):
            active = set()
            for desc in driver["rules"]:
                rid = _str(_get(desc, "id"))
                if rid is None:
                    continue
                active.add(rid)
                rules.setdefault(rid, RuleInfo(
                    rid, _str(_get(desc, "name")) or "", _str(_get(desc, "properties", "pack")) or "",
                    _str(_get(desc, "shortDescription", "text")) or "",
                ))
        items = run.get("results")
        if items is not None and not isinstance(items, list):
            raise DashboardError(f"{where}.results is not a list")
        results = [r for i, item in enumerate(items or ()) if (r := _result(item, f"{where}.results[{i}]")) is not None]
        raw_props = run.get("properties")
        props: dict[str, Any] = raw_props if isinstance(raw_props, dict) else {}
        packs: dict[str, str] = {}
        passed_by_pack: dict[str, bool] = {}
        for entry in props.get("pitfall/packs") or ():
            name = _str(_get(entry, "name"))
            if name:
                packs[name] = str(_get(entry, "version") or "")
                if isinstance(_get(entry, "passed"), bool):
                    passed_by_pack[name] = entry["passed"]
        if not packs and isinstance(props.get("packs"), dict):
            packs = {str(k): str(v) for k, v in props["packs"].items()}
        if not packs:
            packs = {str(_get(e, "name")): str(_get(e, "version") or "") for e in _get(run, "tool", "extensions") or () if _str(_get(e, "name"))}
        invocation = _get(run, "invocations", 0)
        stamp = _get(invocation, "startTimeUtc") or _get(invocation, "endTimeUtc") or _get(run, "versionControlProvenance", 0, "asOfTimeUtc")
        passed = props.get("pitfall/passed")
        runs.append(Run(
            log=str(path),
            position=position + n,
            repository=_repository(run, path),
            commit=_str(_get(run, "versionControlProvenance", 0, "revisionId")),
            time=_time(stamp, f"{where}.invocations[0] time"),
            tool_version=_str(_get(driver, "version")) or "",
            packs=packs,
            pack_passed=passed_by_pack,
            passed=passed if isinstance(passed, bool) else None,
            fail_on=_str(props.get("pitfall/fail-on")),
            active_rules=frozenset(active) if active is not None else None,
            results=results,
        ))
    return runs, rules


# --------------------------------------------------------------------------- computing


def build(paths: Sequence[Path]) -> Dashboard:
    runs: list[Run] = []
    rules: dict[str, RuleInfo] = {}
    for path in paths:
        more, described = read_log(path, len(runs))
        runs.extend(more)
        for rid, info in described.items():
            rules.setdefault(rid, info)
    if not runs:
        raise DashboardError(f"{', '.join(str(p) for p in paths)}: no runs in the SARIF log(s)")
    grouped: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        grouped[run.repository].append(run)
    histories: dict[str, list[Run]] = {}
    for repo in sorted(grouped):
        history = grouped[repo]
        if all(r.time is not None for r in history):
            history.sort(key=lambda r: (r.time, r.position))
        else:
            history.sort(key=lambda r: r.position)
        for i, run in enumerate(history, 1):
            run.index = i
            run.label = f"#{i}" + (f" {run.commit[:8]}" if run.commit else "")
        histories[repo] = history
    tracks = _follow(histories, rules)
    return Dashboard(histories, rules, tracks, _rows(tracks, histories, rules, by="rule"), _rows(tracks, histories, rules, by="pack"))


def _follow(histories: dict[str, list[Run]], rules: dict[str, RuleInfo]) -> list[Track]:
    tracks: list[Track] = []
    for repo, history in histories.items():
        alive: dict[str, Track] = {}
        for run in history:
            seen = set()
            for result in run.results:
                if result.fingerprint in seen:
                    continue
                seen.add(result.fingerprint)
                pack = rules.get(result.rule, _NO_RULE).pack
                track = alive.get(result.fingerprint)
                if track is None:
                    track = Track(repo, result.fingerprint, result.rule, pack, run.packs.get(pack, ""), run, run, result.state)
                    alive[result.fingerprint] = track
                    tracks.append(track)
                track.last, track.state, track.pack_version = run, result.state, run.packs.get(pack, track.pack_version)
            for fingerprint, track in list(alive.items()):
                if fingerprint in seen or (run.active_rules is not None and track.rule not in run.active_rules):
                    continue  # still there, or its rule did not run: not known to be gone
                if track.state == "open":
                    track.fixed_in = run
                del alive[fingerprint]
    return tracks


def _rows(tracks: list[Track], histories: dict[str, list[Run]], rules: dict[str, RuleInfo], *, by: str) -> list[Row]:
    rows: dict[str, Row] = {}
    for t in tracks:
        key = t.rule if by == "rule" else f"{t.pack or '(no pack)'} {t.pack_version}".strip()
        info = rules.get(t.rule, _NO_RULE)
        row = rows.get(key)
        if row is None:
            title = info.name if by == "rule" else ""
            row = rows[key] = Row(key, title, t.pack)
        if t.pack_version and t.pack_version not in row.versions:
            row.versions.append(t.pack_version)
        row.findings += 1
        row.states[t.state] += 1
        row.repositories.add(t.repository)
        latest = histories[t.repository][-1]
        if t.last is latest and t.state == "open":
            row.open_now += 1
        if t.fixed_in is not None:
            row.fixed += 1
            row.runs_to_fix.append(t.runs_to_fix or 0)
            if t.time_to_fix is not None:
                row.time_to_fix.append(t.time_to_fix)
    return sorted(rows.values(), key=lambda r: (-r.findings, r.key))


# --------------------------------------------------------------------------- drawing


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _label(value: str) -> str:
    """Text for a plot: plotly reads a few HTML tags in labels, so the log's text goes in escaped."""
    return html.escape(value, quote=False)


def _script_json(text: str) -> str:
    """JSON text safe inside a <script> element (``<`` and friends only occur in its strings)."""
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return text


def _pct(value: float) -> str:
    return f"{value:.0%}"


def _duration(value: timedelta | None) -> str:
    if value is None:
        return "–"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {rest // 60} min"
    return f"{rest // 60} min" if rest >= 60 else f"{rest} s"


def _runs(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:g} run" + ("" if value == 1 else "s")


def _status(passed: bool | None) -> str:
    if passed is None:
        return '<span class="unknown">unknown</span>'
    return '<span class="pass">passed</span>' if passed else '<span class="fail">failed</span>'


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#c9d1d9}
main{padding:8px 28px 40px;max-width:1400px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:12px 18px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.unknown{color:#6e7781}
.pack{display:inline-block;margin:1px 4px 1px 0;padding:0 6px;border-radius:10px;font-size:12px;border:1px solid #d0d7de}
.pack.ok{background:#dafbe1}.pack.ko{background:#ffebe9}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:10px}
figure{margin:0}figcaption{font-weight:600;margin:8px 0 0 8px}.plot{min-height:340px}small,.note{color:#57606a}code{font-size:12px}
"""

_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}


class _Page:
    def __init__(self) -> None:
        self.figures: list[tuple[str, str]] = []

    def plot(self, fig: Any) -> str:
        """The figure's place on the page, its title a heading above it (not under the mode bar)."""
        div = f"plot{len(self.figures)}"
        title = fig.layout.title.text or ""
        fig.update_layout(title_text="", margin_t=30)
        self.figures.append((div, _script_json(fig.to_json())))
        return f'<figure><figcaption>{_e(title)}</figcaption><div class="plot" id="{div}"></div></figure>'


def render(board: Dashboard, *, title: str = "pitfall quality dashboard") -> str:
    """The page: one HTML document with its styles and plotly's JavaScript inlined."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    page = _Page()
    runs = board.runs
    parts: list[str] = []
    repos = list(board.histories)
    tools = sorted({r.tool_version for r in runs if r.tool_version})
    newest = max((r.time for r in runs if r.time is not None), default=None)
    summary = (
        f"{len(runs)} run(s) of {len(repos)} repositor{'y' if len(repos) == 1 else 'ies'} from "
        f"{len({r.log for r in runs})} SARIF log(s); pitfall {', '.join(tools) or 'version unknown'}"
        + (f"; newest run {newest:%Y-%m-%d %H:%M} UTC" if newest else "")
    )
    layout = {"template": "plotly_white", "height": 340, "margin": {"l": 50, "r": 20, "t": 40, "b": 40}, "legend": {"orientation": "h", "y": -0.2}}

    # repositories: pass status of the latest run
    rows = []
    for repo in repos:
        last = board.latest(repo)
        packs = " ".join(
            f'<span class="pack {"ok" if last.pack_passed.get(n, True) else "ko"}" title="{"passed" if last.pack_passed.get(n, True) else "failed"}">{_e(n)} {_e(v)}</span>'
            for n, v in sorted(last.packs.items())
        )
        rows.append(
            f"<tr><td><code>{_e(repo)}</code></td><td class=n>{len(board.histories[repo])}</td><td><code>{_e((last.commit or '–')[:12])}</code></td>"
            f"<td>{_e(f'{last.time:%Y-%m-%d %H:%M}') if last.time else '–'}</td><td>{_status(last.passed)}</td><td>{_e(last.fail_on or '–')}</td>"
            f"<td class=n>{last.count('open')}</td><td class=n>{len(last.results) - last.count('open')}</td><td>{packs}</td></tr>"
        )
    parts.append(
        "<section><h2>Repositories</h2><p class=note>The latest run of each repository: pass status at its fail-on level, "
        "open and suppressed findings, and each pack that ran with its version (red: the pack failed).</p>"
        "<table><tr><th>repository</th><th>runs</th><th>commit</th><th>time (UTC)</th><th>status</th><th>fail-on</th>"
        "<th>open</th><th>suppressed</th><th>packs</th></tr>" + "".join(rows) + "</table>"
    )
    if len(repos) > 1:
        packs_seen = sorted({board.rules.get(r.rule, _NO_RULE).pack or "(no pack)" for repo in repos for r in board.latest(repo).results})
        fig = go.Figure(layout={**layout, "title": "Open findings per repository and pack (latest runs)", "barmode": "stack"})
        names = [_short(repo) for repo in repos]
        names = [_label(n) for n in (names if len(set(names)) == len(names) else repos)]
        for pack in packs_seen:
            open_counts = [board.latest(repo).count("open", pack if pack != "(no pack)" else "", board.rules) for repo in repos]
            fig.add_trace(go.Bar(name=_label(pack), x=names, y=open_counts))
        status = [board.latest(repo).passed for repo in repos]
        fig.add_trace(go.Scatter(
            name="status", x=names, y=[0] * len(repos), mode="markers", marker={"symbol": "square", "size": 12, "color": [_colour(s) for s in status]},
            text=["passed" if s else "failed" if s is not None else "unknown" for s in status], hoverinfo="x+text",
        ))
        parts.append('<div class="plots">' + page.plot(fig) + "</div>")
    parts.append("</section>")

    # the history of each repository with more than one run
    for repo in repos:
        history = board.histories[repo]
        if len(history) < 2:
            continue
        parts.append(_history(board, repo, history, page, go, layout))

    # per rule
    rows = [
        f"<tr><td title=\"{_e(board.rules.get(r.key, _NO_RULE).summary)}\"><b>{_e(r.key)}</b> {_e(r.title)}</td><td>{_e(r.pack)} {_e(', '.join(r.versions))}</td>"
        f"<td class=n>{len(r.repositories)}</td><td class=n>{r.findings}</td><td class=n>{r.open_now}</td>"
        f"<td class=n>{_pct(r.suppression_rate)}</td><td class=n>{_pct(r.false_positive_rate)}</td><td class=n>{r.fixed}</td>"
        f"<td class=n>{_runs(r.median_runs_to_fix)}</td><td class=n>{_duration(r.median_time_to_fix)}</td></tr>"
        for r in board.by_rule
    ]
    table = _table_head(rule=True) + "".join(rows) + "</table>"
    rule_section = "<section><h2>Per rule</h2>"
    if board.by_rule:
        shown = board.by_rule[:25][::-1]
        fig = go.Figure(layout={**layout, "title": "Findings per rule, by how each last stood", "barmode": "stack", "height": max(340, 60 + 22 * len(shown))})
        for state in (*STATES, "fixed"):
            values = [r.fixed if state == "fixed" else r.states[state] - (_fixed_open(board, r.key) if state == "open" else 0) for r in shown]
            fig.add_trace(go.Bar(name=state, y=[_label(r.key) for r in shown], x=values, orientation="h", marker={"color": _STATE_COLOURS[state]}))
        fp = go.Figure(layout={**layout, "title": "Suppression and false-positive rate per rule", "barmode": "group", "yaxis": {"tickformat": ".0%", "range": [0, 1]}})
        fp.add_trace(go.Bar(name="suppression rate", x=[_label(r.key) for r in board.by_rule[:25]], y=[r.suppression_rate for r in board.by_rule[:25]], marker={"color": "#8c959f"}))
        fp.add_trace(go.Bar(name="false-positive rate", x=[_label(r.key) for r in board.by_rule[:25]], y=[r.false_positive_rate for r in board.by_rule[:25]], marker={"color": _STATE_COLOURS["false-positive"]}))
        rule_section += '<div class="plots">' + page.plot(fig) + page.plot(fp) + "</div>" + table
    else:
        rule_section += "<p>No findings in these logs.</p>"
    parts.append(rule_section + "</section>")

    # per pack version: pass status of every run that ran it, and the findings of its rules
    stats = {r.key: r for r in board.by_pack}
    passes: dict[str, list[bool | None]] = defaultdict(list)
    for run in runs:
        for name, version in run.packs.items():
            passes[f"{name} {version}".strip()].append(run.pack_passed.get(name))
    keys = sorted(set(passes) | set(stats), key=lambda k: (-(stats[k].findings if k in stats else 0), k))
    rows = []
    for key in keys:
        known = [p for p in passes.get(key, ()) if p is not None]
        passed = f"{sum(known)} of {len(known)} ({_pct(sum(known) / len(known))})" if known else "–"
        r = stats.get(key)
        counts = (
            f"<td class=n>{len(r.repositories)}</td><td class=n>{r.findings}</td><td class=n>{r.open_now}</td>"
            f"<td class=n>{_pct(r.suppression_rate)}</td><td class=n>{_pct(r.false_positive_rate)}</td><td class=n>{r.fixed}</td>"
            f"<td class=n>{_runs(r.median_runs_to_fix)}</td><td class=n>{_duration(r.median_time_to_fix)}</td>"
            if r is not None
            else "<td class=n>–</td><td class=n>0</td><td class=n>0</td><td class=n>–</td><td class=n>–</td><td class=n>0</td><td class=n>–</td><td class=n>–</td>"
        )
        rows.append(f"<tr><td>{_e(key)}</td><td class=n>{len(passes.get(key, ()))}</td><td class=n>{passed}</td>{counts}</tr>")
    parts.append(
        "<section><h2>Per pack version</h2><p class=note>Runs: the runs that ran the pack at that version; passed: those "
        "in which it passed at the run's fail-on level. The counts are of the findings of its rules.</p>"
        + _table_head(pack=True) + "".join(rows) + "</table></section>"
    )

    parts.append(
        "<section><h2>How this is counted</h2><p class=note>A finding is followed across a repository's runs by its fingerprint "
        "(<code>partialFingerprints[\"pitfall/v1\"]</code>). <b>Findings</b> are distinct findings, suppressed or not; <b>open</b> are those "
        "the latest run still reports unsuppressed. <b>Suppression rate</b> and <b>false-positive rate</b> are the share of findings whose "
        "latest suppression says so (a justification starting <code>false-positive:</code>). A finding is <b>fixed</b> when it was open and "
        "a later run that still ran its rule no longer reports it; <b>time to fix</b> counts from the first run that reported it to the first "
        "that did not, in runs and, when the logs record their times, in time. A repository's runs are ordered by their recorded times when "
        "every run has one, else in the order the logs were given.</p></section>"
    )
    scripts = "".join(
        f'<script type="application/json" id="{div}-spec">{spec}</script>' for div, spec in page.figures
    )
    draw = (
        "<script>(function(){var c=" + json.dumps(_PLOT_CONFIG) + ";document.querySelectorAll('.plot').forEach(function(d){"
        "var s=JSON.parse(document.getElementById(d.id+'-spec').textContent);Plotly.newPlot(d,s.data,s.layout,c);});})();</script>"
    )
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style><script>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>{_e(title)}</h1><p>{_e(summary)}</p></header><main>{''.join(parts)}</main>{scripts}{draw}</body></html>\n"
    )


_STATE_COLOURS = {"open": "#cf222e", "false-positive": "#bf8700", "accepted": "#8250df", "other": "#8c959f", "fixed": "#1a7f37"}


def _colour(passed: bool | None) -> str:
    return "#1a7f37" if passed else "#cf222e" if passed is not None else "#8c959f"


def _short(repo: str) -> str:
    tail = repo.rstrip("/").rsplit("/", 2)
    return "/".join(tail[-2:]) if len(tail) > 1 else repo


def _fixed_open(board: Dashboard, rule: str) -> int:
    """The fixed findings of ``rule``: counted as open when last seen, drawn as fixed."""
    return sum(1 for t in board.tracks if t.rule == rule and t.fixed_in is not None)


def _table_head(rule: bool = False, pack: bool = False) -> str:
    first = "<th>rule</th><th>pack</th>" if rule else "<th>pack version</th><th>runs</th><th>passed</th>" if pack else ""
    return (
        f"<table><tr>{first}<th>repositories</th><th>findings</th><th>open now</th><th>suppression rate</th>"
        "<th>false-positive rate</th><th>fixed</th><th>median time to fix (runs)</th><th>median time to fix</th></tr>"
    )


def _history(board: Dashboard, repo: str, history: list[Run], page: _Page, go: Any, layout: dict[str, Any]) -> str:
    timed = all(r.time is not None for r in history)
    x = [r.time.strftime("%Y-%m-%d %H:%M:%S") if timed and r.time else _label(r.label) for r in history]
    axis = {"type": "date"} if timed else {"type": "category", "title": "run (oldest first)"}
    hover = [_label(f"{r.label} {'passed' if r.passed else 'failed' if r.passed is not None else ''} {Path(r.log).name}") for r in history]
    packs = sorted({p for r in history for p in r.packs} | {board.rules.get(res.rule, _NO_RULE).pack for r in history for res in r.results} - {""})
    by_pack = go.Figure(layout={**layout, "title": "Open findings per pack", "xaxis": axis})
    for pack in packs:
        counts = [r.count("open", pack, board.rules) for r in history]
        if any(counts):
            by_pack.add_trace(go.Scatter(
                name=_label(pack), x=x, y=counts, mode="lines+markers",
                text=[_label(f"{pack} {r.packs.get(pack, '?')}") + " · " + h for r, h in zip(history, hover)],
            ))
    status = [r.passed for r in history]
    by_pack.add_trace(go.Scatter(
        name="run status", x=x, y=[0] * len(history), mode="markers", marker={"symbol": "square", "size": 11, "color": [_colour(s) for s in status]},
        text=hover, hoverinfo="x+text",
    ))
    rule_totals = Counter(res.rule for r in history for res in r.results if res.state == "open")
    by_rule = go.Figure(layout={**layout, "title": "Open findings per rule", "xaxis": axis})
    for rule, _ in rule_totals.most_common(10):
        by_rule.add_trace(go.Scatter(name=_label(rule), x=x, y=[sum(1 for res in r.results if res.rule == rule and res.state == "open") for r in history], mode="lines+markers"))
    fp = go.Figure(layout={**layout, "title": "False-positive and suppression rate per run", "xaxis": axis, "yaxis": {"tickformat": ".0%", "range": [0, 1.05]}})
    fp.add_trace(go.Scatter(name="false-positive rate", x=x, y=[r.count("false-positive") / len(r.results) if r.results else 0 for r in history], mode="lines+markers", line={"color": _STATE_COLOURS["false-positive"]}))
    fp.add_trace(go.Scatter(name="suppression rate", x=x, y=[1 - r.count("open") / len(r.results) if r.results else 0 for r in history], mode="lines+markers", line={"color": "#8c959f"}))
    rows = "".join(
        f"<tr><td>{_e(r.label)}</td><td>{_e(f'{r.time:%Y-%m-%d %H:%M}') if r.time else '–'}</td><td>{_status(r.passed)}</td>"
        f"<td class=n>{r.count('open')}</td><td class=n>{r.count('false-positive')}</td><td class=n>{len(r.results) - r.count('open') - r.count('false-positive')}</td>"
        f"<td class=n>{sum(1 for t in board.tracks if t.fixed_in is r)}</td><td><code>{_e(r.log)}</code></td></tr>"
        for r in history
    )
    return (
        f"<section><h2>History of <code>{_e(repo)}</code></h2><div class=plots>{page.plot(by_pack)}{page.plot(by_rule)}{page.plot(fp)}</div>"
        "<table><tr><th>run</th><th>time (UTC)</th><th>status</th><th>open</th><th>false-positive</th><th>other suppressed</th>"
        f"<th>fixed since the run before</th><th>log</th></tr>{rows}</table></section>"
    )


# --------------------------------------------------------------------------- command


def command(logs: Sequence[str], out: str) -> int:
    """``pitfall report --html OUT LOG...``: 0 when written, 2 for a user error (one line on stderr)."""
    try:
        target = Path(out)
        if target.is_dir():
            raise DashboardError(f"--html: `{out}` is a folder; give the path of a file to write the page to")
        if not target.parent.is_dir():
            raise DashboardError(f"--html: cannot write `{out}`: folder `{target.parent}` does not exist")
        try:
            import plotly.graph_objects  # noqa: F401
        except ImportError:
            raise DashboardError(f"--html needs the plotly package: {INSTALL_HINT}") from None
        board = build([Path(p) for p in logs])
        page = render(board)
        try:
            target.write_text(page, encoding="utf-8")
        except OSError as exc:
            raise DashboardError(f"--html: cannot write `{out}`: {exc.strerror or exc}") from None
    except DashboardError as exc:
        print(f"pitfall: error: {exc}", file=sys.stderr)
        return 2
    runs = len(board.runs)
    print(f"wrote {out}: {runs} run(s) of {len(board.histories)} repositor{'y' if len(board.histories) == 1 else 'ies'}", file=sys.stderr)
    return 0
