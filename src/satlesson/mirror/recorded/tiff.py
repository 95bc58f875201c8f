"""Just enough TIFF to keep a COG's header and the tiles read, and to replay it as a sparse file.

A (Big)TIFF's header is its IFD chain plus the tag values stored outside the IFDs; the tiles
(or strips) are addressed by the TileOffsets/TileByteCounts arrays. A tile whose offset and
byte count are both 0 is absent, which GDAL reads as nodata (or zeros): the "sparse" TIFFs it
writes itself with SPARSE_OK. Replay keeps the original layout and marks the tiles never read
as absent, so every recorded byte stays at its offset.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8,
              13: 4, 16: 8, 17: 8, 18: 8}
INT_FORMATS = {3: "H", 4: "L", 13: "L", 16: "Q", 18: "Q"}
TILE_OFFSETS, TILE_BYTE_COUNTS = 324, 325
STRIP_OFFSETS, STRIP_BYTE_COUNTS = 273, 279
MAX_IFDS = 64  # a COG has a handful: the image, its overviews and masks

Reader = Callable[[int, int], bytes]  # (offset, length) -> exactly those bytes


def is_tiff(head: bytes) -> bool:
    return head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


@dataclass(frozen=True)
class Array:
    """An integer tag value: where its values lie in the file, and what they are."""

    position: int
    type: int
    values: tuple[int, ...]
    endian: str

    def packed(self, values: list[int]) -> bytes:
        return struct.pack(f"{self.endian}{len(values)}{INT_FORMATS[self.type]}", *values)


@dataclass(frozen=True)
class Ifd:
    offsets: Array
    byte_counts: Array


def parse(read: Reader) -> tuple[list[tuple[int, int]], list[Ifd]]:
    """Walk the IFD chain: the header's byte ranges ``(start, end)`` and each IFD's strile arrays.

    ``read`` supplies the bytes, so the caller decides where they come from (a recording, or
    the upstream server while recording).
    """
    head = read(0, 16)
    if not is_tiff(head):
        raise ValueError("not a TIFF file")
    endian = "<" if head[:2] == b"II" else ">"
    big = struct.unpack(f"{endian}H", head[2:4])[0] == 43
    if big:
        first = struct.unpack(f"{endian}Q", head[8:16])[0]
        ranges = [(0, 16)]
        count_fmt, entry_size, word, word_fmt = "Q", 20, 8, "Q"
    else:
        first = struct.unpack(f"{endian}L", head[4:8])[0]
        ranges = [(0, 8)]
        count_fmt, entry_size, word, word_fmt = "H", 12, 4, "L"
    count_size = struct.calcsize(count_fmt)
    ifds: list[Ifd] = []
    seen: set[int] = set()
    offset = first
    while offset and offset not in seen and len(seen) < MAX_IFDS:
        seen.add(offset)
        n = struct.unpack(f"{endian}{count_fmt}", read(offset, count_size))[0]
        block_len = count_size + n * entry_size + word
        block = read(offset, block_len)
        ranges.append((offset, offset + block_len))
        arrays: dict[int, Array] = {}
        for i in range(n):
            at = count_size + i * entry_size
            tag, typ = struct.unpack(f"{endian}HH", block[at:at + 4])
            count = struct.unpack(f"{endian}{word_fmt}", block[at + 4:at + 4 + word])[0]
            size = TYPE_SIZES.get(typ, 1) * count
            value_at = offset + at + 4 + word
            if size > word:
                value_at = struct.unpack(f"{endian}{word_fmt}",
                                         block[at + 4 + word:at + 4 + 2 * word])[0]
                ranges.append((value_at, value_at + size))
            if tag in (TILE_OFFSETS, TILE_BYTE_COUNTS, STRIP_OFFSETS, STRIP_BYTE_COUNTS):
                fmt = f"{endian}{count}{INT_FORMATS[typ]}"
                arrays[tag] = Array(value_at, typ, struct.unpack(fmt, read(value_at, size)),
                                    endian)
        offsets = arrays.get(TILE_OFFSETS) or arrays.get(STRIP_OFFSETS)
        counts = arrays.get(TILE_BYTE_COUNTS) or arrays.get(STRIP_BYTE_COUNTS)
        if offsets and counts:
            ifds.append(Ifd(offsets, counts))
        offset = struct.unpack(f"{endian}{word_fmt}", block[-word:])[0]
    return ranges, ifds


def covered(ranges: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether merged, sorted ``ranges`` contain all of ``[start, end)``."""
    for lo, hi in ranges:
        if lo <= start and end <= hi:
            return True
    return False


def absent_tile_patches(ifds: list[Ifd], have: list[tuple[int, int]]) -> list[tuple[int, bytes]]:
    """``(position, bytes)`` writes that mark every tile not wholly in ``have`` as absent."""
    patches = []
    for ifd in ifds:
        offsets, counts = list(ifd.offsets.values), list(ifd.byte_counts.values)
        changed = False
        for i, (off, cnt) in enumerate(zip(offsets, counts, strict=True)):
            if cnt and not covered(have, off, off + cnt):
                offsets[i] = counts[i] = 0
                changed = True
        if changed:
            patches.append((ifd.offsets.position, ifd.offsets.packed(offsets)))
            patches.append((ifd.byte_counts.position, ifd.byte_counts.packed(counts)))
    return patches
