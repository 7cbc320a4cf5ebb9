from __future__ import annotations

from pathlib import Path

import pytest

#: ../shared/corpus/real beside the project: real labelled files, read-only.
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: expected it at {CORPUS}")
    return CORPUS
