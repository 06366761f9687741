"""Run the reference target: `python -m examples.reference_target --host 127.0.0.1 --port PORT`.

Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 2 when the command
line or the environment is invalid (nothing was started).
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys

from .config import ConfigError, Settings

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.reference_target",
        description="Reference payment service driven by the paychaos harness.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback only by default)")
    parser.add_argument("--port", type=int, required=True, help="TCP port to listen on")
    parser.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow binding a non-loopback address (the service takes real-looking payments)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not is_loopback(args.host) and not args.allow_non_loopback:
        print(
            f"--host={args.host} is refused: the reference target binds loopback only "
            "(127.0.0.1, ::1 or localhost). Pass --allow-non-loopback to bind it anyway.",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.port < 65536:
        print(f"--port={args.port} is invalid: it must be between 1 and 65535.", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"reference target not started: {exc}", file=sys.stderr)
        return 2

    # Imported late: a bad command line should fail fast, without loading the server.
    import uvicorn

    from .app import create_app
    from .logs import configure

    configure(args.log_level)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then re-raises the
    # signal against the handler it found installed. Make that handler a clean
    # exit, so a graceful stop is exit code 0 rather than "killed by SIGTERM".
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _exit_cleanly)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        # Our logging config (JSON lines on stderr) instead of uvicorn's, which
        # would print access lines to stdout.
        log_config=None,
        log_level=args.log_level,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
