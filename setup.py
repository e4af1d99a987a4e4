"""Builds the optional compiled extension `nesy._C` from csrc/ (C++ with OpenMP).

Everything else about the package lives in pyproject.toml. Install with
`pip install --no-build-isolation -e .` so the build uses the torch already installed
(an isolated build would download and install torch again).
"""
from pathlib import Path

from setuptools import setup

sources = sorted(str(path) for path in Path("csrc").rglob("*.cpp"))
ext_modules, cmdclass = [], {}
if sources:
    from torch.utils.cpp_extension import BuildExtension, CppExtension

    ext_modules = [
        CppExtension(
            "nesy._C",
            sources,
            extra_compile_args=["-O3", "-fopenmp"],
            extra_link_args=["-fopenmp"],
        )
    ]
    cmdclass = {"build_ext": BuildExtension}

setup(ext_modules=ext_modules, cmdclass=cmdclass)
