"""Print a pip constraints file pinning every dependency of pyproject.toml to its lowest bound.

Covers the build backend, the runtime dependencies and every optional extra. A requirement
without a lower bound (``>=``, ``~=`` or ``==``) is left free. Used by ``.ci/run`` to prove that
the declared lower bounds really work.
"""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def lowest_pins(pyproject: Path) -> list[str]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    texts = list(data.get("build-system", {}).get("requires", []))
    project = data.get("project", {})
    texts += project.get("dependencies", [])
    for extra in project.get("optional-dependencies", {}).values():
        texts += extra
    environment = default_environment()
    pins: dict[str, str] = {}
    for text in texts:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate({**environment, "extra": ""}):
            continue
        for spec in requirement.specifier:
            if spec.operator in (">=", "~=", "==") and "*" not in spec.version:
                pins[requirement.name.lower()] = f"{requirement.name}=={spec.version}"
    return sorted(pins.values(), key=str.lower)


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    print("\n".join(lowest_pins(root / "pyproject.toml")))
