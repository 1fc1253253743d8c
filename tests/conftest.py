"""Shared test helpers: where ../shared/ is, and a skip marker for its absence."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# Real taz material lives beside the repo root, never inside it; a user's
# clone has none, so tests reading it skip.
SHARED = REPO.parent / "shared"

needs_shared = pytest.mark.skipif(
    not (SHARED / "FORMAT.md").is_file(), reason="../shared/ (real taz samples) is absent"
)
