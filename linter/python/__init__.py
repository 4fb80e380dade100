"""The Python analyzer (libcst), its cross-file signature index and the hooks of the Python rules."""
