"""Package discovery that pyproject.toml cannot express: ``migrations/`` stays at the top
level of the repository (fixed layout) and ships inside the package as ``dialer._migrations``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["dialer", "dialer.*"]), "dialer._migrations"],
    package_dir={"dialer._migrations": "migrations"},
    package_data={"dialer._migrations": ["*.sql"]},
)
