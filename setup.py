"""Build hook: ship the top-level `macros/` library inside the package as `agentcli/_macros`.

Everything else is configured in pyproject.toml. setuptools cannot map a folder outside the
package tree into it while packages are found automatically, so build_py copies it; sdists
carry `macros/` through MANIFEST.in, so a wheel built from an sdist has it too. Editable
installs skip the copy: the loader falls back to the repository's `macros/`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithMacros(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        source = HERE / "macros"
        target = Path(self.build_lib) / "agentcli" / "_macros"
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*", "__pycache__"))


setup(cmdclass={"build_py": BuildPyWithMacros})
