"""Benchmarks: this project's methods against baselines, measured in the same run."""
