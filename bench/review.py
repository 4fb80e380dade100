#!/usr/bin/env python3
"""The review loop on real code: run pitfall over the development corpus, count, sample, score.

    python bench/review.py prepare --mirrors ../.mirror --dest ../corpus
    python bench/review.py run ../corpus                 # counts, sample, precision
    python bench/review.py run ../corpus --results bench/.work/review-after
    python bench/review.py score --results bench/.work/review-after   # reuse saved results

``prepare`` extracts each repository of ``bench/corpus.toml`` at its pinned commit from a local
mirror (``<mirrors>/<owner>+<name>/repo``, a bare git directory) into ``<dest>/<owner>+<name>``.
``run`` lints every repository folder of the corpus with every rule (``--select ALL``, JSON),
from inside the repository so paths are the repository's own, saves the JSON under
``--results`` and then scores it like ``score``.

Scoring prints the findings per rule and repository, then a seeded random sample (at most
``--per-rule`` findings of each rule, the same seed giving the same sample for the same
findings) with the verdict of each sampled finding from the labels file, and precision per
rule over the labelled sample: TP / (TP + FP); ``debatable`` verdicts are shown beside it and
counted against the rule in the strict figure. Sampled findings without a label are listed
(``--unlabelled FILE`` writes them as CSV rows to fill in).

The labels file (``bench/labels.csv``) has the columns repository, commit, path, line, rule,
verdict (TP, FP or debatable) and reason. A label applies to a finding of the same rule on
the same line of the same file of the same repository at the same commit.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

BENCH = Path(__file__).resolve().parent
MANIFEST = BENCH / "corpus.toml"
LABELS = BENCH / "labels.csv"
FIELDS = ["repository", "commit", "path", "line", "rule", "verdict", "reason"]
VERDICTS = ("TP", "FP", "debatable")


@dataclass(frozen=True)
class Found:
    repository: str
    commit: str
    path: str
    line: int
    rule: str
    message: str

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        return (self.repository, self.commit, self.path, self.line, self.rule)


def manifest() -> dict[str, str]:
    """{"owner/name": commit} of every repository in the corpus."""
    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    for group in data.values():
        out.update(group)
    return out


def folder_name(repository: str) -> str:
    return repository.replace("/", "+")


def prepare(mirrors: Path, dest: Path) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    for repository, commit in manifest().items():
        git_dir = mirrors / folder_name(repository) / "repo"
        target = dest / folder_name(repository)
        if target.exists():
            print(f"{repository}: {target} exists, kept")
            continue
        if not git_dir.is_dir():
            print(f"{repository}: no mirror at {git_dir}", file=sys.stderr)
            return 1
        missing = extract(git_dir, commit, target)
        if missing is None:
            return 1
        if missing:
            print(f"{repository}: {len(missing)} file(s) absent from the snapshot, skipped: {', '.join(missing[:5])}", file=sys.stderr)
        print(f"{repository}: {commit} -> {target}")
    return 0


def extract(git_dir: Path, commit: str, target: Path) -> list[str] | None:
    """Write the files of ``commit`` under ``target``; blobs the snapshot lacks (it may leave out
    files over 4 MiB) are skipped and their paths returned. None when the commit is unreadable."""
    listing = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", commit], capture_output=True, check=False)
    if listing.returncode != 0:
        print(f"{git_dir}: {listing.stderr.decode(errors='replace').strip()}", file=sys.stderr)
        return None
    entries = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":
            entries.append((sha.decode(), name.decode("utf-8", "surrogateescape")))
    missing: list[str] = []
    target.mkdir(parents=True, exist_ok=True)
    with subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as batch:
        assert batch.stdin is not None and batch.stdout is not None
        for sha, name in entries:
            batch.stdin.write(sha.encode() + b"\n")
            batch.stdin.flush()
            header = batch.stdout.readline().split()
            if len(header) < 3 or header[1] == b"missing":
                missing.append(name)
                continue
            data = batch.stdout.read(int(header[2]) + 1)[:-1]
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        batch.stdin.close()
    return missing


def run(corpus: Path, results: Path, pitfall: list[str]) -> None:
    results.mkdir(parents=True, exist_ok=True)
    for repository in manifest():
        folder = corpus / folder_name(repository)
        if not folder.is_dir():
            print(f"{repository}: not in the corpus ({folder}); run `prepare` first", file=sys.stderr)
            continue
        out = results / f"{folder_name(repository)}.json"
        command = [*pitfall, "check", ".", "--select", "ALL", "--format", "json", "--output", str(out.resolve()), "--exit-zero"]
        proc = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{repository}: {shlex.join(command)} exited {proc.returncode}\n{proc.stderr}")
        if proc.stderr.strip():
            print(f"{repository} (stderr): {proc.stderr.strip()[:2000]}", file=sys.stderr)


def load_findings(results: Path) -> list[Found]:
    pins = manifest()
    found: list[Found] = []
    for repository, commit in pins.items():
        path = results / f"{folder_name(repository)}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        for f in data["findings"]:
            if f.get("suppression"):
                continue
            found.append(
                Found(repository, commit, f["filename"].removeprefix("./"), f["location"]["row"], f["code"], f["message"])
            )
    return found


def load_labels(path: Path) -> dict[tuple[str, str, str, int, str], tuple[str, str]]:
    labels: dict[tuple[str, str, str, int, str], tuple[str, str]] = {}
    if not path.exists():
        return labels
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            verdict = (row.get("verdict") or "").strip()
            if verdict not in VERDICTS:
                raise SystemExit(f"{path}:{number}: verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
            key = (row["repository"], row["commit"], row["path"], int(row["line"]), row["rule"])
            labels[key] = (verdict, row.get("reason", ""))
    return labels


def sample(found: list[Found], seed: int, per_rule: int) -> list[Found]:
    by_rule: dict[str, list[Found]] = defaultdict(list)
    for f in sorted(set(found), key=lambda f: f.key):
        by_rule[f.rule].append(f)
    picked: list[Found] = []
    for rule in sorted(by_rule):
        items = by_rule[rule]
        picked += sorted(random.Random(f"{seed}:{rule}").sample(items, min(per_rule, len(items))), key=lambda f: f.key)
    return picked


def score(found: list[Found], labels_path: Path, seed: int, per_rule: int, unlabelled_out: Path | None) -> int:
    repos = sorted({f.repository for f in found} | set(manifest()))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for f in found:
        counts[f.rule][f.repository] += 1
    short = [r.split("/")[1][:10] for r in repos]
    print("## Findings per rule\n")
    print("| rule | total | " + " | ".join(short) + " |")
    print("|---|---:|" + "---:|" * len(repos))
    for rule in sorted(counts, key=lambda r: (-sum(counts[r].values()), r)):
        print(f"| {rule} | {sum(counts[rule].values())} | " + " | ".join(str(counts[rule][r]) for r in repos) + " |")
    print(f"| all | {len(found)} | " + " | ".join(str(sum(1 for f in found if f.repository == r)) for r in repos) + " |")

    labels = load_labels(labels_path)
    picked = sample(found, seed, per_rule)
    per: dict[str, Counter[str]] = defaultdict(Counter)
    missing: list[Found] = []
    print(f"\n## Sample (seed {seed}, at most {per_rule} per rule)\n")
    for f in picked:
        verdict, reason = labels.get(f.key, ("?", ""))
        per[f.rule][verdict] += 1
        if verdict == "?":
            missing.append(f)
        print(f"{verdict:9} {f.rule} {f.repository}:{f.path}:{f.line}  {reason or f.message}")

    print("\n## Precision of the labelled sample\n")
    print("| rule | sampled | TP | FP | debatable | unlabelled | precision | strict |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    total: Counter[str] = Counter()
    for rule in sorted(per):
        c = per[rule]
        total.update(c)
        print(_precision_row(rule, c))
    print(_precision_row("all", total))
    if missing:
        print(f"\n{len(missing)} sampled findings have no label", file=sys.stderr)
        if unlabelled_out is not None:
            with unlabelled_out.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(FIELDS + ["message"])
                for f in missing:
                    writer.writerow([f.repository, f.commit, f.path, f.line, f.rule, "", "", f.message])
            print(f"written to {unlabelled_out}", file=sys.stderr)
    return 0


def _precision_row(rule: str, c: Counter[str]) -> str:
    judged = c["TP"] + c["FP"]
    labelled = judged + c["debatable"]
    precision = f"{100 * c['TP'] / judged:.0f} %" if judged else "-"
    strict = f"{100 * c['TP'] / labelled:.0f} %" if labelled else "-"
    return f"| {rule} | {sum(c.values())} | {c['TP']} | {c['FP']} | {c['debatable']} | {c['?']} | {precision} | {strict} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="extract the pinned commits from local mirrors")
    p.add_argument("--mirrors", type=Path, required=True)
    p.add_argument("--dest", type=Path, required=True)
    for name in ("run", "score"):
        s = sub.add_parser(name)
        if name == "run":
            s.add_argument("corpus", type=Path)
            s.add_argument("--pitfall", default=shlex.quote(str(Path(sys.executable).parent / "pitfall")), help="pitfall command prefix")
        s.add_argument("--results", type=Path, default=BENCH / ".work" / "review")
        s.add_argument("--labels", type=Path, default=LABELS)
        s.add_argument("--seed", type=int, default=2026)
        s.add_argument("--per-rule", type=int, default=8)
        s.add_argument("--unlabelled", type=Path, help="write the sampled findings without a label here (CSV)")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        return prepare(args.mirrors, args.dest)
    if args.command == "run":
        run(args.corpus.resolve(), args.results, shlex.split(args.pitfall))
    return score(load_findings(args.results), args.labels, args.seed, args.per_rule, args.unlabelled)


if __name__ == "__main__":
    sys.exit(main())
