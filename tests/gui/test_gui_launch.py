"""The launcher explains a missing X11 library instead of Qt's bare abort (#16 item 14)."""

from __future__ import annotations

from omicsgat_gui.platform_check import distribution_family, platform_problem


def _missing(name="libxcb-cursor.so.0"):
    def load():
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    return load


def test_missing_xcb_library_gives_install_commands_for_this_distribution(tmp_path):
    release = tmp_path / "os-release"
    release.write_text('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n')
    text = platform_problem({"DISPLAY": ":0"}, "linux", _missing(), str(release))
    assert "libxcb-cursor.so.0" in text  # the library the loader could not find
    assert "QT_QPA_PLATFORM=offscreen" in text
    apt, dnf = text.index("apt-get install libxcb-cursor0"), text.index("dnf install xcb-util-cursor")
    assert apt < dnf  # this machine's distribution first
    assert distribution_family(str(release)) == "Debian / Ubuntu"
    release.write_text('ID="fedora"\n')
    text = platform_problem({"DISPLAY": ":0"}, "linux", _missing(), str(release))
    assert text.index("dnf install") < text.index("apt-get install")


def test_no_display_and_the_cases_left_to_qt():
    assert "DISPLAY is not set" in platform_problem({}, "linux", _missing())
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux", _missing()) is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux", _missing()) is None
    assert platform_problem({"DISPLAY": ":0"}, "darwin", _missing()) is None
    assert platform_problem({"DISPLAY": ":0"}, "linux", lambda: None) is None


def test_launcher_prints_the_hint_and_exits_instead_of_aborting(monkeypatch, capsys):
    from omicsgat_gui import app, platform_check

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.setattr(platform_check, "_load_xcb_plugin", _missing("libxcb-icccm.so.4"))
    assert app.main([]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "QT_QPA_PLATFORM=offscreen" in err
