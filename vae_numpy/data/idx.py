"""The IDX file format of MNIST and Fashion-MNIST, read and written with numpy.

An IDX file is a header, then the array in C order, big-endian::

    bytes 0-1   zero
    byte  2     dtype code: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions n
    4 n bytes   each dimension as a big-endian uint32
    then        prod(dims) * itemsize bytes of data

Files may be gzip-compressed (recognised by their content, not their name).
The reader checks every field and the exact size, so a truncated or padded file
is an error, never a silently short array.
"""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np

from vae_numpy.run.errors import DataError

DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
GZIP_MAGIC = b"\x1f\x8b"


def decompress(raw: bytes, source: str) -> bytes:
    """The IDX bytes of a file's content: gunzipped if it is gzip, else as is."""
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        raise DataError(
            f"{source}: the gzip data is truncated or corrupt ({err}); "
            "delete the file and fetch it again"
        ) from None


def parse_idx(data: bytes, source: str) -> np.ndarray:
    """Parse uncompressed IDX bytes into an array in native byte order."""
    if len(data) < 4:
        raise DataError(f"{source}: {len(data)} bytes is too short for an IDX header")
    zero, code, ndim = data[:2], data[2], data[3]
    if zero != b"\x00\x00" or code not in DTYPES:
        raise DataError(
            f"{source}: wrong magic number 0x{data[:4].hex()} "
            "(an IDX file starts with 0x0000, a dtype code 08-0E and the number of dimensions)"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{source}: the header is truncated ({len(data)} of {header} bytes)")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = DTYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize  # Python ints: no overflow
    if len(data) != expected:
        problem = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{source}: the file is {problem}: {len(data)} bytes, "
            f"expected {expected} for shape {shape} of {dtype.name}; delete it and fetch it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw."""
    path = Path(path)
    return parse_idx(decompress(path.read_bytes(), str(path)), str(path))


def encode_idx(array: np.ndarray) -> bytes:
    """The IDX bytes of an array (the inverse of ``parse_idx``)."""
    native = np.asarray(array)
    code = CODES.get(native.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"IDX cannot store dtype {native.dtype}; use one of {sorted(CODES)}")
    header = bytes([0, 0, code, native.ndim]) + np.asarray(native.shape, dtype=">u4").tobytes()
    return header + native.astype(DTYPES[code]).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool | None = None) -> None:
    """Write an array as IDX; gzip-compressed when ``compress`` or the name ends in .gz."""
    path = Path(path)
    data = encode_idx(array)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
