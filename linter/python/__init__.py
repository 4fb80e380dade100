"""The Python analyzer (libcst), its cross-file signature index and the hooks of the Python rules."""

import os

#: The analyzer's shortcuts (the text pre-filters of the rules and of each visitor, the blanking of
#: definitions no rule can fire in, its own read-only tree walk and positions for the statements
#: that hold findings only) are on unless ``PITFALL_NO_FAST_PATHS`` is set to anything but ``""``
#: or ``0``: then every file is parsed and walked by libcst's own batched visitor and positioned
#: by its ``PositionProvider``. Both must give the same output (``tests/test_fast_paths.py``).
#: Read here only, once per process (pool workers inherit it).
FAST_PATHS = os.environ.get("PITFALL_NO_FAST_PATHS", "") in ("", "0")
