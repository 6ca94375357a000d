"""OmicsGAT desktop application (import package ``omicsgat_gui``).

A thin Qt view over the engine: panels gather parameters, call the engine's
public API in a worker thread and show the Result objects. Heavy libraries
(torch, scanpy, PyG, matplotlib's Qt canvas) are imported lazily so the window
appears fast.
"""

__all__ = ["main"]


def main(argv=None) -> int:
    from omicsgat_gui.app import main as _main

    return _main(argv)
