"""Keys typed while the view of `nexus run` runs: `v` / `V` pick the next / previous book
(each venue, and the consensus in AGG mode), `q` stops the run as SIGINT does.

`KeyReader` puts the terminal in cbreak mode (each key arrives at once, unechoed; Ctrl-C still
raises SIGINT) and lets the event loop watch stdin, so reading a key never blocks the loop.
When stdin is not a terminal it does nothing. It restores the terminal's settings when its
block exits: at the end of the run, on an exception, and on SIGTERM / SIGINT, whose handlers
(the runtime's) end the run and so the block.
"""

from __future__ import annotations

import asyncio
import os
import sys
import termios
import tty

KEYS_READ_MAX = 64
KEY_NEXT, KEY_PREVIOUS, KEY_QUIT = "v", "V", "q"


def handle_key(key: str, builder, stop) -> bool:
    """Act on one key: cycle `builder`'s book, or call `stop()`. Returns whether it meant anything."""
    if key == KEY_NEXT:
        builder.cycle(1)
    elif key == KEY_PREVIOUS:
        builder.cycle(-1)
    elif key == KEY_QUIT:
        stop()
    else:
        return False
    return True


class KeyReader:
    """`on_key(str)` for each key typed on `stream` (a terminal) while the block runs."""

    def __init__(self, on_key, stream=None) -> None:
        self.on_key = on_key
        self.stream = stream if stream is not None else sys.stdin
        self.fd: int | None = None
        self._saved = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def active(self) -> bool:
        return self.fd is not None

    def __enter__(self) -> KeyReader:
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            return self
        if not os.isatty(fd):
            return self
        self._saved = termios.tcgetattr(fd)
        self.fd = fd
        try:
            tty.setcbreak(fd, termios.TCSANOW)
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(fd, self._readable)
        except BaseException:
            self._restore()
            raise
        return self

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, KEYS_READ_MAX)
        except OSError:
            data = b""
        if not data:  # the terminal went away: stop watching it
            self._loop.remove_reader(self.fd)
            return
        for key in data.decode("utf-8", "ignore"):
            self.on_key(key)

    def _restore(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.fd)
            self._loop = None
        termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
        self.fd = None

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            self._restore()
