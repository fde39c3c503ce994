"""Make docs/generative.md's pictures and numbers: train every model with `striate generate`'s
defaults (timing each command), then sample, interpolate and evaluate.

    PYTHONPATH=src python docs/make_generative.py [--jobs 2] [--runs /tmp/generative-runs]

Stage 1 runs `striate generate KIND train` for every kind with its defaults (plus a VAE with a
2-D latent space for the latent grid, and a Gaussian-decoder VAE), and `striate train` for the
classifier that labels samples; each command's wall time is recorded. Stage 2 reads the runs
(stage 1 skips runs that already finished, so the pictures can be remade alone) and writes
docs/img/generative/*.png and docs/img/generative/numbers.json. With ``--pictures-only`` stage 2
runs on the runs as they are, an unfinished one from its last checkpoint (numbers.json says
which epoch each run reached); ``--also DIR ...`` adds runs made by other invocations.
``--ae-grid`` reruns the autoencoders' 100-label experiment over the classifier's settings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BLAS = os.environ.get("MAKE_GENERATIVE_BLAS_THREADS", "1")
IMG = ROOT / "docs" / "img" / "generative"

# name -> the command's arguments after `striate`
RUNS = {  # longest first, so that --jobs N finishes soonest
    "dcgan": ["generate", "dcgan", "train"],
    "ddpm": ["generate", "ddpm", "train"],
    "gan": ["generate", "gan", "train"],
    "lsgan": ["generate", "lsgan", "train"],
    "pixelrnn": ["generate", "pixelrnn", "train"],
    "pixelcnn": ["generate", "pixelcnn", "train"],
    "classifier": ["train", "--epochs", "10"],
    "ae": ["generate", "ae", "train"],
    "ae-fc": ["generate", "ae", "train", "--arch", "fc"],
    "vae": ["generate", "vae", "train"],
    "vae-2d": ["generate", "vae", "train", "--latent-dim", "2"],
    "vae-gaussian": ["generate", "vae", "train", "--likelihood", "gaussian"],
}


def _run_one(name: str, runs: Path) -> dict:
    folder = runs / name
    done = folder / ("checkpoint_best.npz" if name == "classifier" else "summary.json")
    if done.exists():
        return json.loads((folder / "timing.json").read_text())
    if folder.exists():
        shutil.rmtree(folder)
    parent = runs / f".{name}.tmp"  # each command its own parent folder: no name clashes
    shutil.rmtree(parent, ignore_errors=True)
    args = RUNS[name] + ["--out", str(parent), "--name", name]
    args += ["--no-progress"] if name == "classifier" else ["--quiet"]
    # one BLAS thread per command: on a shared, oversubscribed machine a multi-threaded GEMM
    # waits for every one of its threads to be scheduled (the small models' GEMMs ran 8x slower)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OPENBLAS_NUM_THREADS": BLAS,
           "OMP_NUM_THREADS": BLAS, "MKL_NUM_THREADS": BLAS}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "striate.cli", *args], env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{name}: {proc.stderr.strip().splitlines()[-1:]}")
    (made,) = parent.iterdir()
    made.rename(folder)
    parent.rmdir()
    timing = {"name": name, "command": "striate " + " ".join(RUNS[name]),
              "seconds": round(seconds, 1), "load": round(os.getloadavg()[0], 1)}
    (folder / "timing.json").write_text(json.dumps(timing))
    print(f"{name}: {seconds:.0f} s", flush=True)
    return timing


def train_all(runs: Path, jobs: int, only: list[str]) -> dict:
    runs.mkdir(parents=True, exist_ok=True)
    names = only or list(RUNS)
    with ThreadPoolExecutor(jobs) as pool:
        return dict(zip(names, pool.map(lambda n: _run_one(n, runs), names)))


def _folder(dirs: list[Path], name: str) -> Path | None:
    """A run's folder: finished (``DIR/name``) or still training (``DIR/.name.tmp/<run>``, whose
    last checkpoint is used: the page says which epoch it reached)."""
    for d in dirs:
        f = d / name
        if (f / "checkpoint_last.npz").exists() or (f / "checkpoint_best.npz").exists():
            if (f / "config.json").exists():
                return f
    for d in dirs:
        for f in sorted((d / f".{name}.tmp").glob("*")):
            if (f / "checkpoint_last.npz").exists() or (f / "checkpoint_best.npz").exists():
                return f
    return None


def pictures(dirs: list[Path]) -> dict:
    sys.path.insert(0, str(ROOT / "src"))
    import striate
    from striate.data import digits
    from striate.data.transforms import transform_from_dict
    from striate.generative import label_samples, load_run, save_grid
    from striate.models import create_model
    from striate.train import load

    IMG.mkdir(parents=True, exist_ok=True)
    data = digits()
    numbers: dict = {"runs": {}}

    def run(name):
        f = _folder(dirs, name)
        if f is None:
            print(f"{name}: no run yet, skipped", flush=True)
            return None, None
        timing = f / "timing.json"
        metrics = (f / "metrics.csv").read_text().splitlines() if (f / "metrics.csv").exists() \
            else []
        numbers["runs"][name] = {
            "folder": str(f), "finished": not f.parent.name.endswith(".tmp"),
            "command_seconds": json.loads(timing.read_text()).get("seconds")
            if timing.exists() else None,
            "epochs_done": max(0, len(metrics) - 1)}
        if metrics:
            head = metrics[0].split(",")
            numbers["runs"][name]["last_epoch"] = dict(zip(head, metrics[-1].split(",")))
        return f, (load_run(str(f)) if name != "classifier" else None)

    # the classifier of `striate train` (its best checkpoint), as `generate evaluate` loads it
    clf = norm = None
    f, _ = run("classifier")
    if f is not None:
        ck = load(str(f / "checkpoint_best.npz"))
        cfg = ck["config"]
        clf = create_model(cfg["model"], num_classes=10, input_shape=(1, 8, 8))
        clf.load_state_dict(ck["model"])
        norm = transform_from_dict(cfg["normalize"])
        clf.eval()
        with striate.no_grad():
            pred = clf(striate.tensor(norm(data.test.X))).array.argmax(1)
        numbers["classifier_test_acc"] = float((pred == data.test.y).mean())
        numbers["real_test_images"] = label_samples(clf, data.test.X, norm)

    for kind in ("gan", "lsgan", "dcgan"):
        f, loaded = run(kind)
        if f is None:
            continue
        task = loaded[0]
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{kind}_samples.png"),
                  nrow=8)
        if (f / "loss.png").exists():
            shutil.copy(f / "loss.png", IMG / f"{kind}_losses.png")
        if kind == "dcgan":
            for e in (1, 5):
                if (f / f"samples_epoch{e:03d}.png").exists():
                    shutil.copy(f / f"samples_epoch{e:03d}.png", IMG / f"dcgan_epoch{e}.png")
            save_grid(task.interpolate(8, 10, None, np.random.default_rng(2)),
                      str(IMG / "dcgan_interpolation.png"), nrow=10)
        if clf is not None:
            numbers[f"{kind}_labels"] = label_samples(
                clf, task.sample(1000, np.random.default_rng(3)), norm)

    f, loaded = run("ddpm")
    if f is not None:
        task = loaded[0]
        t0 = time.perf_counter()
        x = task.model.sample(16, np.random.default_rng(1))
        numbers["ddpm_ancestral_16_seconds"] = round(time.perf_counter() - t0, 1)
        save_grid((x + 1) / 2, str(IMG / "ddpm_samples_ancestral.png"), nrow=8)
        t0 = time.perf_counter()
        x = np.concatenate([task.model.ddim_sample(500, 20, np.random.default_rng(3 + k))
                            for k in range(2)])
        x = (x + 1) / 2
        numbers["ddpm_ddim20_1000_seconds"] = round(time.perf_counter() - t0, 1)
        save_grid(x[:64], str(IMG / "ddpm_samples_ddim.png"), nrow=8)
        if clf is not None:
            numbers["ddpm_labels"] = label_samples(clf, x, norm)
        save_grid(task.interpolate(8, 10, None, np.random.default_rng(2)),
                  str(IMG / "ddpm_interpolation.png"), nrow=10)
        if (f / "loss.png").exists():
            shutil.copy(f / "loss.png", IMG / "ddpm_losses.png")

    for name in ("vae", "vae-2d", "vae-gaussian"):
        f, loaded = run(name)
        if f is None:
            continue
        task = loaded[0]
        tag = name.replace("-", "_")
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{tag}_samples.png"),
                  nrow=8)
        ev = task.evaluate(data.test.X)
        numbers[f"{tag}_test_elbo"] = ev["test_elbo"]
        if "test_bits_per_dim" in ev:  # the Gaussian decoder: its ELBO discretised to 17 levels
            numbers[f"{tag}_test_bits_per_dim"] = ev["test_bits_per_dim"]
            sigma = np.exp(task.model.log_scale.array)
            numbers[f"{tag}_sigma"] = {"min": float(sigma.min()), "median": float(
                np.median(sigma)), "max": float(sigma.max())}
        if name in ("vae", "vae-gaussian"):
            x = data.test.X[:32]
            r = task.reconstructions(x)
            pairs = np.concatenate([np.stack([task.prepare(x[i:i + 8]), r[i:i + 8]])
                                    for i in range(0, 32, 8)]).reshape(-1, 1, 8, 8)
            save_grid(pairs, str(IMG / f"{tag}_reconstructions.png"), nrow=8)
        if name == "vae":
            save_grid(task.interpolate(8, 10, data.test.X, np.random.default_rng(2)),
                      str(IMG / "vae_interpolation.png"), nrow=10)
        if name == "vae-2d":
            save_grid(task.latent_grid(15), str(IMG / "vae_latent_grid.png"), nrow=15)

    for name in ("ae", "ae-fc"):
        f, loaded = run(name)
        if f is None:
            continue
        task = loaded[0]
        tag = name.replace("-", "_")
        # the 100-label experiment as the run reported it (summary.json), with the paired
        # differences of the draws: each draw's labels are the same for the three arms
        summary = json.loads((f / "summary.json").read_text()) if (f / "summary.json").exists() \
            else task.final_report(data)
        feats = {k: v for k, v in summary.items() if k.endswith(("_acc", "_accs"))
                 or k in ("labels", "draws")}
        for arm in ("frozen", "finetuned"):
            if f"{arm}_accs" in feats:
                diff = np.subtract(feats[f"{arm}_accs"], feats["scratch_accs"])
                feats[f"{arm}_minus_scratch"] = {
                    "mean": float(diff.mean()), "per_draw": diff.tolist(),
                    "standard_error": float(diff.std(ddof=1) / np.sqrt(len(diff)))
                    if len(diff) > 1 else None}
        numbers[f"{tag}_features"] = feats
        numbers[f"{tag}_test_loss"] = task.evaluate(data.test.X)["test_loss"]
        save_grid(task.epoch_grid(data.test.X, None), str(IMG / f"{tag}_reconstructions.png"),
                  nrow=8)
        save_grid(task.interpolate(8, 10, data.test.X, np.random.default_rng(2)),
                  str(IMG / f"{tag}_interpolation.png"), nrow=10)

    for kind in ("pixelcnn", "pixelrnn"):
        f, loaded = run(kind)
        if f is None:
            continue
        task = loaded[0]
        numbers[f"{kind}_bits_per_dim"] = task.evaluate(data.test.X)["test_bits_per_dim"]
        numbers["baseline_bits_per_dim"] = task.final_report(data)["baseline_bits_per_dim"]
        save_grid(task.sample(64, np.random.default_rng(1)), str(IMG / f"{kind}_samples.png"),
                  nrow=8)
    (IMG / "numbers.json").write_text(json.dumps(numbers, indent=1) + "\n")
    return numbers


def ae_grid(dirs: list[Path]) -> dict:
    """The 100-label experiment of each autoencoder run again over the classifier's settings
    (a linear or a one-hidden-layer head; Adam at 1e-3 or 1e-2), the same settings for the
    three arms: whether the comparison holds beyond the default's one choice. Writes
    docs/img/generative/ae_grid.json."""
    sys.path.insert(0, str(ROOT / "src"))
    from striate.data import digits
    from striate.generative import feature_experiment, load_run

    data, out = digits(), {}
    for name in ("ae", "ae-fc"):
        f = _folder(dirs, name)
        if f is None:
            continue
        task = load_run(str(f))[0]
        for hidden in (0, 64):
            for lr in (1e-3, 1e-2):
                r = feature_experiment(task.model, data, steps=task.config["probe_steps"],
                                       lr=lr, draws=task.config.get("probe_draws", 5),
                                       hidden=hidden)
                key = f"{name} hidden={hidden} lr={lr:g}"
                out[key] = {k: v for k, v in r.items() if k.endswith("_acc")}
                print(key, out[key], flush=True)
    (IMG / "ae_grid.json").write_text(json.dumps(out, indent=1) + "\n")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="/tmp/generative-runs", help="where the runs go")
    p.add_argument("--also", nargs="*", default=[],
                   help="more folders of runs for the pictures (runs made by other invocations)")
    p.add_argument("--pictures-only", action="store_true",
                   help="stage 2 only, from the runs as they are (unfinished ones at their "
                        "last epoch)")
    p.add_argument("--jobs", type=int, default=1, help="commands run at once (default: 1)")
    p.add_argument("--only", nargs="*", default=[], choices=list(RUNS), help="train these")
    p.add_argument("--train-only", action="store_true", help="stage 1 only")
    p.add_argument("--ae-grid", action="store_true",
                   help="only rerun the autoencoders' 100-label experiment over head and lr")
    a = p.parse_args()
    if a.ae_grid:
        ae_grid([Path(a.runs), *map(Path, a.also)])
        return
    if not a.pictures_only:
        train_all(Path(a.runs), a.jobs, a.only)
    if not a.train_only:
        print(json.dumps(pictures([Path(a.runs), *map(Path, a.also)]), indent=1))


if __name__ == "__main__":
    main()
