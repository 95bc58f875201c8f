"""Package list for setuptools; everything else is in pyproject.toml.

The lesson's data files live in the top-level ``data/`` folder and ship as the package
``satlesson.lessonfiles`` (``package-dir`` in pyproject.toml). ``[tool.setuptools.packages.find]``
cannot add a package from outside ``src/``, so the list is built here.
"""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages("src"), "satlesson.lessonfiles"])
