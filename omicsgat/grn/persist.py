"""Saving and loading trained GRN models in the common model folder (:mod:`omicsgat.persist`).

Loading never unpickles anything. A model is tied to its genes: loading it
for data that lacks them is refused with the names of the missing genes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from omicsgat.errors import OmicsInputError
from omicsgat.io.genes import list_species
from omicsgat.persist import META, WEIGHTS, SavedModel, read_tensors

LEGACY_FORMAT = "omicsgat-grn-model/1"  # written by 0.1.0


@dataclass
class GRNModel(SavedModel):
    """Trained weights of one GRN run, with the genes and candidate edges they belong to."""

    mode: str
    genes: List[str]
    regulators: List[str]
    config: Dict[str, Any]
    edge_index: np.ndarray  # (2, E) candidate edges (gene indices)
    states: List[Dict[str, Any]] = field(default_factory=list)  # one state_dict per restart
    features: Optional[np.ndarray] = (
        None  # supervised: node features (n_features x n_genes); unsupervised MLP: values (cells x genes)
    )
    message_edges: Optional[np.ndarray] = None  # supervised: training graph
    edge_attr: Optional[np.ndarray] = None  # unsupervised: edge features (candidate edges, then null edges)
    edge_block: Optional[np.ndarray] = (
        None  # unsupervised, blocked fit: the block of each candidate edge (states block by block)
    )

    analysis = "grn"

    def _to_saved(self):
        import torch

        tensors = {"edge_index": torch.as_tensor(self.edge_index, dtype=torch.long)}
        for i, state in enumerate(self.states):
            tensors.update({f"r{i}.{k}": v for k, v in state.items()})
        if self.features is not None:
            tensors["features"] = torch.as_tensor(self.features, dtype=torch.float32)
        if self.edge_attr is not None:
            tensors["edge_attr"] = torch.as_tensor(self.edge_attr, dtype=torch.float32)
        if self.edge_block is not None:
            tensors["edge_block"] = torch.as_tensor(self.edge_block, dtype=torch.long)
        if self.message_edges is not None:
            tensors["message_edges"] = torch.as_tensor(self.message_edges, dtype=torch.long)
        params = {
            "mode": self.mode,
            "genes": self.genes,
            "regulators": self.regulators,
            "config": self.config,
            "n_restarts": len(self.states),
        }
        return tensors, params

    @classmethod
    def _from_saved(cls, tensors, p, folder: Path, genes=None) -> "GRNModel":
        """The model; with ``genes`` (names or an AnnData), refuse it if any model gene is missing."""
        states = [
            {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(f"r{i}.")}
            for i in range(p["n_restarts"])
        ]
        model = cls(
            p["mode"],
            list(p["genes"]),
            list(p["regulators"]),
            dict(p["config"]),
            tensors["edge_index"].numpy(),
            states,
            tensors["features"].numpy() if "features" in tensors else None,
            tensors["message_edges"].numpy() if "message_edges" in tensors else None,
            tensors["edge_attr"].numpy() if "edge_attr" in tensors else None,
            tensors["edge_block"].numpy() if "edge_block" in tensors else None,
        )
        if genes is not None:
            model.check_genes(genes)
        return model

    @staticmethod
    def _read_legacy(folder: Path):
        """0.1.0 wrote the same two files with the parameters at the top level of model.json."""
        meta_path = folder / META
        if not (meta_path.is_file() and (folder / WEIGHTS).is_file()):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        if not isinstance(meta, dict) or meta.get("format") != LEGACY_FORMAT:
            return None
        return read_tensors(folder / WEIGHTS), meta

    def _describe(self) -> dict:
        return {
            "training": {
                "mode": self.mode,
                "n_genes": len(self.genes),
                "n_regulators": len(self.regulators),
                "n_candidate_edges": int(np.asarray(self.edge_index).shape[1]),
                "n_restarts": len(self.states),
            },
            "species": list_species(self.genes),
            "parameters": dict(self.config),
        }

    def check_genes(self, genes) -> None:
        """Raise :class:`OmicsInputError` unless every gene of the model is in ``genes`` (names or AnnData)."""
        names = set(map(str, getattr(genes, "var_names", genes)))
        missing = [g for g in self.genes if g not in names]
        if missing:
            shown = ", ".join(missing[:8]) + (f" ... ({len(missing)} in all)" if len(missing) > 8 else "")
            raise OmicsInputError(
                f"This GRN model was trained on other genes: {len(missing)} of its {len(self.genes)} genes are not in "
                f"the data ({shown}). Train a new model on this data instead."
            )
