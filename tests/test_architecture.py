"""The engine stays Qt-free, the GUI never reaches into the CLI, the analyses stay apart and no package has an
import circle (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = subprocess.run(
        [sys.executable, "-c", code, "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for contract in (
        "The engine never imports Qt or the GUI",
        "The GUI never imports the command line",
        "The analyses never import each other",
        "No import circles between the modules of a package",
    ):
        assert f"{contract} KEPT" in result.stdout, result.stdout


def test_importing_the_engine_loads_no_heavy_library():
    code = "import sys, omicsgat, omicsgat.cli; print(sorted(m for m in ('torch','scanpy','PySide6','torch_geometric') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
