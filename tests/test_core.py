"""Device choice, seeding, progress/cancel, atomic writes, AnnData keys, X detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omicsgat.errors import Cancelled, OmicsInputError


def test_auto_device_is_available_and_explicit_missing_device_is_refused():
    import torch

    from omicsgat.device import resolve_device

    dev = resolve_device("auto")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.type == expected
    assert resolve_device("cpu").type == "cpu"
    with pytest.raises(OmicsInputError, match="Unknown device 'tpu'"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(OmicsInputError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_seeded_blocks_repeat_and_leave_the_callers_random_state_alone():
    import random

    import torch

    from omicsgat.random import seeded

    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    deterministic = torch.are_deterministic_algorithms_enabled()
    with seeded(11) as rng:
        a = (np.random.rand(3), torch.rand(3), rng.random())
        assert torch.are_deterministic_algorithms_enabled()
    with seeded(11) as rng:
        b = (np.random.rand(3), torch.rand(3), rng.random())
    with seeded(12):
        c = torch.rand(3)
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] == b[2] and not torch.equal(a[1], c)
    # the caller's streams continue as if the blocks had never run
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_progress_spans_nest_and_cancel_stops():
    from omicsgat.progress import CancelToken, Progress

    seen = []
    token = CancelToken()
    p = Progress(lambda f, m: seen.append((round(f, 3), m)), token)
    child = p.span(0.5, 1.0)
    child(0.5, "half of second half")
    assert seen == [(0.75, "half of second half")]
    token.cancel()
    with pytest.raises(Cancelled):
        child(0.9, "never shown")
    assert len(seen) == 1


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    from omicsgat.io.atomic import atomic_path, write_text_atomic

    target = tmp_path / "out.txt"
    write_text_atomic(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp file left behind


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".xlsx", ".tsv.gz"])
def test_tables_round_trip(tmp_path, suffix):
    from omicsgat.io.atomic import write_table_atomic

    frame = pd.DataFrame({"gene": ["A", "B"], "score": [0.5, 0.25]})
    path = write_table_atomic(frame, tmp_path / f"t{suffix}")
    if suffix == ".xlsx":
        back = pd.read_excel(path)
    else:
        back = pd.read_csv(path, sep="\t" if ".tsv" in suffix else ",")
    pd.testing.assert_frame_equal(back, frame)


def test_unknown_table_suffix_is_refused(tmp_path):
    from omicsgat.io.atomic import write_table_atomic

    with pytest.raises(OmicsInputError, match="out.json"):
        write_table_atomic(pd.DataFrame({"a": [1]}), tmp_path / "out.json")


def test_user_keys_are_never_overwritten():
    import anndata as ad

    from omicsgat.anndata_keys import claim

    adata = ad.AnnData(np.ones((3, 2), dtype=np.float32))
    adata.obs["omicsgat_celltype"] = "mine"
    with pytest.raises(OmicsInputError, match="omicsgat_celltype"):
        claim(adata, "obs", "omicsgat_celltype")
    assert claim(adata, "obs", "omicsgat_confidence") == "omicsgat_confidence"
    adata.obs["omicsgat_confidence"] = 1.0
    claim(adata, "obs", "omicsgat_confidence")  # ours: a re-run may replace it


def test_x_kind_detection_and_normalization_leave_input_alone(small_scrna):
    import scanpy as sc

    from omicsgat.pp import detect_x_kind, log_normalized

    before = small_scrna.X.copy()
    assert detect_x_kind(small_scrna.X) == "counts"
    out = log_normalized(small_scrna)
    assert detect_x_kind(out.X) == "log-normalized"
    assert (small_scrna.X != before).nnz == 0
    scaled = out.copy()
    sc.pp.scale(scaled)
    assert detect_x_kind(scaled.X) == "scaled"
    # counts kept in a layer win over a scaled X
    scaled.layers["counts"] = small_scrna.X.copy()
    again = log_normalized(scaled)
    assert np.allclose(again.X.toarray(), out.X.toarray(), atol=1e-5)


def test_cli_exit_codes(capsys, _log_dir):
    from omicsgat.cli import dispatch

    def bad(args):
        raise OmicsInputError("column 'OS_time' is missing from clinical.csv")

    def bug(args):
        raise ZeroDivisionError("boom")

    assert dispatch(bad, None, "prognosis") == 2
    err = capsys.readouterr().err
    assert "OS_time" in err and "Traceback" not in err
    assert dispatch(bug, None, "prognosis") == 1
    assert "traceback was written" in capsys.readouterr().err
    logs = list(_log_dir.iterdir())
    assert len(logs) == 1 and "ZeroDivisionError: boom" in logs[0].read_text()
    assert dispatch(lambda a: 0, None, "info") == 0


def test_event_map_option_parses_and_names_bad_values():
    from omicsgat.cli._common import parse_event_map

    assert parse_event_map(["DOD=1,NED=0", "AWD=0"]) == {"DOD": 1, "NED": 0, "AWD": 0}
    assert parse_event_map(None) is None
    with pytest.raises(OmicsInputError, match="must be 0 or 1"):
        parse_event_map(["DOD=yes"])
    with pytest.raises(OmicsInputError, match="--event-map expects NAME=VALUE"):
        parse_event_map(["DOD"])
