"""Fine-tuning and measuring a compressed model: the two things every method here does after
changing a model, on top of ``striate.train.Trainer``."""

from __future__ import annotations

import time

from ..optim import create_optimizer

__all__ = ["finetune", "evaluate", "inference_time"]


def finetune(model, loader, epochs: int = 1, lr: float = 1e-3, optimizer: str = "adam",
             weight_decay: float = 0.0, loss_fn=None, progress: bool = False) -> list[dict]:
    """Train ``model`` for ``epochs`` on ``loader`` with a fresh optimizer over its current
    parameters (after weight sharing those are the centroids); returns the Trainer's history."""
    from ..train import Trainer

    if epochs <= 0:
        return []
    opt = create_optimizer(optimizer, list(model.parameters()), lr=lr, weight_decay=weight_decay)
    trainer = Trainer(model, opt, loss_fn=loss_fn, progress=progress, checks=False, log=False,
                      monitor="train_loss")
    return trainer.fit(loader, None, epochs=epochs)


def evaluate(model, loader) -> float:
    """Top-1 accuracy of ``model`` on ``loader`` (eval mode, no gradients)."""
    from ..train import Trainer

    return float(Trainer(model, None, progress=False, checks=False).evaluate(loader)["accuracy"])


def inference_time(model, x, repeats: int = 5) -> float:
    """Median seconds of one forward pass of ``model`` on the batch ``x`` (eval, no grad)."""
    import striate

    model.eval()
    times = []
    with striate.no_grad():
        model(x)  # warm up: first-call imports and allocations
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]
