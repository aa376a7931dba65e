"""The terminal view of `nexus run`: what it shows (`model`: a plain `ViewModel` read from the
running runtime), how it is laid out at any terminal size from 80x24 up (`layout`), the keys
read while it runs (`keys`), the live loop tying them to the runtime (`live`), and the end
summary as tables (`summary`)."""

from nexus.view.layout import View, render
from nexus.view.model import CONSENSUS, LadderRow, ModelBuilder, ViewModel

__all__ = ["CONSENSUS", "LadderRow", "ModelBuilder", "View", "ViewModel", "render"]
