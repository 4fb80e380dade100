#!/usr/bin/env bash
# Byte-for-byte comparison of pitfall's JSON output between two source trees (a refactoring must
# not move a finding): runs `python -m linter check . --select ALL --no-cache --format json` of
# each tree (through PYTHONPATH, with the dependencies of the running venv) on every repository
# of bench/corpus.toml that is extracted under the corpus and chart roots, and on a copy of the
# standard library, then prints `same` or `DIFF` per input.
#
#   bench/compare.sh OLD_TREE NEW_TREE [CORPUS_ROOT] [CHARTS_ROOT]
#   git worktree add /tmp/before HEAD~1 && bench/compare.sh /tmp/before . ../corpus ../charts
#
# KEEP=<folder>: the two JSON outputs of every input that differs are copied there
# (<input>.old.json, <input>.new.json), to read what changed.
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd)
corpus=$(cd "${3:-../corpus}" && pwd); charts=$(cd "${4:-../charts}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
python=$(command -v "${PYTHON:-python3}")
case "$python" in /*) ;; *) python="$PWD/$python" ;; esac
work=$(mktemp -d "${TMPDIR:-/tmp}/pitfall-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
stdlib=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
"$python" - "$stdlib" "$work/stdlib" <<'PY'
import shutil, sys
shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True,
                ignore=shutil.ignore_patterns("site-packages", "dist-packages", "venv", "__pycache__"))
PY
inputs=("$work/stdlib")
while IFS= read -r name; do
  for root in "$corpus" "$charts"; do
    [ -d "$root/$name" ] && inputs+=("$root/$name") && break
  done
done < <("$python" -c '
import sys, tomllib
for group in tomllib.load(open(sys.argv[1], "rb")).values():
    for repo in group:
        print(repo.replace("/", "+"))' "$here/corpus.toml")
status=0
for input in "${inputs[@]}"; do
  label=$(basename "$input")
  for side in old new; do
    tree=$old; [ "$side" = new ] && tree=$new
    if ! (cd "$input" && PYTHONPATH="$tree" "$python" -m linter check . --select ALL --no-cache \
          --format json --exit-zero --output "$work/$label.$side.json" 2>"$work/$label.$side.err"); then
      echo "$label: pitfall of $tree failed:" >&2; tail -5 "$work/$label.$side.err" >&2; exit 2
    fi
  done
  if cmp -s "$work/$label.old.json" "$work/$label.new.json"; then echo "same $label"; else
    echo "DIFF $label"; status=1
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work/$label.old.json" "$work/$label.new.json" "$KEEP/"; fi
  fi
done
exit $status
