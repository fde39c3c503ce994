"""Image captioning and visual question answering.

- ``shapes``: a synthetic captioning set (coloured shapes and sentences that describe them),
  deterministic from a seed, and the ``Vocabulary`` with ``<NULL>``, ``<START>``, ``<END>``,
  ``<UNK>``.
- ``coco``: the COCO captions format (annotations JSON + image folder).
- ``bleu``: corpus BLEU-1..4.
- ``model``: ``CaptioningModel`` (CNN -> initial hidden state of an LSTM/RNN decoder) and
  ``AttentionCaptioningModel`` (soft attention over the CNN's feature map), greedy and beam-search
  decoding; ``attention``: the fused attention op.
- ``training``: the training loop and BLEU evaluation; ``viz``: attention maps as a PNG.
- ``vqa``: questions about the synthetic images and a CNN + LSTM answerer.

Example:
    >>> import striate
    >>> from striate.caption import make_shapes, CaptioningModel
    >>> data = make_shapes(n_train=16, n_val=2, n_test=2)
    >>> model = CaptioningModel(len(data.vocab), data.image_shape, hidden_dim=16)
    >>> ids = model.greedy(striate.Tensor(data.test.images), max_length=5)
    >>> ids.shape
    (2, 5)
"""

from .bleu import bleu_scores, corpus_bleu
from .coco import load_coco, read_coco_captions
from .model import AttentionCaptioningModel, CaptioningModel, ConvEncoder, build_captioner
from .shapes import CaptionData, CaptionSplit, Vocabulary, make_shapes
from .training import evaluate_bleu, train_captioner

__all__ = [
    "AttentionCaptioningModel",
    "CaptionData",
    "CaptionSplit",
    "CaptioningModel",
    "ConvEncoder",
    "Vocabulary",
    "bleu_scores",
    "build_captioner",
    "corpus_bleu",
    "evaluate_bleu",
    "load_coco",
    "make_shapes",
    "read_coco_captions",
    "train_captioner",
]
