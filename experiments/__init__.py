"""Experiment batches, results storage, statistics and reports for lifecircle."""
