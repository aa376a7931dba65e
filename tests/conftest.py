import os
import itertools

import pytest

_counter = itertools.count()


@pytest.fixture
def ring_name(request):
    """A ring name unique to this test; the segment is removed afterwards if left behind."""
    name = f"test-{os.getpid()}-{next(_counter)}"
    yield name
    from nexus.ring import ring_remove
    from nexus.exceptions import RingNotFound

    try:
        ring_remove(name, force=True)
    except RingNotFound:
        pass
