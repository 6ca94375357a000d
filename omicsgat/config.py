"""The settings of each analysis in one dataclass: defaults, validation, and what a saved model card records.

The API's keyword defaults, the CLI's option defaults, the GUI's fields (through
:mod:`omicsgat.defaults`) and the ``parameters`` of a saved model card all read
these classes, so an untouched GUI form, a CLI run without options and an API
call with no keywords are the same run. Import-light on purpose: the GUI reads it
at start-up. A bad value raises :class:`OmicsInputError` naming the setting.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Optional, Union

from omicsgat.errors import OmicsInputError

UNKNOWN_RULES = ("distance+probability", "distance", "neighbourhood")
GROUPINGS = ("median", "tertiles")
#: ``depth=`` of cell typing: ``auto`` decides from the data (:func:`omicsgat.celltype.depth.reference_for_query_depth`)
DEPTH_MODES = ("auto", "none", "match", "augment", "match+augment")
#: how many-to-many orthologs enter a cross-species reference (:mod:`omicsgat.io.orthologs`)
ORTHOLOG_RULES = ("one2one", "sum")
#: GRN edge scores (``adaptive``: decided per target from held-out cells, :mod:`omicsgat.grn.scores`)
GRN_SCORES = ("adaptive", "rank_mean", "contribution", "attention", "conditional")
#: how the GRN model combines its attention heads per target
GRN_COMBINES = ("mlp", "linear")


def _one_of(name: str, value, allowed) -> None:
    if value not in allowed:
        raise OmicsInputError(f"{name} must be one of {', '.join(map(repr, allowed))} (got {value!r}).")


def _at_least(name: str, value, low) -> None:
    if value < low:
        raise OmicsInputError(f"{name} must be at least {low} (got {value}).")


def _between(name: str, value, low, high, *, open_low: bool = False, open_high: bool = False) -> None:
    below = value <= low if open_low else value < low
    above = value >= high if open_high else value > high
    if below or above:
        lo, hi = ("(" if open_low else "["), (")" if open_high else "]")
        raise OmicsInputError(f"{name} must be in {lo}{low}, {high}{hi} (got {value}).")


class _Config:
    """Shared helpers: a plain dict (for a model card or a Result's params) and construction from one."""

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict):
        """The config from a dict; a key the analysis does not know is an error that lists the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise OmicsInputError(
                f"Unknown setting(s) {', '.join(unknown)} for {cls.__name__}; known: {', '.join(sorted(known))}."
            )
        return cls(**values)


@dataclass(frozen=True)
class PrognosisConfig(_Config):
    """:func:`omicsgat.prognosis.run_prognosis` and ``omicsgat prognosis``.

    ``groups``: "median", "tertiles" or a cut-off on the training-standardised risk. ``max_features``:
    features kept per modality in each fold (None = all). ``elastic_net``: blend each network with an
    elastic-net Cox fit (False: the network alone).
    """

    folds: int = 5
    ensemble: int = 5
    epochs: int = 300
    groups: Union[str, float] = "median"
    top_k: int = 20
    max_features: Optional[int] = 2000
    elastic_net: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        _at_least("folds", self.folds, 2)
        _at_least("ensemble", self.ensemble, 1)
        _at_least("epochs", self.epochs, 1)
        _at_least("top_k", self.top_k, 1)
        if self.max_features is not None:
            _at_least("max_features", self.max_features, 1)
        if isinstance(self.groups, str) and self.groups.strip().lower() not in GROUPINGS:
            raise OmicsInputError(
                f"Unknown risk grouping {self.groups!r} (groups): use 'median', 'tertiles' or a "
                "number (a risk cut-off)."
            )

    def model_options(self) -> dict:
        """What :class:`~omicsgat.prognosis.GeneAttentionSurvival` takes from these settings."""
        return {"max_features": self.max_features, "elastic_net": self.elastic_net}


@dataclass(frozen=True)
class CellTypeConfig(_Config):
    """:func:`omicsgat.celltype.annotate_cells` and ``omicsgat celltype``.

    ``unknown_threshold``: None = calibrated on held-out labelled cells. ``graph=False`` stops at the
    linear start. ``ortholog_rule``, ``depth`` and ``query_smoothing`` apply with a reference (another
    species; a shallower query; the query's own neighbours, across species). See ``annotate_cells`` for what each setting does.
    """

    epochs: int = 60
    max_genes: int = 2000
    n_pcs: int = 50
    n_neighbors: int = 15
    novelty: bool = True
    unknown_rule: str = "distance+probability"
    novelty_alpha: float = 0.02
    unknown_threshold: Optional[float] = None
    val_fraction: float = 0.15
    hidden: int = 64
    heads: int = 4
    batch_size: int = 512
    graph: bool = True
    seed: int = 0
    cluster_vote: bool = False
    ortholog_rule: str = "sum"
    depth: str = "auto"
    query_smoothing: float = 0.75

    def __post_init__(self) -> None:
        _at_least("epochs", self.epochs, 1)
        for name in ("max_genes", "n_pcs", "n_neighbors", "hidden", "heads", "batch_size"):
            _at_least(name, getattr(self, name), 1)
        if self.unknown_rule not in UNKNOWN_RULES:
            raise OmicsInputError(
                f"unknown_rule must be one of {', '.join(UNKNOWN_RULES)} (got {self.unknown_rule!r})."
            )
        _between("novelty_alpha", self.novelty_alpha, 0.0, 1.0, open_low=True, open_high=True)
        if self.unknown_threshold is not None:
            _between("unknown_threshold", float(self.unknown_threshold), 0.0, 1.0)
        _between("val_fraction", self.val_fraction, 0.0, 1.0, open_low=True, open_high=True)
        _one_of("ortholog_rule", self.ortholog_rule, ORTHOLOG_RULES)
        _one_of("depth", self.depth, DEPTH_MODES)
        _between("query_smoothing", self.query_smoothing, 0.0, 1.0)


@dataclass(frozen=True)
class GRNConfig(_Config):
    """The defaults :func:`omicsgat.grn.infer_grn`, ``omicsgat grn`` and the GUI share."""

    genes: int = 500
    epochs: int = 150
    top_k: int = 50
    mode: str = "unsupervised"
    score: str = "adaptive"
    combine: str = "mlp"
    seed: int = 0

    def __post_init__(self) -> None:
        _at_least("genes", self.genes, 2)
        _at_least("epochs", self.epochs, 1)
        _at_least("top_k", self.top_k, 1)
        if self.mode not in ("unsupervised", "supervised"):
            raise OmicsInputError(f"mode must be 'unsupervised' or 'supervised' (got {self.mode!r}).")
        _one_of("score", self.score, GRN_SCORES)
        _one_of("combine", self.combine, GRN_COMBINES)
