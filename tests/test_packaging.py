"""Packaging: every folder of engine/, web/, workflows/ and forms/ installs under the `carepath` namespace."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {
    "engine": "carepath.engine",
    "web": "carepath.web",
    "workflows": "carepath.workflows",
    "forms": "carepath.forms",
}


def test_every_folder_is_a_listed_package():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = set()
    for folder, package in FOLDERS.items():
        assert config["package-dir"][package] == folder
        for path in [ROOT / folder, *(ROOT / folder).rglob("*")]:
            if path.is_dir() and path.name != "__pycache__" and any(p.is_file() for p in path.iterdir()):
                on_disk.add(".".join([package, *path.relative_to(ROOT / folder).parts]))
    assert on_disk - listed == set(), "add these folders to [tool.setuptools] packages in pyproject.toml"
