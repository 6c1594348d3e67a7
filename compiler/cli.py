"""The `segc` command line. It only parses arguments and calls the pipeline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__, bench, spec_schema
from .diagnostics import Diagnostic, UsageError
from .emitter import check, recover, write
from .freshness import fresh_outputs
from .locations import relative_to_root, templates_dir, zoo_dir, zoo_specs

EXIT_USER_ERROR = 2
EXIT_BROKEN_PIPE = 141
DEMO_COMBINATION = "pp_liteseg_stdc1"


def _spec_paths(args) -> list[Path]:
    if getattr(args, "all", False):
        if args.specs:
            raise UsageError("give spec files or --all, not both")
        directory = zoo_dir(args.zoo)
        paths = zoo_specs(directory)
        if not paths:
            raise UsageError(f"no *.yaml specs in {directory}")
        return paths
    if not args.specs:
        raise UsageError("name at least one spec file, or use --all")
    return [Path(p) for p in args.specs]


def _report(diagnostics: list[Diagnostic]) -> int:
    for d in diagnostics:
        print(d.format(), file=sys.stderr)
    count = len(diagnostics)
    print(f"segc: {count} error{'s' if count != 1 else ''}; nothing was written", file=sys.stderr)
    return EXIT_USER_ERROR


def cmd_compile(args) -> int:
    out_dir = Path(args.out)
    root = out_dir.resolve().parent
    paths = _spec_paths(args)
    if not args.check:
        recover(out_dir)  # a killed compile's tree is made whole before it is judged fresh
    unchanged, paths = ({}, paths) if args.full else fresh_outputs(
        paths, out_dir, lambda p: relative_to_root(p, root), templates_dir())
    outputs = []
    if paths:  # the stages run only for specs whose outputs are not fresh
        from .pipeline import render_outputs, resolve_specs

        variants, diagnostics = resolve_specs(paths, root)
        if diagnostics:
            return _report(diagnostics)
        outputs = render_outputs(variants)
    count = len(outputs) + len(unchanged)
    if args.check:
        report = check(outputs, out_dir, complete=args.all, unchanged=unchanged)
        for line in report:
            print(line)
        if report:
            print(f"segc: {len(report)} generated file(s) out of date; run "
                  f"'segc compile{' --all' if args.all else ''}' and commit the result",
                  file=sys.stderr)
            return 1
        print(f"segc: {count} combination(s) up to date in {out_dir}")
        return 0
    written = write(outputs, out_dir, complete=args.all, unchanged=unchanged)
    print(f"segc: compiled {count} combination(s) into {out_dir} "
          f"({len(written)} file(s) changed)")
    return 0


def cmd_validate(args) -> int:
    from .pipeline import resolve_specs

    paths = _spec_paths(args)
    variants, diagnostics = resolve_specs(paths, Path.cwd())
    if diagnostics:
        return _report(diagnostics)
    print(f"segc: {len(paths)} spec(s) valid, {len(variants)} combination(s)")
    return 0


def _figure(value, fmt="{:.2f}") -> str:
    return "-" if value is None else fmt.format(value)


def cmd_list(args) -> int:
    from .pipeline import resolve_specs

    args.all = not args.specs
    variants, diagnostics = resolve_specs(_spec_paths(args), Path.cwd())
    if diagnostics:
        return _report(diagnostics)
    rows = [("combination", "architecture", "backbone", "mIoU%", "GFLOPs", "Params(M)")]
    measured_shown = False
    for v in variants:
        ref = v.reference
        figures = []
        for key in ("gflops", "params_m"):
            # PaddleSeg's figure where its model zoo gives one, else segc bench's, starred
            if ref.get(key) is None and v.measured.get(key) is not None:
                figures.append(_figure(v.measured[key]) + "*")
                measured_shown = True
            else:
                figures.append(_figure(ref.get(key)))
        rows.append((v.name, v.variant_title or v.title, v.backbone.type if v.backbone else "-",
                     _figure(ref.get("miou")), *figures))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if measured_shown:
        print("\n* measured by segc bench (1x3x512x1024, eval); PaddleSeg's model zoo gives no "
              "figure for these")
    return 0


def cmd_show(args) -> int:
    from .pipeline import resolve_specs

    args.all = False
    variants, diagnostics = resolve_specs(_spec_paths(args), Path.cwd())
    if diagnostics:
        return _report(diagnostics)
    if args.variant:
        variants = [v for v in variants if v.name == args.variant]
        if not variants:
            raise UsageError(f"no variant named '{args.variant}'; "
                             "'segc list' shows the names")
    print(json.dumps([v.plain() for v in variants] if len(variants) > 1 else
                     variants[0].plain(), indent=2))
    return 0


def cmd_schema(args) -> int:
    text = spec_schema.dumps()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"segc: wrote {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def cmd_demo(args) -> int:
    from .demo import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="segc", description="Compile YAML segmentation specs into standalone "
        "PaddlePaddle train/export/infer scripts.")
    parser.add_argument("--version", action="version", version=f"segc {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def specs_args(p, allow_all=True):
        p.add_argument("specs", nargs="*", metavar="SPEC", help="spec files (zoo_specs/*.yaml)")
        if allow_all:
            p.add_argument("--all", action="store_true", help="every spec of the zoo")
        p.add_argument("--zoo", type=Path, default=None,
                       help="zoo folder for --all (default ./zoo_specs, else the bundled zoo)")

    p = sub.add_parser("compile", help="compile specs into generated/<combination>/")
    specs_args(p)
    p.add_argument("--out", default="generated", help="output folder (default: generated)")
    p.add_argument("--check", action="store_true",
                   help="write nothing; list missing or stale files and exit 1 if any")
    p.add_argument("--full", action="store_true",
                   help="render every combination, also those whose specs, templates, "
                   "fragments and compiler are unchanged since the manifest recorded them")
    p.set_defaults(func=cmd_compile)

    p = sub.add_parser("validate", help="check specs without writing anything")
    specs_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("list", help="every architecture x backbone with reference figures")
    specs_args(p, allow_all=False)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="print the fully resolved spec of each variant (JSON)")
    specs_args(p, allow_all=False)
    p.add_argument("--variant", help="only this combination (a name from 'segc list')")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("schema", help="print the JSON Schema of a spec")
    p.add_argument("--output", help="write it to this file instead")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("demo", help="compile, train briefly on built-in demo data, evaluate, "
                       "export and infer")
    p.add_argument("--combination", default=DEMO_COMBINATION,
                   help=f"which generated combination to run (default: {DEMO_COMBINATION}, "
                   "a real-time net that learns the demo data in a few minutes on 2 cores)")
    p.add_argument("--iters", type=int, default=100, help="training iterations (default 100)")
    p.add_argument("--workdir", default="demo_run", help="where outputs go (default demo_run)")
    p.set_defaults(func=cmd_demo)

    bench.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"segc: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:
        # The reader went away (`segc list | head`): stop quietly, as a tool killed by
        # SIGPIPE does (status 128 + 13), and let no flush at exit complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except OSError as exc:
        print(f"segc: error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USER_ERROR


if __name__ == "__main__":
    sys.exit(main())
