"""The result of :func:`omicsgat.grn.infer_grn`: ranked edges, hubs, export, plots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import pandas as pd

from omicsgat.anndata_keys import claim, stored_table, uns_section
from omicsgat.errors import OmicsInputError
from omicsgat.grn.activity import decoupler_network, regulon_activity
from omicsgat.grn.pairs import GRID_COLUMNS, PAIR_COLUMNS
from omicsgat.io.atomic import write_table_atomic
from omicsgat.metrics.grn import edge_curves, evaluate_edges
from omicsgat.pl.network import plot_curves, plot_network
from omicsgat.pl.ranking import plot_ranking

GRN_KEY = "omicsgat_grn"


def hub_table(edges: pd.DataFrame, genes, regulators, n_top: Optional[int] = None) -> pd.DataFrame:
    """Per-gene hub scores from the top ``n_top`` edges (default 3 x number of genes).

    ``hub_score``: sum over the gene's outgoing top edges of score / max score;
    ``n_targets`` / ``n_regulators``: out- and in-degree among the top edges;
    ``out_strength``: sum of all its outgoing scores.
    """
    n_top = min(len(edges), n_top or 3 * len(genes))
    top = edges.iloc[:n_top]
    max_score = float(top["score"].max()) if len(top) and top["score"].max() > 0 else 1.0
    norm = top["score"] / max_score
    hub = norm.groupby(top["regulator"]).sum()
    out_deg = top.groupby("regulator").size()
    in_deg = top.groupby("target").size()
    strength = edges.groupby("regulator")["score"].sum()
    regs = set(regulators)
    frame = pd.DataFrame({"gene": list(genes)})
    frame["hub_score"] = frame["gene"].map(hub).fillna(0.0).astype(float)
    frame["n_targets"] = frame["gene"].map(out_deg).fillna(0).astype(int)
    frame["n_regulators"] = frame["gene"].map(in_deg).fillna(0).astype(int)
    frame["out_strength"] = frame["gene"].map(strength).fillna(0.0).astype(float)
    frame["is_regulator"] = frame["gene"].isin(regs)
    return frame.sort_values(
        ["hub_score", "out_strength", "gene"], ascending=[False, False, True], kind="mergesort"
    ).reset_index(drop=True)


@dataclass
class GRNResult:
    """Ranked regulator -> target edges with scores, and per-gene hub scores.

    ``edges`` columns: regulator, target, score (higher = more likely), rank
    (1 = best), sign (+1 activating / -1 repressing, from the Pearson
    correlation on the (meta)cells), correlation, in_prior, attention (mean
    over heads and restarts), contribution (unsupervised: mean |d recon_t /
    d x_r|), target_r2 (unsupervised: the share of the target's variance its
    candidate regulators reconstruct, R^2 floored at 0; with a pseudotime the
    score is multiplied by it), attention_head<i> per head; supervised mode adds split
    (train/val/test: where the pair was used).

    ``pairs`` (unsupervised MLP runs; see :mod:`omicsgat.grn.pairs`): target, regulator_a, regulator_b,
    interaction (the model's signed second-order response), logic ("both needed", "either enough",
    "independent"), score, stability, p, q, and the model's and the data's 2 x 2 grids; ``params["pairs"]``
    says whether it was computed and why not.
    """

    edges: pd.DataFrame
    hubs: pd.DataFrame
    params: Dict[str, Any]
    device: str
    genes: list = field(default_factory=list)
    regulators: list = field(default_factory=list)
    model: Any = None  # a GRNModel (weights + names), for save_model
    split: Optional[pd.DataFrame] = None  # supervised: regulator, target, label, split
    training_pairs: Optional[pd.DataFrame] = None  # supervised: every pair the loss draws from
    message_edges: Optional[pd.DataFrame] = None  # supervised: the message-passing graph
    regulon_activity: Optional[pd.DataFrame] = None  # cells x regulators (decoupler ulm), when computed
    pairs: Optional[pd.DataFrame] = None  # regulator pairs and their logic (omicsgat.grn.pairs), when computed

    def to_frame(self) -> pd.DataFrame:
        return self.edges.copy()

    def save(self, path: str | Path) -> Path:
        """Write the edge table (.tsv/.txt/.csv/.xlsx by suffix, atomically)."""
        return write_table_atomic(self.edges, path)

    def save_pairs(self, path: str | Path) -> Path:
        """Write the regulator-pair table (.tsv/.txt/.csv/.xlsx by suffix, atomically)."""
        if self.pairs is None:
            reason = self.params.get("pairs", {}).get("reason", "not computed")
            raise OmicsInputError(f"This result holds no regulator-pair table ({reason}).")
        return write_table_atomic(self.pairs, path)

    def save_model(self, folder: str | Path) -> Path:
        """The trained model as a folder: model.safetensors (weights) + model.json (parameters, gene names)."""
        if self.model is None:
            raise OmicsInputError("This result holds no trained model to save.")
        p = self.params
        training = {k: p[k] for k in ("n_cells", "n_metacells", "pseudotime") if k in p}
        metrics = {k: v for k, v in p.items() if k.startswith(("test_", "val_")) and isinstance(v, (int, float))}
        self.model.annotate_card(training=training, metrics=metrics, species=p.get("species"))
        return self.model.save(folder)

    def to_decoupler(self, n_edges: Optional[int] = None) -> pd.DataFrame:
        """The network in decoupler's layout: ``source``, ``target``, ``weight`` (signed score / max score).

        ``n_edges``: the top edges by score (default: 3 x the number of genes, as for the hubs).
        """
        return decoupler_network(self.edges, n_edges if n_edges is not None else 3 * max(1, len(self.genes)))

    def activity(
        self, adata, n_edges: Optional[int] = None, tmin: int = 3, gene_symbols: Optional[str] = None
    ) -> pd.DataFrame:
        """Regulon activity per cell (cells x regulators) from :meth:`to_decoupler`, with decoupler's ulm."""
        if gene_symbols is None:
            gene_symbols = self.params.get("gene_symbols")
        return regulon_activity(adata, self.to_decoupler(n_edges), tmin=tmin, gene_symbols=gene_symbols)

    def write_to(
        self,
        adata,
        max_edges: Optional[int] = None,
        key_added: Optional[str] = None,
        activity: Optional[pd.DataFrame] = None,
        param: str = "key_added",
    ) -> None:
        """Store edges, hubs, parameters and the decoupler network in the AnnData (h5ad-writable).

        The record goes to ``uns["omicsgat"]["grn"]`` (``uns["omicsgat"][key_added]`` for a key other
        than ``"omicsgat_grn"``; see :mod:`omicsgat.anndata_keys`). A regulon ``activity`` table (or
        :attr:`regulon_activity`) goes to ``obsm[f"{key_added}_activity"]`` (``obsm["omicsgat_grn_activity"]``).
        """
        edges = self.edges if max_edges is None else self.edges.iloc[:max_edges]
        activity = self.regulon_activity if activity is None else activity
        obsm_key = f"{key_added or GRN_KEY}_activity"
        if activity is not None:
            claim(adata, "obsm", obsm_key, param)
        section = uns_section(adata, "grn", key_added)
        section["edges"] = {c: _column(edges[c]) for c in edges.columns}
        section["hubs"] = {c: _column(self.hubs[c]) for c in self.hubs.columns}
        network = self.to_decoupler()
        section["network"] = {c: _column(network[c]) for c in network.columns}
        if self.pairs is not None:
            section["pairs"] = {c: _column(self.pairs[c]) for c in self.pairs.columns}
        section["params"] = json.dumps(self.params, default=str)
        section["device"] = self.device
        if activity is not None:
            adata.obsm[obsm_key] = activity.reindex(adata.obs_names)

    @staticmethod
    def edges_from(adata, key: Optional[str] = None) -> pd.DataFrame:
        """Read back the edge table written by :meth:`write_to` (``key``: its ``key_added``)."""
        return stored_table(adata, "grn", key, "edges")

    @staticmethod
    def pairs_from(adata, key: Optional[str] = None) -> pd.DataFrame:
        """Read back the regulator-pair table written by :meth:`write_to` (``key``: its ``key_added``)."""
        frame = stored_table(
            adata, "grn", key, "pairs"
        )  # h5ad keeps the columns in name order: put the table's order back
        first = [c for c in PAIR_COLUMNS + GRID_COLUMNS if c in frame.columns]
        return frame[first + [c for c in frame.columns if c not in first]]

    @staticmethod
    def network_from(adata, key: Optional[str] = None) -> pd.DataFrame:
        """Read back the decoupler network (source, target, weight) written by :meth:`write_to`."""
        return stored_table(adata, "grn", key, "network")

    def evaluate(self, reference: pd.DataFrame, score_col: str = "score") -> dict:
        """BEELINE metrics against ``reference`` (regulator, target) over all regulator -> gene pairs of this run."""
        return evaluate_edges(self.edges, reference, regulators=self.regulators, genes=self.genes, score_col=score_col)

    def plot_evaluation(self, reference: pd.DataFrame, score_col: str = "score"):
        """Precision-recall and ROC curves of the ranking against ``reference``, with the random baselines."""
        curves = edge_curves(self.edges, reference, regulators=self.regulators, genes=self.genes, score_col=score_col)
        return plot_curves(curves, self.evaluate(reference, score_col))

    def plot_network(self, n_edges: int = 30, ax=None):
        return plot_network(self.edges, n_edges=n_edges, ax=ax, regulators=self.regulators)

    def plot_hubs(self, n: int = 20, ax=None):
        return plot_ranking(self.hubs, "gene", "hub_score", n=n, ax=ax, title="Hub regulators")


def stored_hubs(adata, key: Optional[str] = None) -> pd.DataFrame:
    """The hub table written by :meth:`GRNResult.write_to` (``key``: its ``key_added``)."""
    return stored_table(adata, "grn", key, "hubs")


def _column(series: pd.Series) -> np.ndarray:
    if series.dtype == bool:
        return series.to_numpy()
    if pd.api.types.is_numeric_dtype(series):
        return series.to_numpy()
    return series.astype(str).to_numpy(dtype=object)
