"""The in-process chain's persistence (`--chain sim`): a journal file of every request that
changed the chain (contract deployment, mints, transfers, raw transactions, mined blocks),
replayed in order into a fresh eth-tester chain at the next start. eth-tester executes the
same requests on the same state the same way, so balances, nonces, transaction hashes and
block numbers come back as they were; only block timestamps differ.

Where: beside a SQLite database (`broker.db` -> `broker.db.chain`), or
`<--chain-dir>/<database name>.chain` (PostgreSQL has no file to sit beside). Created
owner-only (0600), tightened to 0600 when found wider. It holds no private key: every
simulated wallet, the hot wallet included (`chainsim.SIM_HOT_WALLET_ACCOUNT`), is one of
eth-tester's well-known test accounts; it does hold signed
raw transactions, which are public once broadcast.

A line cut short by a crash (the last one) is dropped: the request it recorded is lost as if
the chain had dropped it from its mempool, and the sender re-broadcasts it.
"""

from __future__ import annotations

import json
import logging
import os
import stat

from nexus.exceptions import ConfigError

log = logging.getLogger("nexus.broker.chainfile")
FORMAT = "nexus-sim-chain"
VERSION = 1
SUFFIX = ".chain"
MODE = 0o600


def _json_default(value):
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    raise TypeError(f"cannot journal a {type(value).__name__}")


class ChainFile:
    """Append-only JSON lines: a header, then one entry per state-changing request."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh = None

    def load(self) -> list[dict]:
        """The entries already recorded ([] for a new file); opens the file for appending."""
        entries: list[dict] = []
        good_bytes = 0
        if os.path.exists(self.path):
            mode = stat.S_IMODE(os.stat(self.path).st_mode)
            if mode & 0o077:
                log.warning("%s was readable by others (mode %o); set to %o", self.path, mode, MODE)
                os.chmod(self.path, MODE)
            with open(self.path, "rb") as fh:
                data = fh.read()
            for n, line in enumerate(data.splitlines(keepends=True), start=1):
                if not line.endswith(b"\n"):
                    log.warning("%s: dropping a last line cut short by a crash (%d bytes)", self.path, len(line))
                    break
                try:
                    entry = json.loads(line)
                except ValueError:
                    raise ConfigError(f"the chain file {self.path} is damaged at line {n}; restore it or start on a fresh database") from None
                if n == 1:
                    if entry.get("format") != FORMAT or entry.get("version") != VERSION:
                        raise ConfigError(f"{self.path} is not a Nexus simulated chain file (format {FORMAT} v{VERSION})")
                else:
                    entries.append(entry)
                good_bytes += len(line)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, MODE)
        os.ftruncate(fd, good_bytes)  # the torn line, if any, goes
        os.lseek(fd, 0, os.SEEK_END)
        self._fh = os.fdopen(fd, "w", encoding="utf-8")
        if good_bytes == 0:
            self._write({"format": FORMAT, "version": VERSION})
        return entries

    def _write(self, entry: dict) -> None:
        self._fh.write(json.dumps(entry, default=_json_default, separators=(",", ":")) + "\n")
        self._fh.flush()  # in the kernel: survives a killed process (not a power cut)

    def append(self, entry: dict) -> None:
        if self._fh is not None:
            self._write(entry)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def path_for(db, chain_dir: str | None) -> str | None:
    """Where the chain file of database `db` lives, or None (not persisted: PostgreSQL without
    --chain-dir, an in-memory SQLite)."""
    name = db.pool.url.database
    if not name or name == ":memory:":
        return None
    if chain_dir:
        os.makedirs(chain_dir, mode=0o700, exist_ok=True)
        return os.path.join(chain_dir, os.path.basename(name) + SUFFIX)
    return name + SUFFIX if not db.is_postgres else None
