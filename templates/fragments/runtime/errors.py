"""The one way a generated script stops on a user error or a failed check."""

import sys


def fail(message, status=2):
    """Print `error: message` to stderr (no traceback) and exit with `status`.

    2: a user error (a bad flag, file or config); 1: a check the script ran failed.
    """
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(status)
