from __future__ import annotations

from pathlib import Path

import pytest


def write_repo(root: Path, files: dict[str, str | bytes]) -> Path:
    """Materialise an example repo (file name -> content) under `root`."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


@pytest.fixture
def repo(tmp_path: Path):
    def make(files: dict[str, str | bytes]) -> Path:
        return write_repo(tmp_path / "repo", files)

    return make
