"""Execution: the order path from a decided order to the venue's authenticated request.

So far this holds `signing` (each venue's request signing, exactly as its documentation
says); the order model, lifecycle and venue adapters follow (issue 14). The lead relocates
each venue's signer into `nexus/venues/<pkg>/` with the rest of that venue later."""
