"""Persistent settings (QSettings, INI format so tests can redirect them)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "OmicsGAT"
APPLICATION = "OmicsGAT"
MAX_RECENT = 8


def settings() -> QSettings:
    """The app's settings; tests point ``QSettings.setPath(IniFormat, UserScope, tmp)`` elsewhere."""
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def recent_files() -> list[str]:
    return _as_list(settings().value("recentFiles"))


def add_recent_file(path: str | Path) -> list[str]:
    path = str(Path(path).resolve())
    files = [path] + [f for f in recent_files() if f != path]
    files = files[:MAX_RECENT]
    settings().setValue("recentFiles", files)
    return files


def clear_recent_files() -> None:
    settings().setValue("recentFiles", [])
    settings().setValue("recentCohorts", "[]")


def recent_cohorts() -> list[dict]:
    """Cohorts opened before: each the inputs of ``omicsgat.io.read_cohort`` plus ``time_unit``."""
    import json

    try:
        value = json.loads(str(settings().value("recentCohorts", "[]")))
    except ValueError:
        return []
    return (
        [v for v in value if isinstance(v, dict) and "omics" in v and "clinical" in v]
        if isinstance(value, list)
        else []
    )


def add_recent_cohort(spec: dict) -> list[dict]:
    import json

    cohorts = [spec] + [c for c in recent_cohorts() if c != spec]
    cohorts = cohorts[:MAX_RECENT]
    settings().setValue("recentCohorts", json.dumps(cohorts))
    return cohorts


def last_folder() -> str:
    return str(settings().value("lastFolder", str(Path.home())))


def remember_folder(path: str | Path) -> None:
    p = Path(path)
    settings().setValue("lastFolder", str(p if p.is_dir() else p.parent))


def output_folder() -> str:
    """Where saves and exports go: the last folder written to (not the folder data were opened from, which
    may be a shared or read-only data folder); the home folder at first."""
    return str(settings().value("outputFolder", str(Path.home())))


def remember_output_folder(path: str | Path) -> None:
    p = Path(path)
    settings().setValue("outputFolder", str(p if p.is_dir() else p.parent))


def device_choice() -> str:
    return str(settings().value("device", "auto"))


def set_device_choice(device: str) -> None:
    settings().setValue("device", device)


def scheduler_choice() -> str:
    """Where analyses run (see ``omicsgat.compute``): '' = in-process (or $OMICSGAT_SCHEDULER), 'processes:N', 'tcp://host:8786'."""
    return str(settings().value("scheduler", ""))


def set_scheduler_choice(scheduler: str) -> None:
    settings().setValue("scheduler", scheduler)
