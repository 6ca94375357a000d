"""Package discovery only (metadata is in pyproject.toml).

The Qt front end lives in the folder ``gui/`` but installs as the import
package ``omicsgat_gui`` (with its sub-packages), so no bare, generic ``gui``
module lands in site-packages. pyproject.toml alone cannot rename discovered
sub-packages, hence this file.
"""

from setuptools import find_packages, setup

engine = find_packages(include=["omicsgat", "omicsgat.*"])
gui = ["omicsgat_gui" + name[len("gui") :] for name in find_packages(include=["gui", "gui.*"])]

setup(packages=engine + gui, package_dir={"omicsgat_gui": "gui"})
