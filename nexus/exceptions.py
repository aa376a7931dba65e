"""The Nexus exception hierarchy. Native (Rust) errors are raised as these classes by the
one mapping in native/src/py/error.rs, so callers catch one family everywhere."""


class NexusError(Exception):
    """Root of every error Nexus raises on purpose."""


class ConfigError(NexusError, ValueError):
    """A setting, argument or name is invalid. The message says how to fix it."""


class OutputError(ConfigError):
    """An output file or directory cannot be written, or exists and --force was not given.
    The message names the path and the fix."""


class DecimalError(NexusError, ValueError):
    """A decimal string is malformed, off the instrument's grid, or out of range."""


class RecordLayoutError(NexusError):
    """A mirror of the 64-byte record (NumPy dtype, Cython struct) drifted from the native one."""


class ParamLayoutError(NexusError):
    """The compiled flow engine's parameter structs drifted from nexus/flow/params.py (rebuild)."""


class RingError(NexusError):
    """A shared-memory ring operation failed."""


class RingConfigError(RingError, ValueError):
    """Invalid ring name or slot count."""


class RingNotFound(RingError, FileNotFoundError):
    """No ring segment of that name exists."""


class RingBusy(RingError):
    """The ring already has a live writer."""


class AeronError(NexusError):
    """The Aeron transport (nexus aeron ...) failed; the message is Aeron's own where it has one."""


class AeronDriverError(AeronError):
    """No media driver at the Aeron directory and none could be started there (exit 4)."""


class AeronChannelError(AeronError, ValueError):
    """Aeron rejected the channel string (its message; exit 2)."""


class AeronLayoutError(AeronError):
    """A publisher sends another record layout version than this build reads."""


class UnknownInstrument(NexusError, KeyError):
    """No instrument of that venue and symbol is registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DecodeError(NexusError, ValueError):
    """A venue message could not be understood (not JSON, a missing field, a malformed
    decimal, an impossible value). The message says why; nothing of it was applied."""


class BatchFull(NexusError):
    """A decoded message needs more records than the caller's batch holds (`needed`)."""

    def __init__(self, needed: int, capacity: int) -> None:
        super().__init__(f"message needs {needed} records, the batch holds {capacity}")
        self.needed = needed
        self.capacity = capacity
