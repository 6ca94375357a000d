"""The training pieces: the linear start is a real logistic regression, the refit uses every labelled cell."""

from __future__ import annotations

import numpy as np
import torch


def test_linear_start_matches_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    from omicsgat.celltype.train import fit_linear

    rng = np.random.default_rng(0)
    n, g, k = 300, 12, 3
    y = rng.integers(0, k, n)
    z = rng.normal(size=(n, g)) + np.eye(k, g)[y] * 1.5  # each class lifts one gene
    l2 = 1e-2
    W, b = fit_linear(torch.tensor(z, dtype=torch.float32), torch.tensor(y), k, torch.ones(k), l2)
    # same objective: sklearn minimizes |W|^2 / 2 + C * sum(CE) = (mean(CE) + l2 |W|^2 / 2) / l2  with C = 1 / (l2 n)
    ref = LogisticRegression(C=1 / (l2 * n), tol=1e-10, max_iter=5000).fit(z, y)
    # softmax logits are defined up to a shift per sample: compare the centred coefficients
    Wc = W.numpy() - W.numpy().mean(0)
    assert np.abs(Wc - (ref.coef_ - ref.coef_.mean(0))).max() < 2e-3
    assert (np.argmax(z @ W.numpy().T + b.numpy(), 1) == ref.predict(z)).mean() == 1.0


def test_refit_trains_on_every_labelled_cell(small_scrna):
    """The returned network starts from the linear fit on all labelled cells, not only the training split."""
    from omicsgat.celltype import annotate_cells
    from omicsgat.celltype.prepare import prepare
    from omicsgat.celltype.train import class_weights, fit_linear

    adata = small_scrna[:300].copy()
    adata.obs["lab"] = adata.obs["cell_type"].astype(object)
    adata.obs.loc[adata.obs_names[::3], "lab"] = None
    res = annotate_cells(adata, "lab", epochs=3, seed=0)
    assert res.params["refit_on_all_labelled"]
    assert res.params["n_train"] < 200  # the first fit held cells out
    # these easy types are separated by the linear start alone, so held-out cells keep epoch 0 ...
    assert res.params["best_epoch"] == 0
    # ... and the returned network is the linear fit on all 200 labelled cells
    prep = prepare(adata, "lab", None, seed=0)
    lab = np.flatnonzero(prep.y >= 0)
    y = torch.from_numpy(prep.y)
    W, _ = fit_linear(
        torch.from_numpy(prep.z[lab]),
        y[lab],
        len(prep.classes),
        class_weights(prep.y[lab], len(prep.classes)),
        res.model.config.linear_l2,
    )
    assert torch.allclose(res.model.net.skip.weight, W, atol=1e-5)


def test_linear_start_penalty_is_chosen_on_held_out_cells_and_grows_with_label_noise():
    """Gene j marks type j mod 3: clean labels want the weakest penalty; 40 % flipped training labels a stronger one."""
    from omicsgat.celltype.train import LINEAR_L2_GRID, choose_linear_l2
    from omicsgat.progress import as_progress

    rng = np.random.default_rng(5)
    n, g, k = 240, 100, 3
    y = np.repeat(np.arange(k), n // k)
    z = (rng.normal(size=(n, g)) + np.eye(k)[y][:, np.arange(g) % k]).astype(np.float32)
    train, val = np.arange(0, n, 2), np.arange(1, n, 2)
    clean = choose_linear_l2(z, torch.from_numpy(y), train, val, k, "cpu", as_progress(None))
    noisy_y = y.copy()
    flip = train[rng.random(train.size) < 0.4]
    noisy_y[flip] = (noisy_y[flip] + rng.integers(1, k, flip.size)) % k  # wrong labels in training only
    noisy = choose_linear_l2(z, torch.from_numpy(noisy_y), train, val, k, "cpu", as_progress(None))
    assert clean in LINEAR_L2_GRID and noisy in LINEAR_L2_GRID
    assert noisy > clean
