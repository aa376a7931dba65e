"""The auto-trader: flow-engine signals turned into orders through the risk gate (issue 15)."""
