"""``CharVocab``: characters <-> integer ids for character-level models."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["CharVocab"]


class CharVocab:
    """A fixed, ordered set of characters; id ``i`` is ``chars[i]``.

    Example:
        >>> v = CharVocab.build("hello")
        >>> v.chars, v.encode("hole").tolist(), v.decode([3, 2])
        ('ehlo', [1, 3, 2, 0], 'ol')
    """

    def __init__(self, chars: Iterable[str]):
        chars = "".join(chars)
        if not chars:
            raise ValueError("CharVocab: needs at least one character, got an empty set")
        if len(set(chars)) != len(chars):
            raise ValueError("CharVocab: characters must be distinct")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def build(cls, text: str) -> CharVocab:
        """The vocabulary of every character in ``text``, sorted by code point."""
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> int64 ids (len(text),). Raises KeyError naming an unknown character."""
        try:
            return np.fromiter((self._index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as e:
            raise KeyError(f"CharVocab.encode: character {e.args[0]!r} is not in the vocabulary "
                           f"of {len(self)} characters") from None

    def decode(self, ids) -> str:
        """ids (any int sequence or array) -> the string."""
        chars = self.chars
        return "".join(chars[int(i)] for i in np.asarray(ids).reshape(-1))

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters)"
