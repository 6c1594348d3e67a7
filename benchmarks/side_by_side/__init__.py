"""Benchmark: segc's generated code against PaddleSeg 2.8, side by side in one run.

    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH [--combination fcn_hrnet_w18]
    python benchmarks/vs_paddleseg.py --paddleseg-repo PATH --quick     # minutes, not an hour

Same model configuration (the combination's spec and the PaddleSeg config it names),
same synthetic Cityscapes-sized data, same exported model, same thread count; every
measurement runs in a fresh child process, segc's and PaddleSeg's alternating round by
round so that a busy machine weighs on both alike. It writes
benchmarks/results/vs_paddleseg.json with each figure, the ratio segc / PaddleSeg and
whether the target is met:

- preprocess: one 1024x512 image to the model input (target < 10 ms for segc; the seed
  reports ~150 ms for PaddleSeg), with and without decoding the PNG;
- inference end to end per image: read, preprocess, predict, postprocess, through the
  generated infer.py's functions vs PaddleSeg's deploy/python/infer.py Predictor on the
  same exported model (ratio <= 0.5);
- training data pipeline: the config's train transforms on 2048x1024 images, 1024x512
  crops, images/s on one worker (one process, one OpenCV thread) (ratio >= 3);
- training iteration: the generated train.py vs PaddleSeg's trainer
  (paddleseg.core.train), same model, batch and crop, from their own logs (ratio <= 1);
  plus an instrumented loop on each side that says where an iteration's time goes;
- peak resident memory of the training run and of the inference predictor process
  (ratio <= 1 each).

PaddleSeg is the PyPI package (2.8.0, installed with --no-deps) plus a checkout of its
repository for deploy/python/infer.py (--paddleseg-repo; nothing from it is copied into
segc). tests/oracle/runtime.py lists what its code needs to run under Paddle 3.3.
Not a test: it measures and records, it never fails on time.

Its parts: orchestration (arguments, data, rounds, merging: the parent process),
children (the measurements, each in a fresh process), processes (running a child,
watching its memory and output), report (verdicts and docs/vs_paddleseg.md),
locations (where things are). The timing statistics, machine description and script
loading are segc.bench's, shared with `segc bench`.
"""

DESCRIPTION = __doc__.splitlines()[0]
