"""The statements a settings module runs at import: the small statements of the module body and
of its ``if``/``elif``/``else``, ``try``/``except``/``else``/``finally``, ``with`` and loop blocks
(not of functions or classes). Django settings and Celery configuration modules set their values
this way; the matcher's `setting` alternatives (settings.py) and the Celery hooks read them
through here."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import libcst as cst


def top_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Small statements of a block and of the compound statements it runs in place."""
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.If):
            yield from top_statements(block(stmt.body))
            if stmt.orelse is not None:
                yield from top_statements([stmt.orelse] if isinstance(stmt.orelse, cst.If) else block(stmt.orelse.body))
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            yield from top_statements(block(stmt.body))
            for handler in stmt.handlers:
                yield from top_statements(block(handler.body))
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    yield from top_statements(block(extra.body))
        elif isinstance(stmt, (cst.With, cst.For, cst.While)):
            yield from top_statements(block(stmt.body))


def block(suite: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of a suite (a one-line suite as one statement line)."""
    if isinstance(suite, cst.IndentedBlock):
        return suite.body
    return [cst.SimpleStatementLine(body=suite.body)] if isinstance(suite, cst.SimpleStatementSuite) else []


def module_statements(module: cst.Module) -> Iterator[tuple[int, cst.CSTNode]]:
    """(index of the module-level statement, small statement) for the whole module."""
    for i, stmt in enumerate(module.body):
        for small in top_statements([stmt]):
            yield i, small
