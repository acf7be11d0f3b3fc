"""Training-step and epoch cost of the deep models: stochastic (its default, and the exact or
filter-mean variance with independent or comonotone max pooling and sampled units) against
BinaryConnect.

One training step = forward in training mode, cross-entropy, backward and an Adam step,
on one batch of 100 random images, 1 torch thread. The models are timed in
interleaved rounds (round r times every model once, 5 steps each) and the best round
of each is kept, so a busy machine cannot flatter a ratio; by default the clock is the
process's CPU time (one thread), which other jobs on the machine inflate far less than
elapsed time. ``--compile`` times
``torch.compile`` d forwards, as ``stochsyn deep train --compile`` does (the first,
compiling step is excluded).

``--epoch`` also times, in the same rounds, the rest of an epoch of ``stochsyn deep
train`` (the deploy calibration on ``calib_samples`` = 10,000 training images for the
stochastic model, the mean-field and the deployed test passes over 10,000 images, compiled
with ``--compile`` as in training; measured on ``--eval-images`` images and scaled to 10,000) and prints the
epoch estimate 600 steps + that work, and its ratio to BinaryConnect's (the issue-13 bar:
seconds per epoch <= 1.5× BinaryConnect's).

    python benchmarks/bench_deep_step.py --arch mlp:784-1024-1024-10
    python benchmarks/bench_deep_step.py --arch cnn --compile
    python benchmarks/bench_deep_step.py --arch cnn --compile --epoch --rows stochastic,stochastic-exact

Prints milliseconds per step and the ratios to BinaryConnect.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from stochsyn.deep import DEFAULT_CNN, build_model
from stochsyn.deep.train import accuracies, to_float

ROWS = (
    # the default: sign units, filter-mean variance, every unit drawn (after the trainer's
    # warm-up; a model stepped directly draws at once)
    ("stochastic", "stochastic", {}),
    ("stochastic-fm", "stochastic", {"sample_units": 0.0}),  # the filter-mean mean-field pass
    ("stochastic-exact", "stochastic", {"variance": "exact", "sample_units": 0.0}),  # the default before
    ("stochastic-su", "stochastic", {"variance": "exact", "sample_units": 0.5}),
    ("stochastic-fm-su", "stochastic", {"sample_units": 0.5}),
    ("stochastic-su1", "stochastic", {"variance": "exact"}),  # every unit drawn, exact first layer
    ("binaryconnect", "binaryconnect", {}),
)
# an epoch of `stochsyn deep train` on Fashion-MNIST: 60,000 / 100 steps, then the deploy
# calibration (10,000 images, stochastic models) and two passes over the 10,000 test images
EPOCH_STEPS, EVAL_IMAGES = 600, 10000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", default="mlp:784-1024-1024-10", help="architecture ('cnn' = the default CNN)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=5, help="steps per model and round")
    ap.add_argument("--batch-size", type=int, default=100)
    ap.add_argument("--compile", action="store_true", help="time torch.compile'd forwards")
    ap.add_argument("--clock", choices=("process", "wall"), default="process",
                    help="process: CPU seconds of this process (one thread; robust to other jobs taking "
                         "the cores), wall: elapsed seconds")
    ap.add_argument("--epoch", action="store_true",
                    help="also time an epoch's calibration and test passes; print the epoch ratio")
    ap.add_argument("--eval-images", type=int, default=2000,
                    help="images timed per calibration/test pass with --epoch (scaled to 10,000)")
    ap.add_argument("--rows", default=",".join(r[0] for r in ROWS),
                    help="comma list of rows to time (binaryconnect, the reference, is always timed)")
    args = ap.parse_args()
    arch = DEFAULT_CNN if args.arch == "cnn" else args.arch
    wanted = set(args.rows.split(",")) | {"binaryconnect"}
    unknown = wanted - {r[0] for r in ROWS}
    if unknown:
        ap.error(f"--rows: unknown rows {sorted(unknown)}; known: {[r[0] for r in ROWS]}")
    if args.eval_images < 1 or args.eval_images > EVAL_IMAGES:
        ap.error(f"--eval-images={args.eval_images}: expected 1..{EVAL_IMAGES}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    flushing = torch.set_flush_denormal(True)  # as train() does (subnormals slow a trained model's step)
    try:
        gen = torch.Generator().manual_seed(0)
        x = torch.rand(args.batch_size, 1, 28, 28, generator=gen)
        y = torch.randint(0, 10, (args.batch_size,), generator=gen)
        models, forwards, opts = {}, {}, {}
        images = torch.randint(0, 256, (args.eval_images, 1, 28, 28), generator=gen, dtype=torch.uint8).numpy()
        labels = torch.randint(0, 10, (args.eval_images,), generator=gen).numpy()
        for name, kind, options in ROWS:
            if name not in wanted:
                continue
            torch.manual_seed(0)
            model = build_model(kind, arch, **options)
            model.train()
            models[name] = model
            forwards[name] = torch.compile(model, dynamic=False) if args.compile else model
            opts[name] = torch.optim.Adam(model.parameters(), lr=1e-3)

        clock = time.process_time if args.clock == "process" else time.perf_counter

        def steps(name: str, count: int) -> float:
            t0 = clock()
            for _ in range(count):
                opts[name].zero_grad()
                F.cross_entropy(forwards[name](x), y).backward()
                opts[name].step()
            return (clock() - t0) / count

        def epoch_rest(name: str) -> float:
            """What train() does after the steps of an epoch, per 10,000 images."""
            model = models[name]
            t0 = clock()
            model.eval()
            model.calibrate_deploy(to_float(images))  # a no-op for the straight-through models
            accuracies(model, images, labels, forwards[name])
            model.train()
            model.set_mode("mean-field")
            return (clock() - t0) * EVAL_IMAGES / args.eval_images

        for name in models:  # warm-up (and compilation)
            steps(name, 1)
        best = {name: float("inf") for name in models}
        rest = {name: float("inf") for name in models}
        for _ in range(args.rounds):
            for name in models:
                best[name] = min(best[name], steps(name, args.steps))
                if args.epoch:
                    rest[name] = min(rest[name], epoch_rest(name))
    finally:
        torch.set_num_threads(threads)
        if flushing:
            torch.set_flush_denormal(False)
    ref = best["binaryconnect"]
    print(f"{arch}, batch {args.batch_size}, 1 thread, {'compiled' if args.compile else 'eager'}, "
          f"best of {args.rounds} interleaved rounds of {args.steps} steps, {args.clock} time")
    for name, t in best.items():
        print(f"  {name:21s} {1000 * t:8.1f} ms/step   ratio to binaryconnect {t / ref:5.2f}")
    if args.epoch:
        epoch = {name: EPOCH_STEPS * best[name] + rest[name] for name in models}
        print(f"epoch estimate: {EPOCH_STEPS} steps + calibration and test passes (measured on "
              f"{args.eval_images} images, scaled to {EVAL_IMAGES})")
        for name in models:
            print(f"  {name:21s} steps {EPOCH_STEPS * best[name]:7.1f} s + rest {rest[name]:6.1f} s = "
                  f"{epoch[name]:7.1f} s   ratio to binaryconnect {epoch[name] / epoch['binaryconnect']:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
