"""Frozen data shared by every module and across process boundaries."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: the loader imports the model
    from linter.kubernetes.yamldocs import Document

SEVERITIES = ("note", "warning", "error")
SEVERITY_RANK = {"none": 0, "note": 1, "warning": 2, "error": 3}
#: the key prefix of a Kubernetes annotation that suppresses a rule: ``ignore-check.pitfall.dev/<ID>``
ANNOTATION_PREFIX = "ignore-check.pitfall.dev/"


@dataclass(frozen=True, slots=True)
class Region:
    """1-based line and column; ``end_column`` is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def point(line: int, column: int = 1) -> Region:
        return Region(line, column, line, column + 1)


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace the text of ``region`` with ``text`` (an empty region inserts)."""

    region: Region
    text: str


@dataclass(frozen=True, slots=True)
class Fix:
    title: str
    applicability: str  # "safe" | "unsafe"
    edits: tuple[Edit, ...]
    # the file the edits apply to when it is not the finding's (a chart's values.yaml)
    path: str | None = None


@dataclass(frozen=True, slots=True)
class Suppression:
    kind: str  # SARIF: "inSource" | "external"
    justification: str
    origin: str  # "comment" | "annotation" | "per-file-ignores" | "baseline"


@dataclass(frozen=True, slots=True)
class Logical:
    kind: str
    name: str | None
    namespace: str | None = None


@dataclass(frozen=True, slots=True)
class Related:
    path: str
    region: Region | None
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    path: str  # posix, relative to the scan root where possible
    region: Region
    message: str
    severity: str
    fix: Fix | None = None
    suppression: Suppression | None = None
    logical: Logical | None = None
    related: tuple[Related, ...] = ()
    # identity material for SARIF partialFingerprints; never the line number
    fingerprint: str = ""
    # more about the finding than its message says (SARIF result properties), e.g. the full
    # text of a long tool message: (name, text) pairs
    properties: tuple[tuple[str, str], ...] = ()

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.region.line, self.region.column, self.rule_id, self.message)


@dataclass(frozen=True, slots=True)
class Notification:
    """A problem of the run itself (not a finding about the code)."""

    message: str
    level: str = "warning"  # "error" | "warning" | "note"
    path: str | None = None
    rule_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnitResult:
    path: str
    findings: tuple[Finding, ...]
    notifications: tuple[Notification, ...] = ()
    # directives seen in the unit, for suppression and LNT003
    source_lines: int = 0
    # when the result may change with no input changed (seconds since the epoch; a certificate
    # checked against the clock, ``linter.core.clock``); None: never
    expires: float | None = None


@dataclass(frozen=True, slots=True)
class Example:
    code: str
    fixed: str | None = None
    path: str | None = None  # file name the example is analysed as
    config: tuple[tuple[str, Any], ...] = ()  # settings overrides for this example
    files: tuple[tuple[str, str], ...] = ()  # other files written beside the example
    errors: tuple[int, ...] = ()  # lines to report, where `# error` markers cannot be written


@dataclass(frozen=True, slots=True)
class FixSpec:
    kind: str  # "add-kwarg" | "set-kwarg" | "replace"
    text: str
    title: str
    applicability: str
    safety: str = ""


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    name: str
    pack: str
    target: str  # "python" | "kubernetes" | "tool" | "file"
    severity: str
    confidence: str
    area: str
    summary: str
    rationale: str
    message: str
    status: str = "stable"
    since: str = "0.1.0"
    cwe: tuple[int, ...] = ()
    security_severity: float | None = None
    references: tuple[str, ...] = ()
    extra_tags: tuple[str, ...] = ()
    pss_level: str | None = None
    pss_check: str | None = None
    fix: FixSpec | None = None
    valid: tuple[Example, ...] = ()
    invalid: tuple[Example, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    matcher: Any = None  # target-specific spec (plain data), compiled by the analyzer
    source: str = ""  # rule file path, for messages
    replaced_by: str | None = None
    opt_in: bool = False  # selected only by its id, name or a prefix, never by ALL
    in_tests: bool = False  # also runs on test, fixture and documentation code (``test-paths``)

    @property
    def tags(self) -> tuple[str, ...]:
        tags = [f"area:{self.area}"]
        if self.security_severity is not None:
            tags.append("security")
        tags.extend(f"external/cwe/cwe-{c}" for c in self.cwe)
        if self.pss_level:
            tags.append(f"pss:{self.pss_level}")
        if self.pss_check:
            tags.append(f"pss-check:{self.pss_check}")
        tags.extend(self.extra_tags)
        return tuple(tags)

    def option(self, key: str, default: Any = None) -> Any:
        for k, v in self.options:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    prefix: str
    version: str
    description: str
    path: str
    applies_to: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    builtin: bool = True
    origin: str = "built-in"  # "built-in" | "folder" | "plugin <distribution>"


class Placeholders(dict[str, Any]):
    """Fields of ``str.format_map``: a placeholder with no field stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --------------------------------------------------------------------------- what analyzers hand the engine


@dataclass(frozen=True, slots=True)
class Manifest:
    """A YAML or JSON file as the Kubernetes rules read it: its documents that are objects
    (``apiVersion`` and ``kind``), and the problems of loading it that are worth a finding."""

    objects: tuple[Document, ...] = ()
    problems: tuple[tuple[str, Region], ...] = ()  # (message, region)


@dataclass(frozen=True)
class ChartAnalysis:
    """The raw findings of a chart (before suppressions), with what the engine needs to apply
    them: the annotations of the findings (by index) and the text of each file a finding is on."""

    findings: tuple[Finding, ...]
    notes: tuple[Notification, ...] = ()
    annotations: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    text_of: Callable[[str], str | None] = lambda path: None
    #: the findings are the result as they are (an invalid chart: no directive can be read)
    final: bool = False


def load_reference(ref: str) -> Any:
    """``module:name`` of a rule's ``check``/``visitor``/``unless`` -> the object."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)
