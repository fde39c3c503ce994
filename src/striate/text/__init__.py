"""Text for language models: a character vocabulary and corpus readers.

The default corpus is the Python standard library's own ``.py`` sources, which every Python
install has, so a character model can be trained with nothing downloaded.
"""

from .corpus import read_corpus, read_text, stdlib_corpus, stdlib_files
from .vocab import CharVocab

__all__ = ["CharVocab", "read_corpus", "read_text", "stdlib_corpus", "stdlib_files"]
