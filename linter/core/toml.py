"""The TOML reader of configuration files and project manifests: the standard library's
``tomllib``, or before Python 3.11 ``tomli``, the same parser."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
