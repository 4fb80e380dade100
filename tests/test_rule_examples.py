"""Every example of every built-in rule runs as a test (DESIGN.md: examples are the tests)."""

from __future__ import annotations

import pytest

from linter.core.packs import load_packs
from linter.core.testing import check_case, iter_example_cases

PACKS = load_packs()
CASES = list(iter_example_cases(PACKS))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule_example(case):
    check_case(case, PACKS)


def test_every_rule_has_examples():
    for pack in PACKS:
        for rule in pack.rules:
            assert rule.valid and rule.invalid, rule.id
