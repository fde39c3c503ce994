"""Deep Compression's storage: Huffman codes, relative indices, and layer bytes that decode back."""

import numpy as np
import pytest

from striate.compress import huffman


def test_huffman_lengths_are_optimal_and_prefix_free(rng):
    counts = np.array([45, 13, 12, 16, 9, 5])  # the textbook example (CLRS 16.3)
    lengths = huffman.huffman_lengths(counts)
    assert (lengths * counts).sum() == 224  # CLRS: 224 bits for 100 characters
    assert np.isclose((2.0 ** -lengths).sum(), 1.0)  # Kraft equality of a full tree
    codes = huffman.canonical_codes(lengths)
    words = [format(int(c), f"0{int(n)}b") for c, n in zip(codes, lengths)]
    assert not any(a != b and b.startswith(a) for a in words for b in words)


@pytest.mark.parametrize("n_symbols", [1, 2, 7, 33])
def test_huffman_round_trip(rng, n_symbols):
    p = rng.dirichlet(np.ones(n_symbols) * 0.3)
    symbols = rng.choice(n_symbols, size=500, p=p)
    data, lengths = huffman.huffman_encode(symbols, n_symbols)
    np.testing.assert_array_equal(huffman.huffman_decode(data, lengths, 500), symbols)
    # never longer than fixed-width codes (within the last byte's padding)
    assert len(data) <= (500 * max(1, int(np.ceil(np.log2(n_symbols)))) + 7) // 8


def test_relative_indices_insert_fillers():
    gaps, fill = huffman.relative_indices(np.array([0, 3, 20]), index_bits=3)
    # 0 (gap 1), 3 (gap 3), 20: gap 17 = 7 + 7 + 3 with two fillers
    np.testing.assert_array_equal(gaps, [1, 3, 7, 7, 3])
    np.testing.assert_array_equal(fill, [False, False, True, True, False])


def test_encode_layer_round_trip_and_is_small(rng):
    w_shape = (30, 40)
    mask = rng.random(w_shape) < 0.1
    centroids = np.sort(rng.standard_normal(16)).astype(np.float32)
    index = rng.integers(0, 16, size=w_shape)
    blob = huffman.encode_layer(centroids, index, mask, bits=4, index_bits=5)
    expected = np.where(mask, centroids[index], 0).astype(np.float32)
    np.testing.assert_array_equal(huffman.decode_layer(blob), expected)
    assert len(blob) < 4 * mask.size / 8  # far below the dense float32 layer


def test_encode_layer_rejects_too_many_centroids():
    with pytest.raises(ValueError, match="encode_layer: 5 centroids do not fit in 2 bits"):
        huffman.encode_layer(np.zeros(5), np.zeros((2, 2), int), np.ones((2, 2)), bits=2)
