"""Evaluation metrics: ``grn`` (BEELINE-style), ``classification``, ``survival``."""
