"""Deep Compression's storage format: sparse rows with relative indices, and Huffman coding.

A pruned layer is stored as its nonzero entries in row-major order, each with the distance to the
previous one in ``index_bits`` bits (Han et al. use 5 bits for fully-connected layers); a gap
longer than ``2**index_bits - 1`` gets a filler entry of value zero. After weight sharing each
entry's value is a ``bits``-wide cluster index into a float32 codebook. The last stage
Huffman-codes the two streams (cluster indices and gaps), whose distributions are far from
uniform. :func:`encode_layer` writes those bytes for real and :func:`decode_layer` reads them
back, so the sizes reported are lengths of byte strings, not estimates.

The Huffman codes are canonical: a table of code lengths (one byte per symbol) rebuilds them.
"""

from __future__ import annotations

import heapq
import struct

import numpy as np

__all__ = ["huffman_lengths", "canonical_codes", "huffman_encode", "huffman_decode",
           "relative_indices", "encode_layer", "decode_layer", "stage_bits"]

_HEADER = struct.Struct("<BBIIIII")  # bits, index_bits, K, n_entries, len(w), len(gaps), ndim


def huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """The code length of every symbol of a Huffman code for these counts (0 for absent ones;
    a single present symbol gets length 1)."""
    counts = np.asarray(counts, dtype=np.int64)
    lengths = np.zeros(len(counts), dtype=np.int64)
    present = [int(i) for i in np.flatnonzero(counts)]
    if len(present) == 1:
        lengths[present[0]] = 1
        return lengths
    # heap of (count, tie-breaker, symbols under this node); merging deepens all of them by one
    heap = [(int(counts[i]), i, [i]) for i in present]
    heapq.heapify(heap)
    tie = len(counts)
    while len(heap) > 1:
        c1, _, s1 = heapq.heappop(heap)
        c2, _, s2 = heapq.heappop(heap)
        for s in s1 + s2:
            lengths[s] += 1
        heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
        tie += 1
    return lengths


def canonical_codes(lengths: np.ndarray) -> np.ndarray:
    """Canonical code values for these lengths: symbols sorted by (length, symbol) take
    consecutive codes, shifted left whenever the length grows."""
    lengths = np.asarray(lengths, dtype=np.int64)
    codes = np.zeros(len(lengths), dtype=np.int64)
    code, prev = 0, 0
    for s in sorted(np.flatnonzero(lengths), key=lambda i: (lengths[i], i)):
        code <<= int(lengths[s]) - prev
        codes[s] = code
        code += 1
        prev = int(lengths[s])
    return codes


def huffman_encode(symbols: np.ndarray, n_symbols: int) -> tuple[bytes, np.ndarray]:
    """Huffman-code integer ``symbols`` in [0, n_symbols): ``(packed bits, code lengths)``."""
    symbols = np.asarray(symbols, dtype=np.int64).reshape(-1)
    lengths = huffman_lengths(np.bincount(symbols, minlength=n_symbols))
    if symbols.size == 0:
        return b"", lengths
    codes = canonical_codes(lengths)
    ln, cd = lengths[symbols], codes[symbols]
    width = int(ln.max())
    # bit j (from the left) of every code, then keep the first `length` bits of each row
    shifts = (ln[:, None] - 1 - np.arange(width)[None, :])
    bits = (cd[:, None] >> np.maximum(shifts, 0)) & 1
    keep = shifts >= 0
    return np.packbits(bits[keep].astype(np.uint8)).tobytes(), lengths


def huffman_decode(data: bytes, lengths: np.ndarray, count: int) -> np.ndarray:
    """Read ``count`` symbols back from :func:`huffman_encode`'s bits."""
    lengths = np.asarray(lengths, dtype=np.int64)
    codes = canonical_codes(lengths)
    table = {(int(lengths[s]), int(codes[s])): int(s) for s in np.flatnonzero(lengths)}
    bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8))
    out = np.empty(count, dtype=np.int64)
    code = length = k = 0
    for b in bits:
        if k == count:
            break
        code = (code << 1) | int(b)
        length += 1
        s = table.get((length, code))
        if s is not None:
            out[k] = s
            k += 1
            code = length = 0
    if k != count:
        raise ValueError(f"huffman_decode: the data hold {k} symbols, expected {count}")
    return out


def relative_indices(flat_nonzero: np.ndarray, index_bits: int):
    """Positions of nonzero entries as gaps of at most ``2**index_bits - 1``.

    Returns ``(gaps, fill)``: one gap per stored entry (distance from the previous stored entry,
    the first counted from -1) and a bool per entry, True for the zero fillers that bridge gaps
    too long to write.
    """
    limit = 2 ** index_bits - 1
    gaps, fill = [], []
    prev = -1
    for p in np.asarray(flat_nonzero, dtype=np.int64):
        d = int(p) - prev
        while d > limit:
            gaps.append(limit)
            fill.append(True)
            d -= limit
        gaps.append(d)
        fill.append(False)
        prev = int(p)
    return np.asarray(gaps, dtype=np.int64), np.asarray(fill, dtype=bool)


def stage_bits(n_entries: int, value_bits: int, index_bits: int, codebook: int = 0) -> int:
    """Bits of a sparse layer stored with fixed widths: entries x (value + index) + codebook."""
    return n_entries * (value_bits + index_bits) + 32 * codebook


def encode_layer(centroids: np.ndarray, index: np.ndarray, mask: np.ndarray, bits: int,
                 index_bits: int = 5) -> bytes:
    """The bytes of one weight-shared, pruned layer: header, float32 codebook, the two tables
    of code lengths, and the Huffman-coded cluster indices and gaps.

    Args:
        centroids: (K,) shared values, K <= 2**bits.
        index: cluster index of every weight (any shape).
        mask: 1 where the weight is kept, 0 where pruned (the shape of ``index``).
        bits: width of a cluster index; the filler entries use the extra symbol K.
        index_bits: width of a relative index.
    """
    k = len(centroids)
    if k > 2 ** bits:
        raise ValueError(f"encode_layer: {k} centroids do not fit in {bits} bits")
    flat_mask = np.asarray(mask).reshape(-1) != 0
    nz = np.flatnonzero(flat_mask)
    gaps, fill = relative_indices(nz, index_bits)
    values = np.full(len(gaps), k, dtype=np.int64)  # fillers: symbol K, the zero
    values[~fill] = np.asarray(index).reshape(-1)[nz]
    w_bytes, w_len = huffman_encode(values, k + 1)
    g_bytes, g_len = huffman_encode(gaps, 2 ** index_bits)
    shape = np.asarray(index).shape
    header = _HEADER.pack(bits, index_bits, k, len(gaps), len(w_bytes), len(g_bytes), len(shape))
    return b"".join([header, struct.pack(f"<{len(shape)}I", *shape),
                     np.asarray(centroids, dtype="<f4").tobytes(),
                     w_len.astype(np.uint8).tobytes(), g_len.astype(np.uint8).tobytes(),
                     w_bytes, g_bytes])


def decode_layer(data: bytes) -> np.ndarray:
    """The dense float32 weight of :func:`encode_layer`'s bytes."""
    bits, index_bits, k, n, nw, ng, ndim = _HEADER.unpack_from(data, 0)
    at = _HEADER.size
    shape = struct.unpack_from(f"<{ndim}I", data, at)
    at += 4 * ndim
    centroids = np.frombuffer(data, dtype="<f4", count=k, offset=at)
    at += 4 * k
    w_len = np.frombuffer(data, dtype=np.uint8, count=k + 1, offset=at)
    at += k + 1
    g_len = np.frombuffer(data, dtype=np.uint8, count=2 ** index_bits, offset=at)
    at += 2 ** index_bits
    values = huffman_decode(data[at:at + nw], w_len, n)
    gaps = huffman_decode(data[at + nw:at + nw + ng], g_len, n)
    out = np.zeros(int(np.prod(shape)), dtype=np.float32)
    pos = np.cumsum(gaps) - 1
    real = values < k
    out[pos[real]] = centroids[values[real]]
    return out.reshape(shape)
