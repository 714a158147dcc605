""".npz archives of .npy arrays, and PNG files, read and written without numpy: the image
kind's sample is an images.npz, and the grader that splits it has no numpy.

Arrays are kept as raw bytes cut along the first axis: splitting a data set never needs to
look inside an image, only at the integer labels.
"""

from __future__ import annotations

import ast
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\x93NUMPY"
_INTEGERS = {"i1": "b", "u1": "B", "i2": "h", "u2": "H", "i4": "i", "u4": "I", "i8": "q", "u8": "Q"}


@dataclass(frozen=True)
class Array:
    """A C-ordered array: numpy's dtype string, its shape, and its bytes."""

    descr: str
    shape: tuple[int, ...]
    data: bytes

    @property
    def row_bytes(self) -> int:
        return len(self.data) // self.shape[0] if self.shape and self.shape[0] else 0

    def rows(self, indices: list[int]) -> Array:
        """The rows at `indices` (along the first axis), in that order."""
        size = self.row_bytes
        data = b"".join(self.data[i * size : (i + 1) * size] for i in indices)
        return Array(self.descr, (len(indices), *self.shape[1:]), data)

    def integers(self) -> list[int]:
        """A 1-d integer array's values (labels)."""
        code = _INTEGERS.get(self.descr[1:])
        if code is None or len(self.shape) != 1:
            raise ValueError(f"expected a 1-d integer array, got {self.descr} {self.shape}")
        order = ">" if self.descr[0] == ">" else "<"
        return list(struct.unpack(f"{order}{self.shape[0]}{code}", self.data))

    def strings(self) -> list[str]:
        """A 1-d unicode array's values (class names): numpy stores UTF-32, padded with NULs."""
        if self.descr[1] != "U" or len(self.shape) != 1:
            raise ValueError(f"expected a 1-d string array, got {self.descr} {self.shape}")
        codec = "utf-32-be" if self.descr[0] == ">" else "utf-32-le"
        size = self.row_bytes
        return [
            self.data[i * size : (i + 1) * size].decode(codec).rstrip("\x00")
            for i in range(self.shape[0])
        ]


def parse_npy(raw: bytes) -> Array:
    if raw[:6] != MAGIC:
        raise ValueError("not a .npy array")
    major = raw[6]
    if major == 1:
        (length,), start = struct.unpack("<H", raw[8:10]), 10
    else:
        (length,), start = struct.unpack("<I", raw[8:12]), 12
    header = ast.literal_eval(raw[start : start + length].decode("latin-1"))
    if not isinstance(header, dict) or header.get("fortran_order"):
        raise ValueError("only C-ordered arrays are supported")
    return Array(str(header["descr"]), tuple(header["shape"]), raw[start + length :])


def npy_bytes(array: Array) -> bytes:
    """Format 1.0, header padded so the data starts on a 64-byte boundary (as numpy does)."""
    shape = repr(array.shape) if len(array.shape) != 1 else f"({array.shape[0]},)"
    header = f"{{'descr': '{array.descr}', 'fortran_order': False, 'shape': {shape}, }}"
    padding = 64 - (len(MAGIC) + 4 + len(header) + 1) % 64
    text = (header + " " * (padding % 64) + "\n").encode("latin-1")
    return MAGIC + b"\x01\x00" + struct.pack("<H", len(text)) + text + array.data


def read_npz(path: Path) -> dict[str, Array]:
    with zipfile.ZipFile(path) as archive:
        return {
            name.removesuffix(".npy"): parse_npy(archive.read(name))
            for name in archive.namelist()
            if name.endswith(".npy")
        }


def write_npz(path: Path, arrays: dict[str, Array]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            archive.writestr(f"{name}.npy", npy_bytes(array))


def integer_array(values: list[int], descr: str = "<i8") -> Array:
    code = _INTEGERS[descr[1:]]
    order = ">" if descr[0] == ">" else "<"
    return Array(descr, (len(values),), struct.pack(f"{order}{len(values)}{code}", *values))


def png_bytes(pixels: bytes, height: int, width: int, channels: int) -> bytes:
    """An 8-bit grayscale (1 channel) or RGB (3) PNG of H x W x C bytes, lossless."""
    if channels not in (1, 3):
        raise ValueError(f"images with {channels} channels cannot be written as PNG here")
    stride = width * channels
    scanlines = b"".join(
        b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(height)
    )

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    colour = 0 if channels == 1 else 2
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(scanlines, 6))
        + chunk(b"IEND", b"")
    )
