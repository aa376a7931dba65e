"""The compiled engine (Cython): kernels over record batches. Importing it checks the
Cython record struct against the native record and fails loudly on drift."""

from nexus.exceptions import RecordLayoutError


def check_layout() -> None:
    from nexus import _native
    from engine import _layout

    size, offsets = _layout.struct_layout()
    if size != _native.RECORD_SIZE:
        raise RecordLayoutError(f"Cython Record is {size} bytes, native is {_native.RECORD_SIZE}")
    for name, offset, _ in _native.record_layout():
        if offsets.get(name) != offset:
            raise RecordLayoutError(f"Cython Record.{name} at {offsets.get(name)}, native at {offset}")
    for name, value in _layout.constants().items():
        if getattr(_native, name) != value:
            raise RecordLayoutError(f"Cython {name}={value}, native {getattr(_native, name)}")


check_layout()
