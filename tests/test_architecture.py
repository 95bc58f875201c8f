"""Arrows point down: the helper API the episodes import never pulls in the mirror or the
Sphinx tooling, so a learner's `pip install` needs neither."""

from __future__ import annotations

import subprocess
import sys


def test_helper_api_imports_neither_mirror_nor_lesson_tooling() -> None:
    code = (
        "import sys\n"
        "import satlesson.search, satlesson.items, satlesson.clip, satlesson.bands\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('satlesson.mirror', "
        "'satlesson.lesson', 'sphinx', 'stac_fastapi', 'pypgstac')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
