"""Builds the optional compiled extension `nesy._C` from csrc/ (C++ with OpenMP).

Everything else about the package lives in pyproject.toml. Install with
`pip install --no-build-isolation -e .` so the build uses the torch already installed
(an isolated build would download and install torch again).
"""
from pathlib import Path

from setuptools import setup

# Compile flags per CPU capability, as ATen compiles its cpu/ kernels (cmake/Codegen.cmake): the
# kernels' at::vec::Vectorized is then that capability's (AVX2: 4 doubles a vector).
AVX2_FLAGS = ["-mavx2", "-mfma", "-DCPU_CAPABILITY=AVX2", "-DCPU_CAPABILITY_AVX2"]
# An AVX512 machine gets the AVX2 build too: the mixing method's sweep rows are short (about 11
# doubles at the MNIST shape, padded to 16 instead of 12 by 8-double vectors), and AVX512 made that
# shape 13% slower than AVX2 with no gain at the Imagenette shape (2-core AMD EPYC with AVX512);
# one build also gives every AVX2 machine the same bits.
CAPABILITY_FLAGS = {"AVX512": AVX2_FLAGS, "AVX2": AVX2_FLAGS}


def capability_flags() -> list[str]:
    """Flags for the capability torch's own kernels use on the build machine (AVX512 -> AVX2).

    The extension is built where it runs (``pip install -e .``), so it takes the vector ISA torch
    dispatches to here; ``ATEN_CPU_CAPABILITY=default`` (torch's own switch) builds the portable
    DEFAULT kernels (at::vec's plain arrays: 2-3x slower than AVX2 here), for a machine without AVX2.
    Anything else torch reports (SVE, VSX, DEFAULT) builds DEFAULT.
    """
    import torch

    return CAPABILITY_FLAGS.get(torch.backends.cpu.get_cpu_capability(), [])


sources = sorted(str(path) for path in Path("csrc").rglob("*.cpp"))
ext_modules, cmdclass = [], {}
if sources:
    from torch.utils.cpp_extension import BuildExtension, CppExtension

    ext_modules = [
        CppExtension(
            "nesy._C",
            sources,
            extra_compile_args=["-O3", "-fopenmp", "-Wno-unknown-pragmas", "-Wno-maybe-uninitialized", *capability_flags()],
            extra_link_args=["-fopenmp"],
        )
    ]
    cmdclass = {"build_ext": BuildExtension}

setup(ext_modules=ext_modules, cmdclass=cmdclass)
