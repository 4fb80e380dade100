"""Every test gets its own results cache: runs never read what another test (or the user's own
runs) cached, so a test that changes the analyzers sees them run."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_results_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PITFALL_CACHE_DIR", str(tmp_path_factory.mktemp("pitfall-cache")))
