"""The pieces behind the Unknown calls: temperature scaling, the threshold cap, neighbourhood novelty, old model files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from omicsgat.celltype.mapping import smooth_on_graph
from omicsgat.celltype.novelty import neighbourhood_novelty, probability_threshold
from omicsgat.celltype.train import fit_temperature


def test_temperature_undoes_overconfident_logits():
    rng = np.random.default_rng(0)
    n, k = 3000, 4
    logits = torch.tensor(rng.normal(size=(n, k)) * 2, dtype=torch.float32)
    # labels drawn from softmax(logits): these logits are calibrated, so 8 x them is over-confident by T = 8
    p = torch.softmax(logits, 1).numpy()
    y = torch.tensor([rng.choice(k, p=row / row.sum()) for row in p])
    t, loss = fit_temperature(logits * 8, y)
    assert 5.5 < t < 11
    assert loss < float(torch.nn.functional.cross_entropy(logits * 8, y)) - 0.5


def test_threshold_is_a_low_quantile_of_correct_cells_and_capped():
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.95, 0.05], [0.55, 0.45]])
    y = np.array([0, 0, 1, 0, 1])  # the last one is wrong and does not count
    assert probability_threshold(proba, y, 0.0) == pytest.approx(0.6)
    assert probability_threshold(proba, y, 0.0, cap=0.2) == pytest.approx(0.2)
    assert probability_threshold(proba, np.array([1, 1, 0, 1, 1]), 0.01) == 0.0  # nothing right: no threshold


def test_smoothing_averages_over_the_neighbourhood_and_skips_nan():
    # path graph 0-1-2-3
    A = sp.csr_matrix(np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=np.float32))
    out = smooth_on_graph(np.array([1.0, np.nan, 3.0, 5.0]), A.indptr, A.indices)
    assert np.allclose(out, [1.0, 2.0, 4.0, 4.0])


def _knn(points, k=8):
    from omicsgat.celltype.mapping import knn_graph

    return knn_graph(points.astype(np.float32), k)


def test_a_population_missing_from_the_reference_is_novel_but_stray_cells_are_not():
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0], [8, 0], [0, 8]], dtype=float)
    ref = np.vstack([c + rng.normal(size=(150, 2)) for c in centres])
    y_ref = np.repeat([0, 1, 2], 150)
    known = np.vstack([c + rng.normal(size=(100, 2)) for c in centres])
    known[0] = [3.0, 0.5]  # a stray type-0 cell in the tail, towards type 1
    new = np.array([8, 8]) + rng.normal(size=(100, 2))  # a fourth type the reference lacks
    space = np.vstack([ref, known, new])
    y = np.concatenate([y_ref, -np.ones(400, int)])
    pred = np.concatenate([y_ref, np.repeat([0, 1, 2], 100), np.full(100, 1)])  # the new type is called type 1
    indptr, indices = _knn(space)
    train = np.arange(450)
    nov, cut = neighbourhood_novelty(space, y, pred, train, indptr, indices)
    assert np.isfinite(cut) and cut > 0
    assert (nov[750:] > 1).mean() > 0.9
    assert (nov[450:750] > 1).mean() == 0.0
    from omicsgat.celltype.novelty import DistanceCheck

    raw = DistanceCheck(space, y, train).ratio(space[450:451], pred[450:451])[0]
    assert raw > np.quantile(DistanceCheck(space, y, train).train_ratio, 0.95)  # alone it is in the far tail


def test_models_saved_by_0_1_0_before_the_skip_path_still_load(tmp_path):
    """0.1.0 wrote one .safetensors file with JSON metadata; its first models had no skip path and no temperature."""
    from dataclasses import asdict

    from safetensors.torch import save_file

    from omicsgat.celltype import CellTypeModel
    from omicsgat.celltype.model import CellTypeGAT
    from omicsgat.celltype.train import TrainConfig

    config = TrainConfig(skip=False, hidden=8, heads=1, attention_hidden=4)
    net = CellTypeGAT(5, 2, **config.model_kwargs())
    meta = {
        "format": "omicsgat-celltype-1",
        "config": asdict(config),
        "genes": list("abcde"),
        "classes": ["x", "y"],
        "threshold": 0.3,
        "graph": {"n_pcs": 3, "n_neighbors": 3},
    }
    del meta["config"]["skip"]
    path = tmp_path / "m.safetensors"
    save_file(
        {k: v.contiguous() for k, v in net.state_dict().items()}, str(path), metadata={"omicsgat": json.dumps(meta)}
    )
    model = CellTypeModel.load(path)
    assert model.net.skip is None and model.temperature == 1.0 and model.genes == list("abcde")
    for k, v in net.state_dict().items():
        assert torch.equal(model.net.state_dict()[k], v), k
