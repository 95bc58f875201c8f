"""Read an episode's YAML front matter (timings, title) without going through Sphinx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def split(text: str) -> tuple[dict[str, Any], int]:
    """Return (front matter, number of lines it takes); ({}, 0) if there is none or it is bad."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, 0
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                data = yaml.safe_load("\n".join(lines[1:i])) or {}
            except yaml.YAMLError:
                return {}, i + 1
            return (data if isinstance(data, dict) else {}), i + 1
    return {}, 0


def read(path: Path) -> dict[str, Any]:
    try:
        return split(path.read_text(encoding="utf-8"))[0]
    except OSError:
        return {}


def minutes(meta: dict[str, Any], key: str) -> int | None:
    """A timing in whole minutes, or None if missing or not a non-negative integer."""
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
