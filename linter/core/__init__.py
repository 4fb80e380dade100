"""The pure core and its edges: the data model, configuration, packs, discovery, the engine
(suppressions, sorting, fingerprints, the worker pool), the results cache and the fixer."""

import os

#: The analyzers' shortcuts are on unless ``PITFALL_NO_FAST_PATHS`` is set to anything but ``""``
#: or ``0``. Python: the text pre-filters of the rules and of each visitor, the blanking of
#: definitions no rule can fire in, its own read-only tree walk, positions for the statements that
#: hold findings only, and the language server's incremental parse; without them every file is
#: parsed and walked by libcst's own batched visitor and positioned by its ``PositionProvider``.
#: Kubernetes: JSON files that cannot hold an object are not loaded. Both must give the same output
#: (``tests/test_fast_paths.py``). Read here only, once per process (pool workers inherit it).
FAST_PATHS = os.environ.get("PITFALL_NO_FAST_PATHS", "") in ("", "0")
