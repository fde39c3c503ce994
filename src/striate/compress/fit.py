"""Fine-tuning and measuring a compressed model: the two things every method here does after
changing a model, on top of ``striate.train.Trainer``."""

from __future__ import annotations

import time

from ..optim import create_optimizer

__all__ = ["finetune", "evaluate", "inference_time"]


def finetune(model, loader, epochs: int = 1, lr: float = 1e-3, optimizer: str = "adam",
             weight_decay: float = 0.0, loss_fn=None, progress: bool = False,
             val_loader=None, min_lr: float | None = None) -> list[dict]:
    """Train ``model`` for ``epochs`` on ``loader`` with a fresh optimizer over its current
    parameters (after weight sharing those are the centroids); returns the Trainer's history.

    Args:
        val_loader: when given, the model ends with the weights of its best epoch on this
            split (highest accuracy, lowest loss among equals; the later epoch among exact
            ties), so a phase of retraining never ends on an unlucky last epoch. Never pass
            the test split: choosing on it is fitting the test set.
        min_lr: when given, the rate falls from ``lr`` to ``min_lr`` along a cosine over the
            epochs (``CosineAnnealingLR``): large steps to recover, small ones to settle.
    """
    from ..optim.lr_scheduler import CosineAnnealingLR
    from ..train import Trainer

    if epochs <= 0:
        return []
    opt = create_optimizer(optimizer, list(model.parameters()), lr=lr, weight_decay=weight_decay)
    sched = None if min_lr is None else CosineAnnealingLR(opt, T_max=epochs, eta_min=min_lr)
    trainer = Trainer(model, opt, loss_fn=loss_fn, scheduler=sched, progress=progress,
                      checks=False, log=False, monitor="train_loss")
    if val_loader is None:
        return trainer.fit(loader, None, epochs=epochs)
    best_key, best_state = None, None
    for epoch in range(1, epochs + 1):
        record = trainer.fit(loader, val_loader, epochs=epoch)[-1]
        key = (record["val_acc"], -record["val_loss"])
        if best_key is None or key >= best_key:
            best_key, best_state = key, model.state_dict()
    model.load_state_dict(best_state)
    return trainer.history


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
