"""`segc bench` and the measuring shared with benchmarks/: apart from compiling.

- runner: the command (arguments, which combinations, one worker process each, merging
  the results);
- worker: what runs in a combination's process (export, FLOPs, latency);
- results: the results file's schema, loading, merging and saving;
- page: docs/model_zoo.md and its charts, from the results file alone (and the ONNX
  status file beside it, when there is one);
- onnx_status: that file's schema, loading, merging and saving: what export.py --onnx
  does for each combination and whether OpenVINO agrees on its file, as
  benchmarks/onnx_status.py measures it;
- flops: parameters and FLOPs with paddle.flops' conventions;
- timing, machine, scripts: statistics of timed runs, the machine's description and
  loading a generated script, one version of each for every benchmark.

The compiler never imports this package; the CLI only adds the `bench` sub-command.
"""

from .runner import add_parser

__all__ = ["add_parser"]
