"""Saving and loading trained GRN models: safetensors weights + a JSON of parameters and gene names.

Loading never unpickles anything. A model is tied to its genes: loading it
for data that lacks them is refused with the names of the missing genes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd

from omicsgat.errors import OmicsInputError

FORMAT = "omicsgat-grn-model/1"
WEIGHTS = "model.safetensors"
META = "model.json"


@dataclass
class GRNModel:
    """Trained weights of one GRN run, with the genes and candidate edges they belong to."""

    mode: str
    genes: List[str]
    regulators: List[str]
    config: Dict[str, Any]
    edge_index: np.ndarray  # (2, E) candidate edges (gene indices)
    states: List[Dict[str, Any]] = field(default_factory=list)  # one state_dict per restart
    features: Optional[np.ndarray] = None  # supervised: node features (n_features x n_genes); unsupervised MLP: values (cells x genes)
    message_edges: Optional[np.ndarray] = None  # supervised: training graph
    edge_attr: Optional[np.ndarray] = None  # unsupervised: edge features (candidate edges, then null edges)
    edge_block: Optional[np.ndarray] = None  # unsupervised, blocked fit: the block of each candidate edge (states block by block)

    def save(self, folder: str | Path) -> Path:
        import torch
        from safetensors.torch import save_file

        from omicsgat.io.atomic import atomic_path, write_text_atomic

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        tensors = {"edge_index": torch.as_tensor(self.edge_index, dtype=torch.long).contiguous()}
        for i, state in enumerate(self.states):
            tensors.update({f"r{i}.{k}": v.detach().cpu().contiguous() for k, v in state.items()})
        if self.features is not None:
            tensors["features"] = torch.as_tensor(self.features, dtype=torch.float32).contiguous()
        if self.edge_attr is not None:
            tensors["edge_attr"] = torch.as_tensor(self.edge_attr, dtype=torch.float32).contiguous()
        if self.edge_block is not None:
            tensors["edge_block"] = torch.as_tensor(self.edge_block, dtype=torch.long).contiguous()
        if self.message_edges is not None:
            tensors["message_edges"] = torch.as_tensor(self.message_edges, dtype=torch.long).contiguous()
        with atomic_path(folder / WEIGHTS) as tmp:
            save_file(tensors, str(tmp))
        meta = {"format": FORMAT, "mode": self.mode, "genes": self.genes, "regulators": self.regulators,
                "config": self.config, "n_restarts": len(self.states)}
        write_text_atomic(folder / META, json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: str | Path, genes=None) -> "GRNModel":
        """Load a saved model; with ``genes`` (names or an AnnData), refuse if any model gene is missing."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        folder = Path(folder)
        meta_path, weights_path = folder / META, folder / WEIGHTS
        if not meta_path.is_file() or not weights_path.is_file():
            raise OmicsInputError(f"{str(folder)!r} is not a saved GRN model: it needs {META} and {WEIGHTS}.")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise OmicsInputError(f"{meta_path} is not valid JSON: {exc}.") from exc
        if meta.get("format") != FORMAT:
            raise OmicsInputError(f"{meta_path} has format {meta.get('format')!r}; this version reads {FORMAT!r}.")
        try:
            tensors = load_file(str(weights_path))
        except (SafetensorError, OSError) as exc:
            raise OmicsInputError(f"{weights_path} is not a readable safetensors file: {exc}.") from exc
        states = [{k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(f"r{i}.")} for i in range(meta["n_restarts"])]
        model = cls(meta["mode"], list(meta["genes"]), list(meta["regulators"]), dict(meta["config"]),
                    tensors["edge_index"].numpy(), states,
                    tensors["features"].numpy() if "features" in tensors else None,
                    tensors["message_edges"].numpy() if "message_edges" in tensors else None,
                    tensors["edge_attr"].numpy() if "edge_attr" in tensors else None,
                    tensors["edge_block"].numpy() if "edge_block" in tensors else None)
        if genes is not None:
            model.check_genes(genes)
        return model

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

    def edge_scores(self) -> pd.DataFrame:
        """Recompute the edge scores from the weights alone (regulator, target, attention, contribution / score)."""
        import torch

        from omicsgat.grn.model import LinkPredictor, pair_features

        cfg = self.config
        names = np.asarray(self.genes, dtype=object)
        frame = pd.DataFrame({"regulator": names[self.edge_index[0]], "target": names[self.edge_index[1]]})
        with torch.no_grad():
            if self.mode == "unsupervised":
                att, contrib = self._unsupervised_scores()
                frame["attention"] = att
                frame["contribution"] = contrib
            else:
                net = LinkPredictor(self.features.shape[0], cfg["hidden"], cfg["heads"])
                net.load_state_dict(self.states[0])
                net.eval()
                x = torch.as_tensor(self.features.T.copy())
                z = net.encode(x, torch.as_tensor(self.message_edges, dtype=torch.long))
                pf = pair_features(torch.as_tensor(self.features))
                logits = net.decode(z, torch.as_tensor(self.edge_index, dtype=torch.long), pf)
                frame["score"] = torch.sigmoid(logits).double().numpy()
        return frame

    def _unsupervised_scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean attention and contribution of every candidate edge, block by block for a blocked fit."""
        import torch

        from omicsgat.grn.model import AttentionRegression

        cfg = self.config
        n_genes, n_edges = len(self.genes), self.edge_index.shape[1]
        combine = cfg.get("combine", "linear")  # models saved before the MLP combination are linear
        values = None
        if combine == "mlp":  # the attribution is a mean gradient over the (meta)cells it was trained on
            values = torch.zeros(n_genes + 1, self.features.shape[0])
            values[:n_genes] = torch.as_tensor(self.features.T.copy())
        blocks = np.zeros(n_edges, dtype=np.int64) if self.edge_block is None else self.edge_block
        n_blocks = int(blocks.max()) + 1 if n_edges else 1
        per_block = len(self.states) // n_blocks
        att, contrib = np.zeros(n_edges), np.zeros(n_edges)
        null = np.full(n_genes, n_genes)
        for b in range(n_blocks):
            mask = blocks == b
            ei = torch.as_tensor(np.concatenate([self.edge_index[:, mask], np.stack([null, np.arange(n_genes)])], axis=1),
                                 dtype=torch.long)
            ea = torch.as_tensor(np.concatenate([self.edge_attr[:n_edges][mask], self.edge_attr[n_edges:]]))
            m = int(mask.sum())
            for state in self.states[b * per_block:(b + 1) * per_block]:
                net = AttentionRegression(n_genes, cfg["hidden"], cfg["heads"], edge_dim=ea.shape[1], combine=combine)
                net.load_state_dict(state)
                alpha = net.attention(ei, ea)
                att[mask] += alpha[:m].double().mean(1).numpy() / per_block
                contrib[mask] += net.edge_gradients(values, ei, alpha, m)[1].double().numpy() / per_block
        return att, contrib
