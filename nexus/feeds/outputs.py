"""Files Nexus writes for a user (recordings, Parquet exports).

Every failure to create one is an `OutputError` whose message names the path and the reason,
so the command line prints one line and exits 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from nexus.exceptions import OutputError


def make_dirs(path: Path) -> None:
    """Create the directory `path` and any missing parents."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"{path} exists and is not a directory") from None
    except OSError as e:
        raise OutputError(f"cannot create the directory {path}: {e.strerror or e}") from None


def open_output(path: Path) -> BinaryIO:
    """Open `path` for writing, creating its directory."""
    path = Path(path)
    make_dirs(path.parent)
    try:
        return open(path, "wb")
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
