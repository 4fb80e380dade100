"""Tests for linter.kubernetes.yamldocs: loading manifests into plain data with positions."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml

from linter.core.model import Region
from linter.kubernetes import yamldocs
from linter.kubernetes.yamldocs import (
    Document,
    LoadResult,
    YamlProblem,
    has_template_syntax,
    key_span,
    load_documents,
    locate,
    value_span,
)

ROOT = Path(__file__).resolve().parent.parent


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def kinds(result: LoadResult) -> list[str]:
    return [problem.kind for problem in result.problems]


MULTI = dedent(
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: one
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: two
    ---
    # the third one
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: three
    spec:
      template:
        spec:
          containers:
          - name: app
            image: nginx
            securityContext:
              privileged: true
          - name: sidecar
            image: envoy
    """
)


# --------------------------------------------------------------------------
# documents and positions
# --------------------------------------------------------------------------


def test_multi_document_data_and_indexes() -> None:
    result = load_documents(MULTI)
    assert result.problems == ()
    assert [doc.index for doc in result.documents] == [0, 1, 2]
    assert [doc.data["metadata"]["name"] for doc in result.documents] == ["one", "two", "three"]
    assert all(doc.list_item is None for doc in result.documents)
    assert result.documents[0].data == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "one"}}


def test_exact_positions_in_third_document() -> None:
    doc = load_documents(MULTI).documents[2]
    # `privileged` is on line 23, indented by 10 spaces.
    assert MULTI.splitlines()[22] == "          privileged: true"
    path = ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"]
    assert locate(doc, path) == (Region(23, 11, 23, 21), True)
    assert key_span(doc, path) == Region(23, 11, 23, 21)
    assert value_span(doc, path) == Region(23, 23, 23, 27)
    # The document starts after the comment line.
    assert doc.span.line == 12 and doc.span.column == 1
    # A list item: the span of the item node, starting at its first key.
    assert locate(doc, ["spec", "template", "spec", "containers", 1]) == (Region(24, 9, 26, 1), True)
    assert key_span(doc, ["spec", "template", "spec", "containers", 1]) is None


def test_document_spans() -> None:
    docs = load_documents(MULTI).documents
    assert docs[0].span == Region(1, 1, 5, 1)
    assert docs[1].span == Region(6, 1, 10, 1)
    assert docs[2].span.line == 12


def test_locate_missing_paths_point_at_the_mapping_that_lacks_the_key() -> None:
    doc = load_documents(MULTI).documents[2]
    containers = ["spec", "template", "spec", "containers"]
    # Missing key under `securityContext:` -> the `securityContext` key.
    assert locate(doc, [*containers, 0, "securityContext", "runAsNonRoot"]) == (Region(22, 9, 22, 24), False)
    # Missing key in a list item -> the item's first key (`name`).
    assert locate(doc, [*containers, 1, "resources", "limits"]) == (Region(24, 9, 24, 13), False)
    # Missing top-level key -> the document's first key.
    assert locate(doc, ["status", "phase"]) == (Region(12, 1, 12, 11), False)
    # Index out of range -> the key holding the list.
    assert locate(doc, [*containers, 5, "name"]) == (Region(19, 7, 19, 17), False)
    # Descending into a scalar -> the key of that scalar.
    assert locate(doc, ["kind", "x"]) == (Region(13, 1, 13, 5), False)
    # Type mismatch: a string where the list wants an index.
    assert locate(doc, [*containers, "name"])[1] is False
    assert key_span(doc, ["status"]) is None
    assert value_span(doc, ["status"]) is None


def test_locate_empty_path_is_the_root() -> None:
    doc = load_documents(MULTI).documents[0]
    assert locate(doc, []) == (doc.span, True)
    assert value_span(doc, []) == doc.span
    assert key_span(doc, []) is None


def test_locate_wide_mapping_uses_last_duplicate_and_non_string_keys() -> None:
    lines = [f"k{i}: {i}" for i in range(40)] + ["k3: again", "1: one", "true: yes-key", "on: on-key"]
    doc = load_documents("\n".join(lines) + "\n").documents[0]
    assert locate(doc, ["k39"]) == (Region(40, 1, 40, 4), True)
    assert locate(doc, ["k3"]) == (Region(41, 1, 41, 3), True)  # the last one wins, as in data
    assert doc.data["k3"] == "again"
    assert locate(doc, [1]) == (Region(42, 1, 42, 2), True)
    assert locate(doc, ["1"])[1] is False  # the key is an int, not a string
    assert locate(doc, [True]) == (Region(44, 1, 44, 3), True)  # `on` is True too; last wins
    small = load_documents("a: 1\nb: 2\na: 3\n").documents[0]
    assert locate(small, ["a"]) == (Region(3, 1, 3, 2), True)


def test_flow_style_positions() -> None:
    doc = load_documents('kind: Pod\nspec: {containers: [{name: a, image: "x:1"}]}\n').documents[0]
    line = 'spec: {containers: [{name: a, image: "x:1"}]}'
    assert value_span(doc, ["spec", "containers", 0, "image"]) == Region(2, line.index('"x') + 1, 2, len(line) - 2)
    assert key_span(doc, ["spec", "containers", 0, "image"]) == Region(2, 31, 2, 36)


# --------------------------------------------------------------------------
# kind: List
# --------------------------------------------------------------------------

LIST = dedent(
    """
    apiVersion: v1
    kind: List
    items:
    - apiVersion: v1
      kind: Service
      metadata:
        name: svc
    - just a string
    - apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: web
      spec:
        replicas: 3
    ---
    apiVersion: v1
    kind: DeploymentList
    items:
    - kind: Deployment
      metadata: {name: other}
    """
)


def test_list_expansion() -> None:
    result = load_documents(LIST)
    assert result.problems == ()
    docs = result.documents
    assert [(d.index, d.list_item, d.data["kind"]) for d in docs] == [
        (0, 0, "Service"),
        (0, 2, "Deployment"),
        (1, 0, "Deployment"),
    ]
    assert docs[1].data["metadata"]["name"] == "web"
    assert docs[0].span == Region(4, 3, 8, 1)
    assert docs[1].span.line == 9
    # locate() works relative to the item and still points into the file.
    assert locate(docs[1], ["spec", "replicas"]) == (Region(14, 5, 14, 13), True)
    assert locate(docs[1], ["spec", "template"]) == (Region(13, 3, 13, 7), False)
    assert locate(docs[2], ["metadata", "name"]) == (Region(20, 14, 20, 18), True)


def test_empty_list_and_list_without_items_list() -> None:
    assert load_documents("apiVersion: v1\nkind: List\nitems: []\n").documents == ()
    docs = load_documents("kind: List\nitems: nope\n").documents
    assert len(docs) == 1 and docs[0].data["items"] == "nope"
    # `kind` not ending in List: items stay inside the document.
    docs = load_documents("kind: Thing\nitems: [{a: 1}]\n").documents
    assert len(docs) == 1 and docs[0].list_item is None


# --------------------------------------------------------------------------
# recovery
# --------------------------------------------------------------------------

BROKEN_MIDDLE = dedent(
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: first
    ---
    apiVersion: v1
    kind: Pod
    metadata:
      name: broken
        labels: oops
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: third
    """
)


def test_recovery_keeps_the_other_documents() -> None:
    result = load_documents(BROKEN_MIDDLE)
    assert [(d.index, d.data["metadata"]["name"]) for d in result.documents] == [(0, "first"), (2, "third")]
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.kind == "syntax"
    # libyaml says "... not allowed in this context", pure PyYAML "... here".
    assert problem.message.startswith("invalid YAML: mapping values are not allowed")
    assert problem.span == Region(10, 11, 10, 12)  # the `:` after `labels`
    third = result.documents[1]
    assert third.span.line == 12
    assert locate(third, ["metadata", "name"]) == (Region(15, 3, 15, 7), True)


def test_recovery_positions_match_the_whole_stream_parse() -> None:
    # libyaml itself, on the whole stream, reports the same position.
    with pytest.raises(yaml.MarkedYAMLError) as info:
        list(yaml.compose_all(BROKEN_MIDDLE, Loader=yamldocs._Loader))
    mark = info.value.problem_mark
    assert (mark.line + 1, mark.column + 1) == (10, 11)


def test_recovery_unclosed_flow_and_undefined_alias() -> None:
    text = "a: 1\n---\nb: [1, 2\n---\nc: *nope\n---\nd: 4\n"
    result = load_documents(text)
    assert [(d.index, d.data) for d in result.documents] == [(0, {"a": 1}), (3, {"d": 4})]
    assert kinds(result) == ["syntax", "syntax"]
    assert result.problems[0].span.line == 4  # libyaml notices at the next `---`
    assert "',' or ']'" in result.problems[0].message
    assert result.problems[1].span == Region(5, 4, 5, 5)
    assert "undefined alias" in result.problems[1].message


def test_recovery_with_crlf_and_separator_comments() -> None:
    text = "a: 1\r\n--- # two\r\nb: [\r\n---\r\nc: 3\r\n"
    result = load_documents(text)
    assert [d.data for d in result.documents] == [{"a": 1}, {"c": 3}]
    assert result.documents[1].span.line == 5
    assert kinds(result) == ["syntax"]


def test_syntax_error_in_only_document() -> None:
    result = load_documents("a: b: c\n")
    assert result.documents == ()
    (problem,) = result.problems
    assert problem.message.startswith("invalid YAML: mapping values are not allowed")
    assert (problem.span, problem.kind) == (Region(1, 5, 1, 6), "syntax")


# --------------------------------------------------------------------------
# safety
# --------------------------------------------------------------------------

BILLION_LAUGHS = dedent(
    """
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: lol
    data:
      a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
      b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
      c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
      d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
      e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
      f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
      g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
      h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
      i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: fine
    """
)


def test_billion_laughs() -> None:
    start = time.perf_counter()
    result = load_documents(BILLION_LAUGHS)
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0
    assert kinds(result) == ["alias-bomb"]
    assert result.problems[0].message.startswith("alias expansion limit exceeded")
    assert 6 <= result.problems[0].span.line <= 14
    # The bomb document is dropped, the next one survives.
    assert [d.data["metadata"]["name"] for d in result.documents] == ["fine"]


def test_alias_limit_counts_scalar_aliases_and_is_configurable() -> None:
    text = "a: &x lol\nb: [" + ", ".join(["*x"] * 50) + "]\n"
    assert load_documents(text).problems == ()
    assert load_documents(text).documents[0].data["b"] == ["lol"] * 50
    assert kinds(load_documents(text, max_aliases=49)) == ["alias-bomb"]
    assert kinds(load_documents(text, max_aliases=50)) == []


def test_ordinary_anchors_and_aliases_work() -> None:
    text = dedent(
        """
        defaults: &defaults
          image: nginx
          resources: {limits: {cpu: 1}}
        first:
          <<: *defaults
          name: a
        second: *defaults
        """
    )
    result = load_documents(text)
    assert result.problems == ()
    data = result.documents[0].data
    assert data["first"] == {"image": "nginx", "resources": {"limits": {"cpu": 1}}, "name": "a"}
    assert data["second"] == data["defaults"]
    # Through a merge key, locate finds the merged key at its definition.
    doc = result.documents[0]
    assert locate(doc, ["first", "image"]) == (Region(2, 3, 2, 8), True)
    assert locate(doc, ["first", "name"]) == (Region(6, 3, 6, 7), True)
    assert locate(doc, ["second", "resources", "limits", "cpu"]) == (Region(3, 24, 3, 27), True)


def test_recursive_alias_is_reported() -> None:
    result = load_documents("a: &x [1, *x]\n---\nb: 2\n")
    assert kinds(result) == ["alias-bomb"]
    assert "recursive" in result.problems[0].message
    assert [d.data for d in result.documents] == [{"b": 2}]
    assert kinds(load_documents("&r {a: *r}\n")) == ["alias-bomb"]


def test_deep_flow_nesting() -> None:
    depth = 100_000
    text = "[" * depth + "]" * depth
    start = time.perf_counter()
    result = load_documents(text)
    assert time.perf_counter() - start < 2.0
    assert result.documents == ()
    assert result.problems == (YamlProblem("nesting deeper than 500 levels", Region(1, 501, 1, 502), "too-deep"),)


def test_deep_flow_nesting_inside_a_mapping_keeps_other_documents() -> None:
    depth = 100_000
    text = "a: 1\n---\nkey: " + "{x: " * depth + "}" * depth + "\n---\nb: 2\n"
    start = time.perf_counter()
    result = load_documents(text)
    assert time.perf_counter() - start < 2.0
    assert kinds(result) == ["too-deep"]
    assert result.problems[0].span.line == 3
    assert [(d.index, d.data) for d in result.documents] == [(0, {"a": 1}), (2, {"b": 2})]
    assert result.documents[1].span.line == 5


def test_deep_block_nesting() -> None:
    depth = 5_000
    text = "".join("  " * level + "a:\n" for level in range(depth)) + "  " * depth + "leaf\n"
    start = time.perf_counter()
    result = load_documents(text)
    assert time.perf_counter() - start < 2.0
    assert result.documents == ()
    assert kinds(result) == ["too-deep"]
    assert result.problems[0].span.line == 501


def test_depth_limit_is_configurable_and_exact() -> None:
    nested = "a:\n" + "".join("  " * level + "a:\n" for level in range(1, 30)) + "  " * 30 + "x\n"
    padding = "# " + "-:" * 600 + "\n"  # defeats the cheap bound, forces the exact check
    assert kinds(load_documents(padding + nested, max_depth=30)) == []
    assert kinds(load_documents(padding + nested, max_depth=29)) == ["too-deep"]
    assert kinds(load_documents(nested, max_depth=29)) == ["too-deep"]
    assert load_documents(nested, max_depth=29).problems[0].message == "nesting deeper than 29 levels"
    # Moderately deep but legal data still loads, and to the right depth.
    data = load_documents(nested).documents[0].data
    for _ in range(30):
        data = data["a"]
    assert data == "x"


def test_many_colons_and_dashes_do_not_make_a_document_too_deep() -> None:
    body = "\n".join(f"  key{i}: 'a:b-c:{i}'  # - : - [" for i in range(2000))
    result = load_documents("kind: ConfigMap\ndata:\n" + body + "\n")
    assert result.problems == ()
    assert len(result.documents[0].data["data"]) == 2000


def test_max_depth_above_the_hard_limit_is_clamped_so_the_process_survives() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from linter.kubernetes.yamldocs import load_documents\n"
        "r = load_documents('[' * 200000 + ']' * 200000, max_depth=10**9)\n"
        "print(r.problems[0].kind)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(ROOT)], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "too-deep"


def test_pure_python_loader_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamldocs, "_Loader", yaml.SafeLoader)
    assert load_documents(MULTI).documents[2].data["metadata"]["name"] == "three"
    # The pure-Python composer recurses in Python: input within max_depth
    # can still hit RecursionError, which is reported, not raised.
    text = "[" * 900 + "]" * 900
    result = load_documents(f"a: 1\n---\nc: {text}\n---\nb: 1\n", max_depth=1000)
    assert [(d.index, d.data) for d in result.documents] == [(0, {"a": 1}), (2, {"b": 1})]
    assert kinds(result) == ["too-deep"]
    assert result.problems[0].span.line == 2
    assert kinds(load_documents("[" * 20_000 + "]" * 20_000)) == ["too-deep"]
    result = load_documents(BROKEN_MIDDLE)
    assert result.problems[0].span == Region(10, 11, 10, 12)
    result = load_documents("a: 1\nb: \u00e9\x00\n")
    assert result.problems[0].span == Region(2, 5, 2, 6)


# --------------------------------------------------------------------------
# data semantics
# --------------------------------------------------------------------------


def test_duplicate_keys() -> None:
    text = dedent(
        """
        apiVersion: v1
        kind: Pod
        metadata:
          name: first
          labels: {app: a}
          name: second
        """
    )
    result = load_documents(text)
    assert result.problems == (YamlProblem("duplicate key 'name'", Region(6, 3, 6, 7), "duplicate-key"),)
    assert result.documents[0].data["metadata"] == {"name": "second", "labels": {"app": "a"}}
    assert locate(result.documents[0], ["metadata", "name"]) == (Region(6, 3, 6, 7), True)


def test_merge_override_is_not_a_duplicate() -> None:
    text = "base: &b {a: 1, b: 2}\nm:\n  <<: *b\n  a: 10\n"
    result = load_documents(text)
    assert result.problems == ()
    assert result.documents[0].data["m"] == {"a": 10, "b": 2}


def test_merge_precedence_follows_the_merge_key_spec() -> None:
    # The YAML merge-key spec: explicit keys win over merged ones, and in `<<: [*a, *b]` the
    # earlier mapping wins. A repeated `<<` key is a duplicate key: like any other, the last
    # one wins. PyYAML releases disagree with each other here (6.0.4 deduplicates merged pairs
    # by the identity of the key's string), so the expected data is written out, not taken
    # from whichever PyYAML is installed.
    text = dedent(
        """
        x: &x {key: x, only_x: 1}
        y: &y {key: y, only_y: 1}
        list: {<<: [*x, *y]}
        two:
          <<: *x
          <<: *y
        inline:
          <<: {key: inline}
          other: 1
        explicit:
          key: mine
          <<: [*x, *y]
        """
    )
    assert load_documents(text).documents[0].data == {
        "x": {"key": "x", "only_x": 1},
        "y": {"key": "y", "only_y": 1},
        "list": {"key": "x", "only_x": 1, "only_y": 1},
        "two": {"key": "y", "only_x": 1, "only_y": 1},
        "inline": {"key": "inline", "other": 1},
        "explicit": {"key": "mine", "only_x": 1, "only_y": 1},
    }


def test_merged_keys_are_located_where_the_data_comes_from() -> None:
    text = "x: &x {key: x}\ny: &y {key: y}\nlist: {<<: [*x, *y]}\n"
    doc = load_documents(text).documents[0]
    assert doc.data["list"]["key"] == "x"
    assert key_span(doc, ["list", "key"]) == Region(1, 8, 1, 11)


def test_bad_merge_and_unhashable_keys_are_problems() -> None:
    result = load_documents("m:\n  <<: 5\n  a: 1\n? [x, y]\n: 2\nz: 3\n")
    assert kinds(result) == ["syntax", "syntax"]
    assert result.documents[0].data == {"m": {"a": 1}, "z": 3}


def test_yaml_11_scalars() -> None:
    text = dedent(
        """
        a: yes
        b: on
        c: No
        d: OFF
        e: "yes"
        f: 1_000
        g: 0x1F
        h: 010
        i: ~
        j: 1.5
        k: .inf
        l: 2024-01-01
        m: y
        n: 1e3
        o: !!str 12
        p: !Custom tagged
        q: 190:20:30
        """
    )
    data = load_documents(text).documents[0].data
    assert data["a"] is True and data["b"] is True and data["c"] is False and data["d"] is False
    assert data["e"] == "yes"
    assert data["f"] == 1000 and data["g"] == 31 and data["h"] == 8
    assert data["i"] is None
    assert data["j"] == 1.5 and math.isinf(data["k"])
    assert data["l"] == "2024-01-01"  # timestamps stay strings (plain data)
    assert data["m"] == "y" and data["n"] == "1e3"
    assert data["o"] == "12" and data["p"] == "tagged"
    assert data["q"] == 685230  # sexagesimal, as PyYAML reads it


def test_data_matches_pyyaml_for_ordinary_manifests() -> None:
    for text in (MULTI, LIST.split("---")[0]):
        ours = [d.data for d in load_documents(text).documents]
        theirs = [d for d in yaml.load_all(text, Loader=yaml.SafeLoader) if isinstance(d, dict)]
        if text is not MULTI:
            theirs = [item for item in theirs[0]["items"] if isinstance(item, dict)]
        assert ours == theirs


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------


def test_json_manifest() -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "image": "nginx:1.25", "securityContext": {"privileged": True}},
                    ],
                    "hostNetwork": False,
                    "terminationGracePeriodSeconds": 1e2,
                    "note": "yes",
                }
            },
        },
    }
    text = json.dumps(manifest, indent=2)
    result = load_documents(text, json_mode=True)
    assert result.problems == ()
    (doc,) = result.documents
    expected = json.loads(text)
    assert doc.data == expected
    assert doc.data["spec"]["template"]["spec"]["note"] == "yes"
    line = next(n for n, l in enumerate(text.splitlines(), 1) if '"privileged"' in l)
    column = text.splitlines()[line - 1].index('"privileged"') + 1
    path = ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"]
    assert locate(doc, path) == (Region(line, column, line, column + len('"privileged"')), True)


def test_json_numbers_and_compact_json() -> None:
    text = '{"a":1e5,"b":-0,"c":1.5E3,"d":"1e5","e":[1,2.5,-3e-2],"f":null,"g":true}'
    data = load_documents(text, json_mode=True).documents[0].data
    assert data == json.loads(text)
    assert isinstance(data["a"], float) and isinstance(data["b"], int)


def test_json_syntax_error_and_list() -> None:
    result = load_documents('{\n  "kind": "Pod",\n  "spec": {\n', json_mode=True)
    assert result.documents == ()
    assert kinds(result) == ["syntax"]
    result = load_documents(json.dumps({"kind": "List", "items": [{"kind": "Pod"}, {"kind": "Service"}]}), json_mode=True)
    assert [(d.list_item, d.data["kind"]) for d in result.documents] == [(0, "Pod"), (1, "Service")]


def test_json_manifest_file_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "pod.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}, indent=4))
    (doc,) = load_documents(path.read_text(), json_mode=True).documents
    assert locate(doc, ["metadata", "name"]) == (Region(5, 9, 5, 15), True)


# --------------------------------------------------------------------------
# odd inputs
# --------------------------------------------------------------------------


def test_empty_file_and_only_comments() -> None:
    assert load_documents("") == LoadResult((), ())
    assert load_documents("# just a comment\n# another\n") == LoadResult((), ())
    assert load_documents("---\n---\n...\n") == LoadResult((), ())
    assert load_documents("\n\n   \n") == LoadResult((), ())


def test_non_mapping_documents_are_skipped_but_counted() -> None:
    text = "just a scalar\n---\n- a\n- list\n---\n---\n42\n---\nkind: Pod\n"
    result = load_documents(text)
    assert result.problems == ()
    assert [(d.index, d.data) for d in result.documents] == [(4, {"kind": "Pod"})]


def test_empty_mapping_document_is_kept() -> None:
    (doc,) = load_documents("{}\n").documents
    assert doc.data == {}
    assert locate(doc, ["kind"]) == (Region(1, 1, 1, 3), False)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: x\x00y\n",
        "a: \ud800\n",
        "\ufeffa: 1\n",
        "a: 1\n\tb: 2\n",
        "\x00",
        "\t",
        "a:\n\t- b\n",
        "%YAML 1.1\n%YAML 1.1\n---\na: 1\n",
        "!!python/object:os.system 'echo hi'\n",
        "a: !!python/name:os.system\n",
        "? ? ? ?\n",
        "&a &b x",
        "*",
        "{" * 10 + "}" * 3,
        "- - - - - -",
        "a: |\n  x\n---\n...\n---",
        "'unterminated",
        "\ufeff\ufeff",
        "\u2028a: 1\u2029b: [\x85",
        "a: " + "9" * 5000,
        "a: !!int " + "9" * 5000,
        "a: !!float nope\nb: !!bool maybe\nc: !!int ''\n",
    ],
)
def test_never_raises(text: str) -> None:
    result = load_documents(text)
    assert isinstance(result, LoadResult)
    for problem in result.problems:
        assert problem.kind in {"syntax", "duplicate-key", "alias-bomb", "too-deep"}
        assert problem.span.line >= 1 and problem.span.column >= 1
    for doc in result.documents:
        assert isinstance(doc, Document)
        locate(doc, ["a", 0, "b"])


def test_nul_bom_and_surrogate_positions() -> None:
    result = load_documents("a: 1\nb: \u00e9\x00\n")
    assert result.documents == ()
    assert result.problems[0].kind == "syntax"
    assert result.problems[0].span == Region(2, 5, 2, 6)
    assert "#x0000" in result.problems[0].message
    (doc,) = load_documents("\ufeffa: 1\nb: 2\n").documents
    assert locate(doc, ["a"]) == (Region(1, 1, 1, 2), True)
    result = load_documents("a: 1\n---\nb: \ud800\n")
    assert [d.data for d in result.documents] == [{"a": 1}]
    assert result.problems[0].span == Region(3, 4, 3, 5)


def test_unusual_but_valid_yaml_stays_loadable() -> None:
    result = load_documents("a: 1\n---\n--- {b: 2}\n--- !!map\nc: 3\n")
    assert [d.data for d in result.documents] == [{"a": 1}, {"b": 2}, {"c": 3}]
    assert [d.index for d in result.documents] == [0, 2, 3]


def test_frozen_results() -> None:
    result = load_documents("a: 1\n")
    with pytest.raises(AttributeError):
        result.documents[0].index = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Region(1, 1, 1, 2).line = 2  # type: ignore[misc]


# --------------------------------------------------------------------------
# templates, performance
# --------------------------------------------------------------------------


def test_template_syntax_detection() -> None:
    assert has_template_syntax("image: {{ .Values.image }}\n")
    assert has_template_syntax('name: "{{ include \\"x\\" . }}"\n')
    assert has_template_syntax("{{- if .Values.enabled }}\nkind: Pod\n{{- end }}\n")
    assert not has_template_syntax("spec: {a: {b: 1}}\n")
    assert not has_template_syntax("kind: Pod\n")
    assert not has_template_syntax("")


def test_many_documents_load_quickly() -> None:
    doc = dedent(
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web-{i}
        spec:
          replicas: 3
          template:
            spec:
              containers:
              - name: web
                image: nginx:1.25
                resources:
                  limits: {{cpu: 500m, memory: 128Mi}}
                securityContext:
                  privileged: false
        """
    )
    text = "---\n".join(doc.format(i=i) for i in range(2000))
    start = time.perf_counter()
    result = load_documents(text)
    elapsed = time.perf_counter() - start
    assert len(result.documents) == 2000 and result.problems == ()
    assert result.documents[1999].data["metadata"]["name"] == "web-1999"
    assert result.documents[1999].span.line == 1999 * 16 + 1
    assert elapsed < 5.0
