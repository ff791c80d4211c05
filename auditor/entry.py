"""The console script: runs the CLI so that anything the tool itself could not do exits 2.

An import error (a module missing from an install) or any other internal error would otherwise end in a
traceback and Python's exit code 1, which a CI gate reads as "findings found". Here it is one line on
stderr and exit 2; the traceback follows only with `--log-level debug`.

`aoai-audit --version` alone is answered here, without importing click or the commands (about 100 ms): the
same line click's version option prints (tests/test_startup.py compares the two), from the one version
string the package metadata is built from (pyproject.toml reads `aoai_audit.__version__`).
"""

from __future__ import annotations

import gc
import sys

from . import __version__

EXIT_INTERNAL = 2
PROG = "aoai-audit"


def version_line() -> str:
    """What click's `version_option(__version__, prog_name=PROG)` prints (its message "%(prog)s, version %(version)s")."""
    return f"{PROG}, version {__version__}\n"


def _print_version() -> None:
    """As click's echo and standalone mode do it: no stdout, no output; a closed pipe is exit 1, no traceback."""
    if sys.stdout is None:
        sys.exit(0)
    try:
        sys.stdout.write(version_line())
        sys.stdout.flush()
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        sys.exit(1)
    sys.exit(0)


def _debug_requested(argv: list[str]) -> bool:
    for i, arg in enumerate(argv):
        if arg == "--log-level=debug" or (arg == "--log-level" and argv[i + 1 : i + 2] == ["debug"]):
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        _print_version()
    try:
        collecting = gc.isenabled()
        gc.disable()  # importing the command line makes many objects and no garbage: no cycle collection
        try:
            from .cli import main as cli
        finally:
            if collecting:
                gc.enable()
        cli.main(args=args, prog_name=PROG, standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("aoai-audit: interrupted\n")
        sys.exit(130)
    except BaseException as exc:  # the last line of defence: exit 2, never 1, never a traceback
        if _debug_requested(args):
            import traceback

            traceback.print_exc()
        where = f" in {exc.name}" if isinstance(exc, ImportError) and exc.name else ""
        sys.stderr.write(f"aoai-audit: internal error{where}: {type(exc).__name__}: {exc} "
                         f"(exit {EXIT_INTERNAL}; --log-level debug shows the traceback)\n")
        sys.exit(EXIT_INTERNAL)
