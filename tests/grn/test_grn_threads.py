"""Same seed -> same edge scores whatever torch's thread count."""

import numpy as np
import torch

from omicsgat.grn.infer import infer_grn
from omicsgat.simulate import simulate_scrna


def test_edge_scores_do_not_depend_on_thread_count():
    adata = simulate_scrna(n_cells=300, n_genes=40, n_regulators=8, n_markers_per_type=3, seed=0)
    before = torch.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            edges = infer_grn(adata, genes=40, epochs=30, restarts=1, seed=3, top_k=None)
            runs.append(edges.edges.sort_values(["regulator", "target"]).reset_index(drop=True))
    finally:
        torch.set_num_threads(before)
    assert len(runs[0]) > 0
    np.testing.assert_array_equal(runs[0]["score"].to_numpy(), runs[1]["score"].to_numpy())
