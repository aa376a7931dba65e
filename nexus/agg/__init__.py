"""The Aggregator: one consensus book and one trade tape across up to five venues."""
