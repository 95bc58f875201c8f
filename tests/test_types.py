"""mypy finds no type error in the package (``[tool.mypy]`` in pyproject.toml: strict on the
helper API, default elsewhere). It runs here rather than before pytest so that it shares the
cores with the other tests while the session's mirror is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_is_clean() -> None:
    result = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout
