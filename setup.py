"""Python 3.6's build (TF 1.4 - 1.12 have wheels for it only).

setuptools >= 61 reads the metadata from pyproject.toml itself, and here
``setup()`` adds nothing. Python 3.6's last setuptools (59) reads no
``[project]`` table: there this passes pyproject.toml's ``[project]`` and
``[tool.setuptools]`` to ``setup()``, so the metadata has one source.
"""

import re

import setuptools


def _from_pyproject():
    import tomli  # a build requirement on Python 3.6 (pyproject.toml)
    with open("pyproject.toml", "rb") as f:
        config = tomli.load(f)
    project, tool = config["project"], config["tool"]["setuptools"]
    version_from = tool["dynamic"]["version"]["attr"]  # "compat_reg.__version__"
    module, _, name = version_from.rpartition(".")
    with open(module.replace(".", "/") + "/__init__.py") as f:
        version = re.search(r"^%s = \"([^\"]+)\"" % name, f.read(), re.M).group(1)
    return dict(
        name=project["name"], version=version, description=project["description"],
        python_requires=project["requires-python"],
        install_requires=project["dependencies"],
        extras_require=project["optional-dependencies"],
        entry_points={"console_scripts": [
            "%s = %s" % script for script in project["scripts"].items()]},
        packages=setuptools.find_packages(include=tool["packages"]["find"]["include"]),
        package_data=tool["package-data"])


if int(setuptools.__version__.split(".")[0]) >= 61:
    setuptools.setup()
else:
    setuptools.setup(**_from_pyproject())
