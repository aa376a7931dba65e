"""Files Nexus writes for a user (recordings, Parquet exports): private and never clobbered.

A recording holds everything the venues sent during a session and an export what was derived
from it; neither should be readable by the host's other users, so directories Nexus creates are
DIR_MODE (0700) and its files FILE_MODE (0600). An existing file is overwritten only when the
user says so (`force`, the commands' --force). Every failure is an `OutputError` whose message
names the path and the reason or the fix, so the command line prints one line and exits 2,
never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from nexus.exceptions import OutputError

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dirs(path: Path) -> None:
    """Create the directory `path` and its missing parents, each DIR_MODE (existing ones are
    left as they are)."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
            os.chmod(d, DIR_MODE)  # exactly, whatever the umask
        except FileExistsError:
            pass
        except OSError as e:
            raise OutputError(f"cannot create the directory {d}: {e.strerror or e}") from None
    if not path.is_dir():
        raise OutputError(f"{path} exists and is not a directory")


def refuse_existing(paths: list[Path], force: bool) -> None:
    """Refuse to go on when one of `paths` exists, unless `force`."""
    for p in paths:
        if p.exists() and not force:
            raise OutputError(f"{p} already exists; pass --force to overwrite it")


def open_output(path: Path, force: bool = False) -> BinaryIO:
    """Open `path` for writing as FILE_MODE, creating its directory; an existing file is
    refused unless `force` (then it is truncated and made FILE_MODE too)."""
    path = Path(path)
    make_dirs(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, FILE_MODE)
    except FileExistsError:
        raise OutputError(f"{path} already exists; pass --force to overwrite it") from None
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
    if stat.S_ISREG(os.fstat(fd).st_mode):  # never a device (`-o /dev/null --force`)
        os.fchmod(fd, FILE_MODE)  # an overwritten file would keep its old mode
    return open(fd, "wb")
