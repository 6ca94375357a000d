"""The engine stays Qt-free and the GUI never reaches into the CLI (import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The engine never imports Qt or the GUI KEPT" in result.stdout
    assert "The GUI never imports the command line KEPT" in result.stdout


def test_importing_the_engine_loads_no_heavy_library():
    code = "import sys, omicsgat, omicsgat.cli; print(sorted(m for m in ('torch','scanpy','PySide6','torch_geometric') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
