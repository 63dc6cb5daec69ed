"""Completion records: the lists with their anomaly flags, and one visit entered by hand."""
