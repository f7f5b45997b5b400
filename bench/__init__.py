"""Benchmarks: scripts that print JSON with medians and p99 beside a baseline measured in the same run."""
