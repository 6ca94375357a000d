"""Prognosis: multi-omics gene-attention survival models, out-of-fold risk groups and Kaplan–Meier curves.

``run_prognosis(cohort)`` cross-validates an ensemble of
:class:`GeneAttentionSurvival` models and returns a :class:`PrognosisResult`.
torch is imported only when a model is built or trained.
"""

from omicsgat.prognosis.cv import run_prognosis
from omicsgat.prognosis.fitter import GeneAttentionSurvival
from omicsgat.prognosis.result import PrognosisResult

__all__ = ["run_prognosis", "PrognosisResult", "GeneAttentionSurvival"]
