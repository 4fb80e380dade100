"""The Python analyzer (libcst), its cross-file signature index and the hooks of the Python rules.

Its shortcuts are on unless ``PITFALL_NO_FAST_PATHS`` is set: ``linter.core.FAST_PATHS``."""
