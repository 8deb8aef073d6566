"""The IDX reader: round trips on files the tests write, and every malformed file."""

import gzip

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vae_numpy.data.idx import DTYPES, encode_idx, read_idx, write_idx
from vae_numpy.run.errors import DataError

native_dtypes = st.sampled_from([d.newbyteorder("=") for d in DTYPES.values()])
arrays = native_dtypes.flatmap(
    lambda dtype: hnp.arrays(
        dtype, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5)
    )
)


@given(array=arrays, compress=st.booleans())
def test_write_then_read_is_the_identity(tmp_path_factory, array, compress):
    path = tmp_path_factory.mktemp("idx") / "a.idx"
    write_idx(path, array, compress=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_header_is_the_published_layout(tmp_path):
    # MNIST's label file: 0x00000801, then the count as a big-endian uint32.
    data = encode_idx(np.array([7, 2, 1], dtype=np.uint8))
    assert data == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_gzip_is_recognised_by_content_not_name(tmp_path):
    path = tmp_path / "no-suffix"
    path.write_bytes(gzip.compress(encode_idx(np.arange(4, dtype=np.int32))))
    np.testing.assert_array_equal(read_idx(path), np.arange(4))


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda b: b"\x00\x01" + b[2:], "wrong magic number"),
        (lambda b: b[:2] + b"\x07" + b[3:], "wrong magic number"),
        (lambda b: b[:3], "too short"),
        (lambda b: b[:6], "header is truncated"),
        (lambda b: b[:-1], "truncated"),
        (lambda b: b + b"\x00", "longer than its header says"),
    ],
    ids=["magic", "dtype-code", "short", "short-header", "truncated", "trailing"],
)
def test_malformed_file_is_a_clear_error(tmp_path, mangle, message):
    path = tmp_path / "bad.idx"
    path.write_bytes(mangle(encode_idx(np.zeros((2, 3, 3), dtype=np.uint8))))
    with pytest.raises(DataError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_absurd_dimensions_are_reported_as_truncation_not_overflow(tmp_path):
    # Seven dimensions near 2^32: their product overflows int64, not Python ints.
    path = tmp_path / "huge.idx"
    path.write_bytes(bytes([0, 0, 8, 7]) + b"\xff" * 28)
    with pytest.raises(DataError, match="truncated: 32 bytes, expected"):
        read_idx(path)


def test_truncated_gzip_is_a_clear_error(tmp_path):
    data = gzip.compress(encode_idx(np.arange(1000, dtype=np.uint8).reshape(10, 100)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="gzip data is truncated or corrupt"):
        read_idx(path)


def test_unknown_dtype_cannot_be_written():
    with pytest.raises(ValueError, match="IDX cannot store dtype"):
        encode_idx(np.zeros(3, dtype=np.complex64))
