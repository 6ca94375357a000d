"""One source of defaults: an untouched GUI form, a CLI call without options and the engine agree (#16 item 4)."""

from __future__ import annotations

import inspect

import pytest


def _cli_defaults(command: str) -> dict:
    import argparse

    from omicsgat.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {a.dest: a.default for a in sub.choices[command]._actions}


def _engine_defaults(func) -> dict:
    return {
        k: p.default for k, p in inspect.signature(func).parameters.items() if p.default is not inspect.Parameter.empty
    }


@pytest.mark.parametrize("task", ["grn", "celltype", "prognosis"])
def test_gui_cli_and_engine_share_defaults(window, task):
    from omicsgat.celltype import annotate_cells
    from omicsgat.grn import infer_grn
    from omicsgat.prognosis import run_prognosis

    engine = _engine_defaults({"grn": infer_grn, "celltype": annotate_cells, "prognosis": run_prognosis}[task])
    cli = _cli_defaults(task)
    panel = {"grn": window.grn_panel, "celltype": window.celltype_panel, "prognosis": window.prognosis_panel}[task]
    gui = {"epochs": panel.epochs.value(), "seed": panel.seed.value()}
    if task == "grn":
        gui.update(genes=panel.genes.value(), mode=panel.mode.currentText())
    if task == "prognosis":
        gui.update(
            folds=panel.folds.value(),
            ensemble=panel.ensemble.value(),
            top_k=panel.top_k.value(),
            groups=panel.group_choice(),
        )
    for name, value in gui.items():
        assert engine[name] == value, f"{task} {name}: GUI {value!r}, engine {engine[name]!r}"
        assert cli[name] == value, f"{task} {name}: GUI {value!r}, CLI {cli[name]!r}"


def test_prognosis_fitter_defaults_match_the_cli():
    from omicsgat.defaults import PROGNOSIS
    from omicsgat.prognosis import GeneAttentionSurvival

    fitter = _engine_defaults(GeneAttentionSurvival.__init__)
    assert fitter["max_features"] == PROGNOSIS["max_features"] == _cli_defaults("prognosis")["max_features"]
    assert fitter["epochs"] == PROGNOSIS["epochs"]
