"""The voxelfeed Python client. `pip install ./client/python` installs it offline: no pyproject.toml, so pip
builds it with the setuptools already installed instead of fetching one into an isolated build environment.
Its dependencies are Debian's python3-grpcio, python3-protobuf and python3-numpy (or the PyPI wheels);
torch is optional (voxelfeed.torch)."""

from setuptools import find_packages, setup

setup(
    name="voxelfeed",
    version="0.1.0",
    description="Python client of the voxelfeed data server: deterministic 3D CT crops for PyTorch trainers",
    license="Apache-2.0",
    python_requires=">=3.9",
    packages=find_packages(include=["voxelfeed", "voxelfeed.*"]),
    package_data={"voxelfeed._gen.voxelfeed.v1": ["*.pyi"]},
    install_requires=["grpcio>=1.51", "protobuf>=3.20", "numpy>=1.21"],
    extras_require={"torch": ["torch>=1.13"]},
)
