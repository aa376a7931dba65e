# CMake toolchain file for the Aeron C sources that rusteron-client / rusteron-media-driver build
# (set as CMAKE_TOOLCHAIN_FILE in .cargo/config.toml): their static libraries are linked into
# the Python extension module (a shared object), so every object must be position-independent.
# rusteron's build script sets CMAKE_C_FLAGS itself, without -fPIC.
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
