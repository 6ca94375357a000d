"""Cell typing of a query that does not fit in memory: ``predict_atlas``.

Train a :class:`~omicsgat.celltype.annotate.CellTypeModel` on a reference as usual (``annotate_cells``), then
predict a query ``.h5ad`` or ``.zarr`` file chunk by chunk. The file is never loaded whole: each task opens it
(h5py / zarr), reads its rows and nothing else, in-process or on Dask workers (which must see the same path).

Two passes over the query:

1. per-gene mean and SD of the log-normalized expression of the model's genes (summed chunk by chunk), so the
   query is standardized over all its cells, as the in-memory path does;
2. per chunk: standardize, project on the reference PCA, build the cell graph and predict.

The cell graph of a chunk: each query cell is joined to its ``n_neighbors`` nearest cells among the chunk's cells
and the reference cells (one PCA, fitted on the reference), symmetrized within the chunk; reference cells see
only the reference (their graph-layer outputs are computed once, before the chunks). What differs from
``annotate_cells(query, reference=...)``: there one PCA and one symmetric kNN graph span all cells at once, so a
query cell can also neighbour query cells of other chunks, and reference cells are updated by query
neighbours; here a cell's neighbours outside its chunk are reference cells only, and the network is not
retrained on the query's graph. Unknown: below the confidence threshold, or (a model trained with the default
``unknown_rule="distance+probability"``) an outlier of the probability test against the model's held-out
cells, its guard measured on a spread sample of ~2,000 query cells; the distance tests, which need every
query cell in one space with the reference, are not applied. The labels do not depend on where the chunks run:
the same ``chunk_size`` gives the same table in-process or on any cluster.

The table (``cell, label, confidence, predicted, novelty, prob_<type>...``) is written chunk by chunk, in the query's
order, to a temporary file beside ``out`` that is renamed over it when every chunk is done (.csv, .tsv or
.parquet).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from omicsgat.celltype.mapping import knn_graph
from omicsgat.celltype.novelty import bulk, probability_novelty
from omicsgat.celltype.prepare import read_labels, standardized_for
from omicsgat.celltype.result import UNKNOWN
from omicsgat.compute import executor, one_thread
from omicsgat.errors import OmicsInputError
from omicsgat.io.atomic import atomic_path
from omicsgat.progress import as_progress
from omicsgat.random import set_seed
from omicsgat.threads import with_thread_budget

DEFAULT_CHUNK = 20_000
OUT_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet")


# ------------------------------------------------------------------ reading rows without loading the file
class _Rows:
    """Rows of a query: an in-memory AnnData, or a .h5ad / .zarr store opened lazily (X read by row range)."""

    def __init__(self, query) -> None:
        self.adata = None
        if not isinstance(query, (str, Path)):
            self.adata = query
            self.var_names = pd.Index(query.var_names.astype(str))
            self.n_obs = query.n_obs
            return
        self.path = Path(query)
        if not self.path.exists():
            raise OmicsInputError(f"The query {self.path} does not exist.")
        group = self._open()
        try:
            from anndata.io import read_elem

            self.var_names = pd.Index(read_elem(group["var"]).index.astype(str))
            self.n_obs = int(self._x(group).shape[0])
        except KeyError as exc:
            raise OmicsInputError(f"{self.path} is not an AnnData store (.h5ad / .zarr): it lacks {exc}.") from None

    def _open(self):
        suffix = self.path.suffix.lower()
        try:
            if suffix == ".h5ad":
                import h5py

                return h5py.File(self.path, "r")
            if suffix == ".zarr":
                import zarr

                return zarr.open_group(str(self.path), mode="r")
        except OSError as exc:
            raise OmicsInputError(f"Cannot read {self.path}: {exc}.") from None
        raise OmicsInputError(f"The query {self.path.name} must be an .h5ad or a .zarr store for chunked prediction.")

    @staticmethod
    def _x(group):
        from anndata.io import sparse_dataset

        x = group["X"]
        return sparse_dataset(x) if dict(x.attrs).get("encoding-type") in ("csr_matrix", "csc_matrix") else x

    def read(self, start: int, stop: int):
        """(cells x genes matrix of rows start:stop, their cell names)."""
        if self.adata is not None:
            part = self.adata[start:stop]
            return part.X, pd.Index(part.obs_names.astype(str))
        group = self._open()
        try:
            obs = group["obs"]
            names = obs[dict(obs.attrs)["_index"]][start:stop]  # only these rows' names
            names = [x.decode("utf-8") if isinstance(x, bytes) else str(x) for x in names]
            return self._x(group)[start:stop], pd.Index(names)
        finally:
            if hasattr(group, "close"):
                group.close()


def _log_normalized(X, is_counts: bool) -> np.ndarray:
    """Per cell: counts -> log1p(counts / total * 1e4) (scanpy's normalize_total + log1p); else as is. Dense float32."""
    import scipy.sparse as sp

    X = X.astype(np.float32) if sp.issparse(X) else np.asarray(X, dtype=np.float32)
    if is_counts:
        total = np.asarray(X.sum(1)).ravel()
        scale = np.where(total > 0, 1e4 / np.maximum(total, 1e-12), 0.0).astype(np.float32)
        X = sp.diags(scale) @ X if sp.issparse(X) else X * scale[:, None]
        X = X.log1p() if sp.issparse(X) else np.log1p(X)
    return X


def _gene_block(X, positions: np.ndarray, n_genes: int) -> np.ndarray:
    """The model's genes as a dense (cells x n_genes) float32 block (absent genes stay 0)."""
    import scipy.sparse as sp

    present = positions >= 0
    out = np.zeros((X.shape[0], n_genes), dtype=np.float32)
    sub = X[:, positions[present]]
    out[:, present] = sub.toarray() if sp.issparse(sub) else sub
    return out


def _looks_like_counts(X) -> bool:
    import scipy.sparse as sp

    data = X.data if sp.issparse(X) else np.asarray(X).ravel()
    data = data[:100_000]
    return bool(data.size) and bool(np.all(data >= 0)) and bool(np.allclose(data, np.round(data)))


# ------------------------------------------------------------------ tasks
def _stats_task(start: int, stop: int, *, query, positions, n_genes, is_counts):
    """Pass 1 (a task): sum, sum of squares and count of the log-normalized model genes over rows start:stop."""
    X, _ = _Rows(query).read(start, stop)
    block = _gene_block(_log_normalized(X, is_counts), positions, n_genes)
    return block.sum(0, dtype=np.float64), np.square(block, dtype=np.float64).sum(0), block.shape[0]


@dataclass
class _Context:
    """What every chunk needs, sent to the workers once."""

    net: object
    temperature: float
    classes: list
    threshold: float
    positions: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    is_counts: bool
    pca_mean: np.ndarray
    pca_components: np.ndarray
    ref_pca: np.ndarray
    ref_x0: object  # graph-layer input of the reference cells (torch)
    ref_x1: object  # first graph-layer output of the reference cells (torch)
    n_neighbors: int
    step: int  # cells encoded and graph rows computed at a time (bounds a worker's memory)
    calibration: Optional[np.ndarray] = None  # the model's held-out top probabilities (probability test)
    novelty_alpha: float = 0.02
    center: Optional[tuple] = None  # the query's bulk of 1 - top probability, from a sample of its cells


def _proba_of_rows(query, spans, ctx: _Context) -> tuple[np.ndarray, pd.Index]:
    """Probabilities of the rows of ``spans`` (one chunk), and their cell names."""
    import scipy.sparse as sp
    import torch

    rows = _Rows(query)
    parts = [rows.read(s, e) for s, e in spans]
    X, cells = parts[0]
    if len(parts) > 1:  # a sample: runs of rows stacked into one chunk
        X = (
            sp.vstack([sp.csr_matrix(x) for x, _ in parts])
            if any(sp.issparse(x) for x, _ in parts)
            else np.vstack([np.asarray(x) for x, _ in parts])
        )
        cells = cells.append([c for _, c in parts[1:]])
    with one_thread(), torch.no_grad():
        z = _gene_block(_log_normalized(X, ctx.is_counts), ctx.positions, len(ctx.mean))
        z -= ctx.mean.astype(np.float32)
        z /= ctx.sd.astype(np.float32)
        np.clip(z, -10.0, 10.0, out=z)
        return _chunk_proba(ctx, z), cells


def _sample_confidence_task(spans, *, query, ctx: _Context) -> np.ndarray:
    """Top probabilities of a sample of the query's cells predicted as one chunk (a task): the query's bulk."""
    return _proba_of_rows(query, spans, ctx)[0].max(1)


def _predict_task(start: int, stop: int, *, query, ctx: _Context) -> pd.DataFrame:
    """Pass 2 (a task): the label table of rows start:stop."""
    proba, cells = _proba_of_rows(query, [(start, stop)], ctx)
    frame = pd.DataFrame(index=pd.Index(cells, name="cell"))
    frame["label"] = ""
    frame["confidence"] = proba.max(1)
    frame["predicted"] = np.asarray(ctx.classes, dtype=object)[proba.argmax(1)]
    frame["novelty"] = (
        np.full(len(frame), np.nan)
        if ctx.calibration is None
        else probability_novelty(
            ctx.calibration, frame["confidence"].to_numpy(), alpha=ctx.novelty_alpha, center=ctx.center
        )[0]
    )
    unknown = (frame["confidence"] < ctx.threshold) | (frame["novelty"].fillna(0.0) > 1.0)
    frame["label"] = frame["predicted"].where(~unknown, UNKNOWN)
    frame["mapping_score"] = np.nan  # the distance test needs the whole query mapped at once: not applied here
    frame["unknown_reason"] = np.where(unknown.to_numpy(), "probability", "").astype(object)
    for i, c in enumerate(ctx.classes):
        frame[f"prob_{c}"] = proba[:, i]
    return frame


def _chunk_proba(ctx: _Context, z: np.ndarray) -> np.ndarray:
    """Encode the chunk, join it to its nearest chunk and reference cells, two graph layers, calibrated softmax."""
    import scipy.sparse as sp
    import sklearn
    import torch
    from sklearn.neighbors import NearestNeighbors

    from omicsgat.celltype.train import encode_all

    net = ctx.net
    n, n_ref = z.shape[0], ctx.ref_pca.shape[0]
    pca = ((z - ctx.pca_mean) @ ctx.pca_components.T).astype(np.float32)
    space = np.vstack([pca, ctx.ref_pca])
    k = int(min(ctx.n_neighbors, space.shape[0] - 1))
    with sklearn.config_context(working_memory=256):  # MB of distances at a time (default 1 GB)
        _, nbr = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(space).kneighbors(pca)
    rows = np.repeat(np.arange(n), k + 1)
    cols = nbr.ravel()
    keep = cols != rows  # no self loops
    A = sp.csr_matrix((np.ones(int(keep.sum()), np.float32), (rows[keep], cols[keep])), shape=(n, n + n_ref))
    inner = A[:, :n]
    A = sp.hstack([((inner + inner.T) > 0).astype(np.float32), A[:, n:]]).tocsr()  # symmetric within the chunk
    A.sort_indices()
    dst = np.repeat(np.arange(n), np.diff(A.indptr))
    src = A.indices.astype(np.int64)
    used = np.unique(src[src >= n]) - n  # reference cells next to the chunk
    local = np.where(src < n, src, n + np.searchsorted(used, src - n))
    h = encode_all(net, z, "cpu", ctx.step)
    x0 = torch.cat([net.graph_input(h), ctx.ref_x0[torch.from_numpy(used)]])
    g1 = _conv_by_rows(net, net.gat1, x0, local, dst, n, ctx.step)
    g2 = _conv_by_rows(net, net.gat2, torch.cat([g1, ctx.ref_x1[torch.from_numpy(used)]]), local, dst, n, ctx.step)
    logits = net.readout(h, g2)
    return torch.softmax(logits / ctx.temperature, 1).double().numpy()


def _conv_by_rows(net, layer, x, src: np.ndarray, dst: np.ndarray, n_dst: int, step: int):
    """One graph layer for destination nodes ``0..n_dst``, ``step`` of them at a time (``dst`` sorted).

    The per-edge messages of a whole chunk (edges x heads x hidden) would take gigabytes on a worker;
    each destination's softmax is over its own edges, so the rows can be computed apart (as
    :func:`omicsgat.celltype.train.infer_logits` does in memory).
    """
    import torch

    starts = list(range(0, n_dst, step))
    bounds = np.searchsorted(dst, starts + [n_dst])
    out = []
    for i, s in enumerate(starts):
        lo, hi = bounds[i], bounds[i + 1]
        ei = torch.from_numpy(np.stack([src[lo:hi], dst[lo:hi] - s]).astype(np.int64))
        out.append(net.conv(layer, x, ei, min(n_dst, s + step) - s, start=s))
    return torch.cat(out)


# ------------------------------------------------------------------ the reference side, once
def _reference_task(*, model, reference, label_key: Optional[str], seed: int):
    """Standardized reference, its PCA, and its cells' graph-layer inputs and first-layer outputs (a task).

    On a cluster a worker holds the dense standardized reference (cells x genes) and its temporaries, not the
    main process; on one thread, so it gives the same numbers wherever it runs.
    """
    import torch
    from sklearn.decomposition import (
        PCA,  # the settings of omicsgat.celltype.prepare._pca, kept to project the query
    )

    from omicsgat.celltype.train import conv_all, encode_all

    if label_key is not None:  # the cells annotate_cells trained on: the labelled ones
        _, missing = read_labels(reference, label_key, "the reference")
        reference = reference[~missing]
    with one_thread(), torch.no_grad():
        z_ref, n_present = standardized_for(reference, model.genes)
        if n_present < 0.5 * len(model.genes):
            raise OmicsInputError(
                f"The reference holds only {n_present} of the model's {len(model.genes)} genes: "
                "give the reference the model was trained on."
            )
        net = model.net.to("cpu").eval()
        # 1,024 cells at a time: the gene attention's temporaries are cells x genes
        x0 = net.graph_input(encode_all(net, z_ref, "cpu", 1024)).contiguous()
        n_pcs = int(min(model.graph["n_pcs"], z_ref.shape[0] - 1, z_ref.shape[1]))
        # copy=False: PCA centres the standardized reference in place (not needed after) instead of copying it
        pca = PCA(
            n_components=n_pcs,
            svd_solver="randomized" if min(z_ref.shape) > 500 else "full",
            random_state=seed,
            copy=False,
        )
        ref_pca = pca.fit_transform(z_ref).astype(np.float32)
        del z_ref
        indptr, indices = knn_graph(ref_pca, model.graph["n_neighbors"])
        x1 = conv_all(net, net.gat1, x0, indptr, indices, "cpu", model.config.chunk)
    return pca, ref_pca, x0, x1


@with_thread_budget
def predict_atlas(
    model,
    query,
    reference,
    *,
    out,
    label_key: Optional[str] = None,
    chunk_size: int = DEFAULT_CHUNK,
    unknown_threshold: Optional[float] = None,
    scheduler=None,
    seed: int = 0,
    progress=None,
    cancel=None,
) -> dict:
    """Annotate a query too large for memory with a trained model, chunk by chunk; write the labels to ``out``.

    ``model``: a :class:`~omicsgat.celltype.annotate.CellTypeModel` (``result.model`` of ``annotate_cells``, or
    ``CellTypeModel.load``). ``query``: a ``.h5ad`` or ``.zarr`` path (read lazily) or an in-memory AnnData.
    ``reference``: the labelled AnnData the model was trained on (``label_key`` drops its unlabelled cells).
    ``scheduler``: where the chunks run (:mod:`omicsgat.compute`). Returns a summary (cells, chunks, seconds,
    cells per second, label counts, where it ran).
    """
    out = Path(out)
    if out.suffix.lower() not in OUT_SUFFIXES:
        raise OmicsInputError(f"Write the labels to a .csv, .tsv or .parquet file, not {out.name!r}.")
    if int(chunk_size) < 1:
        raise OmicsInputError(f"chunk_size must be at least 1 cell, got {chunk_size}.")
    if unknown_threshold is not None and not 0.0 <= float(unknown_threshold) <= 1.0:
        raise OmicsInputError(f"unknown_threshold must be between 0 and 1 (got {unknown_threshold}).")
    prog = as_progress(progress, cancel)
    started = time.perf_counter()
    set_seed(seed)
    with executor(scheduler) as ex:  # a bad scheduler fails here, before any work
        rows = _Rows(query)
        if rows.n_obs == 0:
            raise OmicsInputError("The query holds no cell.")
        positions = rows.var_names.get_indexer(pd.Index(model.genes))
        n_present = int((positions >= 0).sum())
        if n_present < 0.5 * len(model.genes):
            raise OmicsInputError(
                f"This model was trained on other genes: only {n_present} of its {len(model.genes)} genes are in the "
                "query. Check the gene identifiers (symbols vs Ensembl IDs) and species."
            )
        spans = [(s, min(rows.n_obs, s + int(chunk_size))) for s in range(0, rows.n_obs, int(chunk_size))]
        first, _ = rows.read(0, min(rows.n_obs, 1000))
        is_counts = _looks_like_counts(first)
        qref = str(Path(query).resolve()) if isinstance(query, (str, Path)) else ex.scatter(query)
        prog(0.0, f"{rows.n_obs} cells in {len(spans)} chunks on {ex.description}: reference side")
        ((pca, ref_pca, x0, x1),) = ex.map(
            _reference_task,
            [()],
            progress=prog.span(0.0, 0.05),
            label="reference side",
            shared={
                "model": ex.scatter(model, broadcast=False),
                "label_key": label_key,
                "reference": ex.scatter(reference, broadcast=False),
                "seed": seed,
            },
        )
        net = model.net.to("cpu").eval()
        prog(0.05, "query gene statistics")
        stats = ex.map(
            _stats_task,
            spans,
            progress=prog.span(0.05, 0.3),
            label="statistics chunk",
            shared={"query": qref, "positions": positions, "n_genes": len(model.genes), "is_counts": is_counts},
        )
        total = sum(s[0] for s in stats)
        squares = sum(s[1] for s in stats)
        count = sum(s[2] for s in stats)
        mean = total / count
        sd = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
        sd[sd < 1e-8] = 1.0
        threshold = model.threshold if unknown_threshold is None else float(unknown_threshold)
        ctx = _Context(
            net,
            model.temperature,
            list(model.classes),
            threshold,
            positions,
            mean,
            sd,
            is_counts,
            pca.mean_.astype(np.float32),
            pca.components_.astype(np.float32),
            ref_pca,
            x0,
            x1,
            int(model.graph["n_neighbors"]),
            int(model.config.chunk),
            model.calibration,
            model.novelty_alpha,
        )
        if model.calibration is not None:  # the probability test's guard needs the query's bulk: a spread sample
            (conf,) = ex.map(
                _sample_confidence_task,
                [(_sample_spans(rows.n_obs),)],
                label="query sample",
                shared={"query": qref, "ctx": ex.scatter(ctx, broadcast=False)},
            )
            ctx = replace(ctx, center=bulk(1.0 - conf))
        counts: dict = {}
        with atomic_path(out) as tmp:
            writer = _Writer(tmp, out.suffix.lower())
            waiting: dict = {}
            state = {"next": 0}

            def take(i: int, frame: pd.DataFrame) -> None:
                """Write finished chunks in the query's order (later ones wait in memory until then)."""
                waiting[i] = frame
                while state["next"] in waiting:
                    part = waiting.pop(state["next"])
                    for k, v in part["label"].value_counts().items():
                        counts[k] = counts.get(k, 0) + int(v)
                    writer.write(part)
                    state["next"] += 1

            ex.map(
                _predict_task,
                spans,
                progress=prog.span(0.3, 1.0),
                label="prediction chunk",
                shared={"query": qref, "ctx": ex.scatter(ctx)},
                on_result=take,
            )
            writer.close()
        where = ex.description
    seconds = time.perf_counter() - started
    prog(1.0, "done")
    return {
        "n_cells": rows.n_obs,
        "n_chunks": len(spans),
        "chunk_size": int(chunk_size),
        "seconds": seconds,
        "cells_per_second": rows.n_obs / seconds if seconds > 0 else float("nan"),
        "labels": counts,
        "unknown_threshold": threshold,
        "scheduler": where,
        "n_genes_present": n_present,
        "out": str(out),
        "input_kind": "counts (log-normalized per cell here)" if is_counts else "log-normalized",
    }


def _sample_spans(n_obs: int, n_cells: int = 2000, pieces: int = 10) -> list[tuple[int, int]]:
    """Row ranges of about ``n_cells`` cells in ``pieces`` evenly spread runs (distinct, in order)."""
    per = max(1, min(n_obs, n_cells) // pieces)
    starts = np.unique(np.linspace(0, max(0, n_obs - per), pieces).astype(int))
    spans, end = [], 0
    for s in starts:
        s = max(int(s), end)
        if s < min(n_obs, s + per):
            spans.append((s, min(n_obs, s + per)))
            end = spans[-1][1]
    return spans


def query_sample(query, n_cells: int = 2000, pieces: int = 10):
    """An in-memory AnnData of about ``n_cells`` query cells in ``pieces`` evenly spread runs (for training)."""
    import anndata as ad
    import scipy.sparse as sp

    rows = _Rows(query)
    parts, names = [], []
    for s, e in _sample_spans(rows.n_obs, n_cells, pieces):
        X, cells = rows.read(s, e)
        parts.append(sp.csr_matrix(X) if sp.issparse(X) else np.asarray(X))
        names.append(cells)
    X = sp.vstack(parts).tocsr() if sp.issparse(parts[0]) else np.vstack(parts)
    index = names[0].append(names[1:]) if len(names) > 1 else names[0]
    sample = ad.AnnData(X=X, obs=pd.DataFrame(index=index), var=pd.DataFrame(index=rows.var_names))
    return sample[~sample.obs_names.duplicated()].copy()


class _Writer:
    """Appends label tables to one file: CSV/TSV text, or Parquet row groups."""

    def __init__(self, path: Path, suffix: str) -> None:
        self.path, self.suffix = path, suffix
        self._parquet = None
        self._fh = None if suffix == ".parquet" else open(path, "w", encoding="utf-8", newline="")
        self._header = True

    def write(self, frame: pd.DataFrame) -> None:
        if self._fh is not None:
            frame.to_csv(self._fh, sep="," if self.suffix == ".csv" else "\t", header=self._header)
            self._header = False
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame.reset_index(), preserve_index=False)
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.path), table.schema)
        self._parquet.write_table(table)

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._parquet is not None:
            self._parquet.close()
