"""Text for language models: a character vocabulary, corpus readers, and the character-level
language model's sampler and training loop (:mod:`striate.text.charnn`).

The default corpus is the Python standard library's own ``.py`` sources, which every Python
install has, so a character model can be trained with nothing downloaded.
"""

from .charnn import CharRNN, load_charnn, sample, train_charnn
from .corpus import read_corpus, read_text, stdlib_corpus, stdlib_files
from .vocab import CharVocab

__all__ = ["CharRNN", "CharVocab", "load_charnn", "read_corpus", "read_text", "sample",
           "stdlib_corpus", "stdlib_files", "train_charnn"]
