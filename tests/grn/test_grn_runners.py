"""The front of infer_grn refuses a bad request before touching the data; the supervised runner stays in-process."""

from __future__ import annotations

import pytest

from omicsgat.errors import OmicsInputError


def test_supervised_runs_in_process_whatever_the_scheduler_setting(small_scrna, monkeypatch):
    from omicsgat.grn import infer_grn
    from omicsgat.simulate import true_network

    monkeypatch.setenv("OMICSGAT_SCHEDULER", "tcp://127.0.0.1:9")  # nothing listens there: reaching it would fail
    regulators = [g for g in small_scrna.var_names if g.startswith("REG")]
    prior = true_network(small_scrna)
    res = infer_grn(
        small_scrna, genes=60, regulators=regulators, prior=prior, mode="supervised", epochs=3, device="cpu", seed=0
    )
    assert res.params["mode"] == "supervised" and res.params["scheduler"] == "in-process"
    assert res.params["n_blocks"] == 1 and res.params["top_k"] is None
    assert res.split is not None and set(res.split["split"]) == {"train", "val", "test"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "supervised", "prior": "p.tsv", "pseudotime": "time"}, "unsupervised mode only"),
        ({"mode": "supervised"}, "give a prior network"),
        ({"mode": "joint"}, "Unknown GRN mode 'joint'"),
        ({"block_size": 0}, "block_size"),
    ],
)
def test_a_bad_request_is_refused_before_the_data_is_read(settings, message):
    from omicsgat.grn import infer_grn

    with pytest.raises(OmicsInputError, match=message):
        infer_grn(None, device="cpu", **settings)  # None: any look at the data would fail otherwise
