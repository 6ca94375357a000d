"""Dask scale-out: the same results in-process and on a 2-worker local cluster, bad schedulers, lost workers, chunks."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from omicsgat.errors import Cancelled, OmicsInputError  # noqa: E402

GRN = dict(genes=120, device="cpu", epochs=25, restarts=1, seed=0, block_size=40)


@pytest.fixture(scope="module")
def client():
    """One local cluster (2 one-thread workers on 127.0.0.1) for the module, closed at the end."""
    from distributed import Client

    from omicsgat.compute import local_cluster

    cluster = local_cluster(2)
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def _regs(adata):
    return list(adata.var_names[adata.var["is_regulator"].to_numpy()])


@pytest.fixture(scope="module")
def grn_in_process(small_scrna):
    from omicsgat.grn import infer_grn

    return infer_grn(small_scrna, regulators=_regs(small_scrna), **GRN)


def test_grn_blocks_give_the_same_edges_on_two_workers(small_scrna, grn_in_process, client):
    from omicsgat.grn import infer_grn

    on_cluster = infer_grn(small_scrna, regulators=_regs(small_scrna), scheduler=client, **GRN)
    assert grn_in_process.params["n_blocks"] == 3 and on_cluster.params["n_blocks"] == 3
    assert on_cluster.params["scheduler"].endswith("2 workers")
    pd.testing.assert_frame_equal(grn_in_process.edges, on_cluster.edges)


def test_one_block_is_the_joint_fit_and_a_blocked_model_reloads(small_scrna, grn_in_process, tmp_path):
    from omicsgat.grn import infer_grn
    from omicsgat.grn.persist import GRNModel

    kw = {**GRN, "block_size": None}
    joint = infer_grn(small_scrna, regulators=_regs(small_scrna), **kw)
    one_block = infer_grn(small_scrna, regulators=_regs(small_scrna), **{**GRN, "block_size": 10_000})
    assert joint.params["n_blocks"] == 1 and joint.params["scheduler"] == "in-process"
    pd.testing.assert_frame_equal(joint.edges, one_block.edges)
    # blocks train apart: not the joint fit's scores, but still the same planted network ranks high
    assert not np.allclose(np.sort(joint.edges["contribution"]), np.sort(grn_in_process.edges["contribution"]))
    grn_in_process.save_model(tmp_path / "m")
    back = GRNModel.load(tmp_path / "m")
    assert np.array_equal(back.edge_block, grn_in_process.model.edge_block)  # each state knows its block
    assert sorted(set(back.edge_block.tolist())) == [0, 1, 2] and len(back.states) == 3


def test_killed_worker_during_a_grn_run_is_recovered(small_scrna, grn_in_process, client):
    """SIGKILL one worker while it trains a block: the nanny restarts it, Dask reruns the task, same edges."""
    from omicsgat.grn import infer_grn

    killed = []

    def killer():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            busy = [w for w, tasks in client.processing().items() if any("GRN_block" in str(t) for t in tasks)]
            if busy:
                time.sleep(1.0)  # let it get into the training loop
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    result = infer_grn(small_scrna, regulators=_regs(small_scrna), scheduler=client, **GRN)
    thread.join(5)
    assert killed, "no worker was killed: the test did not exercise recovery"
    pd.testing.assert_frame_equal(grn_in_process.edges, result.edges)
    client.wait_for_workers(2, timeout=60)


def test_prognosis_same_risks_in_process_and_on_two_workers(small_cohort, client):
    from omicsgat.prognosis import run_prognosis

    kw = dict(folds=2, ensemble=2, epochs=20, device="cpu", seed=0, model_options={"wide": "learned"})
    here = run_prognosis(small_cohort, **kw)
    there = run_prognosis(small_cohort, scheduler=client, **kw)
    assert np.array_equal(here.risk["risk"].to_numpy(), there.risk["risk"].to_numpy())
    assert here.summary["scheduler"] == "in-process" and "2 workers" in there.summary["scheduler"]
    assert there.members["best_epoch"].tolist() == here.members["best_epoch"].tolist()


def test_cancel_stops_the_cluster_tasks(small_cohort, client):
    from omicsgat.prognosis import run_prognosis
    from omicsgat.progress import CancelToken

    token = CancelToken()

    def progress(fraction, message):
        if "done" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        run_prognosis(
            small_cohort,
            folds=2,
            ensemble=3,
            epochs=40,
            device="cpu",
            seed=0,
            scheduler=client,
            progress=progress,
            cancel=token,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(client.processing().values()):
        time.sleep(0.1)
    assert not any(client.processing().values())  # nothing of the run is left on the workers


@pytest.fixture(scope="module")
def atlas_case():
    from omicsgat.celltype import annotate_cells
    from omicsgat.simulate import simulate_scrna

    data = simulate_scrna(
        n_cells=1000, n_genes=120, n_regulators=20, n_cell_types=4, n_batches=2, batch_effect=0.3, seed=11
    )
    ref = data[data.obs["batch"] == "batch0"].copy()
    query = data[data.obs["batch"] == "batch1"].copy()
    truth = query.obs.pop("cell_type").astype(str)
    trained = annotate_cells(query[:100].copy(), "cell_type", ref, epochs=8, seed=0)
    return trained.model, ref, query, truth


def test_chunked_prediction_from_disk_on_workers_equals_in_memory(atlas_case, client, tmp_path):
    from omicsgat.celltype.atlas import predict_atlas

    model, ref, query, truth = atlas_case
    query.write_h5ad(tmp_path / "q.h5ad")
    query.write_zarr(tmp_path / "q.zarr")
    before = (tmp_path / "q.h5ad").read_bytes()
    here = predict_atlas(model, query, ref, out=tmp_path / "mem.csv", label_key="cell_type", chunk_size=150)
    there = predict_atlas(
        model,
        str(tmp_path / "q.h5ad"),
        ref,
        out=tmp_path / "disk.parquet",
        label_key="cell_type",
        chunk_size=150,
        scheduler=client,
    )
    predict_atlas(
        model, str(tmp_path / "q.zarr"), ref, out=tmp_path / "zarr.tsv", label_key="cell_type", chunk_size=150
    )
    assert here["n_chunks"] == there["n_chunks"] == 4 and "2 workers" in there["scheduler"]
    a = pd.read_csv(tmp_path / "mem.csv", index_col=0)
    b = pd.read_parquet(tmp_path / "disk.parquet").set_index("cell")
    c = pd.read_csv(tmp_path / "zarr.tsv", sep="\t", index_col=0)
    assert list(a.index) == list(query.obs_names) and a.index.equals(b.index) and a.index.equals(c.index)
    assert (a["label"] == b["label"]).all() and (a["label"] == c["label"]).all()
    probs = [col for col in a.columns if col.startswith("prob_")]
    assert np.allclose(a[probs].to_numpy(), b[probs].to_numpy(), atol=1e-6)
    assert np.allclose(a[probs].to_numpy(), c[probs].to_numpy(), atol=1e-6)
    assert (a["predicted"].to_numpy() == truth.to_numpy()).mean() > 0.9  # the planted types are found
    assert (tmp_path / "q.h5ad").read_bytes() == before  # the input is never modified
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file is left behind


def test_chunk_size_changes_only_cross_chunk_neighbours(atlas_case, tmp_path):
    from omicsgat.celltype.atlas import predict_atlas

    model, ref, query, _ = atlas_case
    predict_atlas(model, query, ref, out=tmp_path / "one.csv", label_key="cell_type", chunk_size=10_000)
    predict_atlas(model, query, ref, out=tmp_path / "many.csv", label_key="cell_type", chunk_size=100)
    one, many = pd.read_csv(tmp_path / "one.csv", index_col=0), pd.read_csv(tmp_path / "many.csv", index_col=0)
    assert (one["predicted"] == many["predicted"]).mean() > 0.95


def test_bad_scheduler_address_is_a_clear_error_before_any_work(small_scrna):
    from omicsgat.grn import infer_grn

    with pytest.raises(OmicsInputError, match="Cannot reach the Dask scheduler"):
        infer_grn(small_scrna, scheduler="tcp://127.0.0.1:9", **{**GRN, "block_size": None})
    for bad, match in (("processes:0", "processes:N"), ("processes:999", "cores"), ("bogus", "Unknown scheduler")):
        with pytest.raises(OmicsInputError, match=match):
            infer_grn(small_scrna, scheduler=bad, **{**GRN, "block_size": None})


def test_cli_bad_scheduler_exits_2_before_reading_the_data(tmp_path, capsys):
    from omicsgat.cli import main

    code = main(
        ["grn", str(tmp_path / "missing.h5ad"), "--out", str(tmp_path / "e.tsv"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Dask scheduler" in err and "missing.h5ad" not in err


def test_environment_variable_and_descriptions(monkeypatch):
    from omicsgat.compute import describe, resolve_scheduler

    monkeypatch.setenv("OMICSGAT_SCHEDULER", "processes:2")
    assert resolve_scheduler(None) == "processes:2" and describe() == "local cluster, 2 workers"
    assert resolve_scheduler("in-process") is None and describe("in-process") == "in-process"
    assert describe("tcp://10.0.0.1:8786") == "tcp://10.0.0.1:8786"


def test_missing_dask_extra_is_a_clear_error(monkeypatch):
    import builtins

    from omicsgat import compute

    real = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError("no distributed")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    with pytest.raises(OmicsInputError, match=r"omicsgat\[dask\]"):
        with compute.executor("processes:1"):
            pass


def test_cli_atlas_mode_needs_a_reference_and_a_table_output(tmp_path, capsys):
    from omicsgat.cli import main

    q = str(tmp_path / "q.h5ad")
    assert main(["celltype", q, "--label-key", "t", "--out", str(tmp_path / "o.csv"), "--chunk-size", "10"]) == 2
    assert "--reference" in capsys.readouterr().err
    assert (
        main(
            [
                "celltype",
                q,
                "--label-key",
                "t",
                "--reference",
                q + "r",
                "--out",
                str(tmp_path / "o.xlsx"),
                "--chunk-size",
                "10",
            ]
        )
        == 2
    )
    assert ".parquet" in capsys.readouterr().err


def test_chunked_prediction_calls_a_type_absent_from_the_reference_unknown(tmp_path):
    """The probability test travels with the model: a planted type the reference lacks is Unknown chunk by
    chunk (the confidence threshold alone calls none of it on this data), known types are not."""
    from omicsgat.celltype import annotate_cells
    from omicsgat.celltype.atlas import predict_atlas, query_sample
    from omicsgat.simulate import simulate_scrna

    data = simulate_scrna(
        n_cells=2000, n_genes=200, n_regulators=20, n_cell_types=4, n_batches=2, batch_effect=0.3, seed=1
    )
    ref = data[(data.obs["batch"] == "batch0") & (data.obs["cell_type"] != "type_D")].copy()
    query = data[data.obs["batch"] == "batch1"].copy()
    absent = (query.obs.pop("cell_type") == "type_D").to_numpy()
    order = np.argsort(~absent, kind="stable")  # ordered: the absent type fills the first chunks
    query, absent = query[order].copy(), absent[order]
    query.write_h5ad(tmp_path / "q.h5ad")
    model = annotate_cells(query_sample(str(tmp_path / "q.h5ad")), "cell_type", ref, epochs=8, seed=0).model
    assert model.calibration is not None
    predict_atlas(
        model, str(tmp_path / "q.h5ad"), ref, out=tmp_path / "labels.csv", label_key="cell_type", chunk_size=200
    )
    labels = pd.read_csv(tmp_path / "labels.csv", index_col=0)
    unknown = (labels["label"] == "Unknown").to_numpy()
    assert unknown[absent].mean() > 0.8 and unknown[~absent].mean() < 0.05
    assert (labels["novelty"].to_numpy()[absent] > 1).mean() > 0.8
    # the same columns as the in-memory path; the distance test is not applied chunk by chunk
    assert labels["mapping_score"].isna().all()
    assert (labels["unknown_reason"].fillna("").to_numpy()[unknown] == "probability").all()
