"""Builds the Cython engine in place (release flags). The Rust extension and the package
itself are built by maturin (see pyproject.toml); `make` runs both, in that order."""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("NEXUS_DEBUG") == "1"
CFLAGS = ["-O0", "-g"] if DEBUG else ["-O3", "-fno-strict-aliasing"]


def ext(name: str) -> Extension:
    return Extension(
        f"engine.{name}",
        [f"engine/{name}.pyx"],
        include_dirs=[numpy.get_include(), "engine"],
        extra_compile_args=CFLAGS,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )


MODULES = sorted(f[:-4] for f in os.listdir("engine") if f.endswith(".pyx"))

setup(
    name="nexus-engine",
    packages=[],
    ext_modules=cythonize(
        [ext(m) for m in MODULES],
        compiler_directives={
            "language_level": 3,
            "boundscheck": DEBUG,
            "wraparound": False,
            "cdivision": True,
            "initializedcheck": DEBUG,
        },
        quiet=True,
    ),
)
