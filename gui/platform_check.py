"""Before Qt starts: can it open a window here? If not, say what to install instead of Qt's bare abort.

On Linux, Qt's xcb platform plugin needs system libraries (libxcb-cursor0 and
friends) that pip cannot install. Without them Qt prints "could not load the
Qt platform plugin xcb" and aborts the process, which Python cannot catch. So
the launcher loads the plugin itself first: the dynamic loader's error names
the missing library, and the user gets the install command for their
distribution and the headless alternative (``QT_QPA_PLATFORM=offscreen``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional

#: System packages Qt 6's xcb plugin needs, per distribution family.
XCB_PACKAGES = {
    "Debian / Ubuntu": "sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 "
    "libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 "
    "libegl1 libgl1 libfontconfig1 libdbus-1-3",
    "Fedora / RHEL": "sudo dnf install xcb-util-cursor libxkbcommon-x11 xcb-util-wm xcb-util-image xcb-util-keysyms "
    "xcb-util-renderutil mesa-libEGL mesa-libGL fontconfig dbus-libs",
    "Arch": "sudo pacman -S xcb-util-cursor libxkbcommon-x11 xcb-util-wm xcb-util-image xcb-util-keysyms "
    "xcb-util-renderutil libglvnd fontconfig",
    "openSUSE": "sudo zypper install libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 "
    "libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 Mesa-libEGL1",
}
_FAMILY = {
    "debian": "Debian / Ubuntu",
    "ubuntu": "Debian / Ubuntu",
    "fedora": "Fedora / RHEL",
    "rhel": "Fedora / RHEL",
    "centos": "Fedora / RHEL",
    "rocky": "Fedora / RHEL",
    "almalinux": "Fedora / RHEL",
    "arch": "Arch",
    "manjaro": "Arch",
    "opensuse": "openSUSE",
    "suse": "openSUSE",
    "sles": "openSUSE",
}

HEADLESS = (
    "For headless use (a server, CI, screenshots) run with QT_QPA_PLATFORM=offscreen, e.g.\n"
    "    QT_QPA_PLATFORM=offscreen omicsgat-gui\n"
    "(no window is shown); the command line (`omicsgat grn|celltype|prognosis`) needs no display at all."
)


def distribution_family(os_release: str = "/etc/os-release") -> Optional[str]:
    """ "Debian / Ubuntu", "Fedora / RHEL", ... from /etc/os-release's ID and ID_LIKE; None when unknown."""
    try:
        text = Path(os_release).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    ids: list[str] = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids += value.strip().strip('"').lower().split()
    for i in ids:
        for prefix, family in _FAMILY.items():
            if i.startswith(prefix):
                return family
    return None


def install_hint(family: Optional[str]) -> str:
    """The install command for ``family`` first, then the others."""
    order = ([family] if family in XCB_PACKAGES else []) + [f for f in XCB_PACKAGES if f != family]
    lines = [f"  {name}:\n    {XCB_PACKAGES[name]}" for name in order]
    return "\n".join(lines)


def _load_xcb_plugin() -> None:
    """dlopen Qt's xcb plugin (and so its dependencies); raises OSError naming a missing library."""
    import ctypes

    import PySide6

    plugin = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if plugin.exists():
        ctypes.CDLL(str(plugin))


def platform_problem(
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    load: Optional[Callable[[], None]] = None,
    os_release: str = "/etc/os-release",
) -> Optional[str]:
    """A message saying why Qt cannot open a window here and what to do, or None when it can (or we cannot tell)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if chosen and chosen != "xcb":
        return None  # offscreen, wayland, vnc...: the user chose; Qt reports its own problems
    if not chosen and env.get("WAYLAND_DISPLAY"):
        return None  # Qt picks Wayland first there
    if not env.get("DISPLAY"):
        return (
            "OmicsGAT cannot open a window: no display was found (DISPLAY is not set).\n"
            "Run it inside a desktop session, or over SSH with X forwarding (ssh -X).\n" + HEADLESS
        )
    try:
        (load or _load_xcb_plugin)()
    except OSError as exc:
        return (
            "OmicsGAT cannot open a window: Qt's X11 (xcb) platform plugin could not be loaded:\n"
            f"    {exc}\n"
            "Qt needs some X11 libraries that pip cannot install. Install them with your system's package "
            "manager:\n" + install_hint(distribution_family(os_release)) + "\n" + HEADLESS
        )
    return None
