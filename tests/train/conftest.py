"""Fixtures of the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodec_testing import write_photos


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root with three generated training photos and one validation image."""
    root = tmp_path_factory.mktemp("data")
    write_photos(root / "photos", 3)
    write_photos(root / "kodak", 1, seed=1)
    return root
