"""`omicsgat gui [FILE]`: open the desktop window, loading FILE if given."""

from __future__ import annotations

from omicsgat.errors import OmicsInputError


def register(sub) -> None:
    p = sub.add_parser("gui", help="open the desktop application", description="Open the OmicsGAT window.")
    p.add_argument("file", nargs="?", help="an .h5ad (or other supported) file to open at start")
    p.set_defaults(func=run)


def run(args) -> int:
    try:
        from omicsgat_gui.app import main as gui_main
    except ImportError as exc:  # PySide6 missing: a user problem, not a bug
        raise OmicsInputError(
            f"The GUI needs PySide6, which could not be imported ({exc}). Install it with `pip install PySide6-Essentials`."
        ) from exc
    return gui_main([args.file] if args.file else [])
