"""How a result was made: the time, the code version and the environment (one place each)."""

from __future__ import annotations

import platform
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def now() -> str:
    """The current UTC time as an ISO 8601 string with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def code_version() -> str:
    """The package version plus ``git describe`` of the checkout, when there is one."""
    pkg = "unknown"
    try:
        pkg = metadata.version("lifecircle")
    except metadata.PackageNotFoundError:
        pyproject = ROOT / "pyproject.toml"
        if pyproject.is_file():
            pkg = tomllib.loads(pyproject.read_text()).get("project", {}).get("version", pkg)
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--tags"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return f"lifecircle {pkg}, git {out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return f"lifecircle {pkg} (no git commit)"


def environment() -> dict[str, str]:
    """Python, platform and the versions of the libraries results depend on."""
    env = {"python": sys.version.split()[0], "platform": platform.platform()}
    for dist in ("mesa", "numpy", "pandas", "pyarrow", "numba"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "missing"
    return env
