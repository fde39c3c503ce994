"""striate vs PyTorch on the CS231n FC net, a small ConvNet and ResNet-20: train step and
inference, batch 128, float32, same threads, medians of interleaved rounds.

    python bench/bench_models.py [--models fc,convnet,resnet20] [--batch-size 128]
                                 [--threads N] [--rounds 3] [--steps 3]

The same as ``striate bench``; the models and the timing loop live in ``striate.benchmark`` so the
installed command can run them. Needs the ``reference`` extra (PyTorch).
"""

import sys

from striate.benchmark import main

if __name__ == "__main__":
    sys.exit(main())
