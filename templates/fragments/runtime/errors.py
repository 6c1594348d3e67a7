"""The one way a generated script reports a user error or a failed check, and stops."""

import importlib
import sys


def report_error(message):
    """Print `error: message` to stderr and go on (one bad input among many)."""
    print(f"error: {message}", file=sys.stderr, flush=True)


def fail(message, status=2):
    """Print `error: message` to stderr (no traceback) and exit with `status`.

    2: a user error (a bad flag, file or config); 1: a check the script ran failed.
    """
    report_error(message)
    raise SystemExit(status)


def stop(status=2):
    """Exit with `status` after the errors were reported one by one (report_error), or
    with 0 after a check that found none."""
    raise SystemExit(status)


def import_optional(module, flag):
    """Import an optional package (an extra a flag needs: paddle2onnx, visualdl,
    matplotlib), or stop with one line saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        fail(f"{flag} needs the '{module}' package: pip install {module}")
