"""One module per venue: the venue's WebSocket protocol and REST endpoints as documented."""
