#!/usr/bin/env python3
"""Review chart findings by hand: where each one is reported, and whether its values hint is right.

    python bench/chart_review.py run ../charts                  # lint each chart repository
    python bench/chart_review.py sample --count 60              # print a seeded sample to judge
    python bench/chart_review.py score                          # the table from the labels

``run`` lints every repository of the ``[charts]`` group of ``bench/corpus.toml`` (extracted by
``bench/review.py prepare`` or by hand into ``<corpus>/<owner>+<name>``) with every rule, from
inside the repository, and saves the JSON reports under ``--results``.

``sample`` draws a seeded random sample of the findings that come from rendering a chart (the
ones with a "rendered ..." position) and prints, for each: the reported file and line with the
template lines around it, the message with its hint, and the related locations (the values line
with its neighbours). Judge each by reading the template, as the chart's maintainer would:

- ``line``: ``yes`` when the reported line is the one that writes the offending key for that
  object and that container (or the ``include``/``toYaml`` line that emits it, or, for a key that
  is missing, the deepest key of that object or container that the chart does write), else ``no``;
- ``hint``: ``none`` (no hint), ``right`` (setting that key to that value in values.yaml removes
  the finding and nothing else is needed) or ``wrong``;
- ``exists`` is filled in by the script (does the reported file exist).

Labels live in ``bench/labels-charts.csv`` (repository, commit, path, line, rule, line_ok, hint,
exists, reason); a label applies to the finding with the same repository, commit, path, line
and rule. ``score`` prints the share on the right line, wrong hints and missing paths.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

BENCH = Path(__file__).resolve().parent
MANIFEST = BENCH / "corpus.toml"
LABELS = BENCH / "labels-charts.csv"
FIELDS = ["repository", "commit", "path", "line", "rule", "line_ok", "hint", "exists", "reason"]


@dataclass(frozen=True)
class Found:
    repository: str
    commit: str
    path: str
    line: int
    column: int
    rule: str
    message: str
    related: tuple[tuple[str, int | None, str], ...]

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.repository, self.commit, self.path, self.line, self.rule)


def charts() -> dict[str, str]:
    return dict(tomllib.loads(MANIFEST.read_text(encoding="utf-8")).get("charts", {}))


def folder(corpus: Path, repository: str) -> Path:
    return corpus / repository.replace("/", "+")


def run(corpus: Path, results: Path, pitfall: list[str]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    for repository in charts():
        where = folder(corpus, repository)
        if not where.is_dir():
            print(f"{repository}: not in the corpus ({where})", file=sys.stderr)
            continue
        out = results / f"{where.name}.json"
        command = [*pitfall, "check", ".", "--select", "ALL", "--format", "json", "--output", str(out.resolve()), "--exit-zero", "--no-cache"]
        proc = subprocess.run(command, cwd=where, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{repository}: {shlex.join(command)} exited {proc.returncode}\n{proc.stderr}")


def load(results: Path) -> list[Found]:
    out: list[Found] = []
    for repository, commit in charts().items():
        path = results / f"{repository.replace('/', '+')}.json"
        if not path.exists():
            continue
        for f in json.loads(path.read_text(encoding="utf-8"))["findings"]:
            related = tuple((r["filename"], r.get("row"), r["message"]) for r in f.get("related") or ())
            if f.get("suppression") or not any(m.startswith("rendered ") for _, _, m in related):
                continue
            loc = f["location"]
            out.append(Found(repository, commit, f["filename"].removeprefix("./"), loc["row"], loc["column"], f["code"], f["message"], related))
    return out


def lines_around(path: Path, line: int, radius: int = 4) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        return f"    (cannot read: {exc})"
    lo, hi = max(1, line - radius), min(len(text), line + radius)
    return "\n".join(f"{'>>' if n == line else '  '} {n:5} | {text[n - 1]}" for n in range(lo, hi + 1))


def draw(found: list[Found], count: int, seed: int) -> list[Found]:
    ordered = sorted(found, key=lambda f: (f.repository, f.path, f.line, f.rule, f.message))
    return sorted(random.Random(seed).sample(ordered, min(count, len(ordered))), key=lambda f: (f.repository, f.path, f.line, f.rule))


def sample(corpus: Path, results: Path, count: int, seed: int) -> None:
    for i, f in enumerate(draw(load(results), count, seed), 1):
        root = folder(corpus, f.repository)
        print(f"=== {i}. {f.repository} {f.path}:{f.line}:{f.column} {f.rule}")
        print(f"    {f.message}")
        print(lines_around(root / f.path, f.line))
        for path, row, message in f.related:
            print(f"    related: {path}:{row if row else '-'} {message}")
            if row and not message.startswith("rendered "):
                print(lines_around(root / path, row, 2))
        print()


def score(corpus: Path, results: Path, labels_path: Path, count: int, seed: int) -> int:
    labels: dict[tuple[str, str, str, int, str], dict[str, str]] = {}
    if labels_path.exists():
        with labels_path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                labels[(row["repository"], row["commit"], row["path"], int(row["line"]), row["rule"])] = row
    picked = draw(load(results), count, seed)
    judged = [(f, labels[f.key]) for f in picked if f.key in labels]
    missing = [f for f in picked if f.key not in labels]
    right = sum(1 for _, lab in judged if lab["line_ok"] == "yes")
    hints = [lab["hint"] for _, lab in judged]
    gone = sum(1 for f in picked if not (folder(corpus, f.repository) / f.path).exists())
    print(f"sample: {len(picked)} findings (seed {seed}), labelled {len(judged)}")
    if judged:
        print(f"right line of the right object and container: {right}/{len(judged)} ({100 * right / len(judged):.0f} %)")
        print(f"hints: {hints.count('right')} right, {hints.count('wrong')} wrong, {hints.count('none')} none")
    print(f"reported paths that do not exist: {gone}")
    for f in missing:
        print(f"unlabelled: {f.repository},{f.commit},{f.path},{f.line},{f.rule}")
    return 1 if missing else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = ap.add_subparsers(dest="command", required=True)
    for name in ("run", "sample", "score"):
        s = sub.add_parser(name)
        s.add_argument("corpus", type=Path, nargs="?", default=Path(os.environ.get("PITFALL_CHARTS", BENCH.parent.parent / "charts")))
        s.add_argument("--results", type=Path, default=BENCH / ".work" / "chart-review")
        s.add_argument("--count", type=int, default=60)
        s.add_argument("--seed", type=int, default=2026)
        s.add_argument("--labels", type=Path, default=LABELS)
        s.add_argument("--pitfall", default=shlex.quote(str(Path(sys.executable).parent / "pitfall")), help="pitfall command prefix")
    args = ap.parse_args(argv)
    if args.command == "run":
        run(args.corpus, args.results, shlex.split(args.pitfall))
        return 0
    if args.command == "sample":
        sample(args.corpus, args.results, args.count, args.seed)
        return 0
    return score(args.corpus, args.results, args.labels, args.count, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
