"""``python -m mock_providers serve --provider NAME[:TYPE][=PORT] ...`` (docs/interfaces.md section 1)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from .core.server import LOOPBACK, install_uvloop
from .registry import PROVIDERS, load_profile
from .serve import ServeOptions, serve

EXIT_USAGE = 2
EXIT_INFRA = 3


def _provider_spec(text: str) -> tuple[str, str, int]:
    """``cardpay``, ``cardpay=8080``, ``primary:cardpay``, ``backup:cardpay=0``,
    ``acq:my_pkg.providers.acq`` (a module that defines PROFILE)."""
    head, _, port = text.partition("=")
    name, _, type_name = head.partition(":")
    type_name = type_name or name
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise argparse.ArgumentTypeError(f"instance name {name!r} is invalid: use letters, digits, _ and -")
    try:
        load_profile(type_name)
    except KeyError as exc:
        raise argparse.ArgumentTypeError(str(exc).strip('"')) from None
    if not port:
        return name, type_name, 0
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"port={port!r} is invalid: use 0..65535 (0 = any free port)")
    return name, type_name, int(port)


def _ref_field(text: str) -> tuple[str, str]:
    name, sep, field = text.partition("=")
    if not sep or not field:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: use PROVIDER=FIELD, e.g. cardpay=metadata[order_id]")
    return name, field


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is invalid: use an integer >= 1")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mock_providers", description="paychaos mock payment providers")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run providers on 127.0.0.1 until SIGTERM/SIGINT")
    s.add_argument("--provider", action="append", type=_provider_spec, required=True,
                   metavar="NAME[:TYPE][=PORT]",
                   help=f"an instance NAME of TYPE (default: NAME), TYPE one of {sorted(PROVIDERS)} or a module"
                        " path that defines PROFILE; repeat for several")
    s.add_argument("--host", default=LOOPBACK, help="must be 127.0.0.1 (anything else is refused)")
    s.add_argument("--seed", type=int, default=0, help="seed of per-request fault decisions")
    s.add_argument("--journal-dir", help="spill evicted journal entries to DIR/<instance>.journal.jsonl")
    s.add_argument("--journal-capacity", type=_positive_int, default=50_000,
                   help="journal entries kept in memory per instance")
    s.add_argument("--order-ref-field", action="append", type=_ref_field, default=[], metavar="INSTANCE=FIELD",
                   help="request parameter carrying the order reference (cardpay=metadata[order_id])")
    s.add_argument("--idempotency-ttl-s", type=float, default=24 * 3600.0,
                   help="idempotency keys expire after this many seconds (Stripe: 86400)")
    s.add_argument("--log-level", default="WARNING", help="stderr log level")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.host != LOOPBACK:
        print(f"--host={args.host!r} is refused: mock providers bind {LOOPBACK} only", file=sys.stderr)
        return EXIT_USAGE
    names = [name for name, _, _ in args.provider]
    if len(set(names)) != len(names):
        print(f"--provider names an instance twice ({names}); give each instance its own name", file=sys.stderr)
        return EXIT_USAGE
    if args.idempotency_ttl_s <= 0:
        print(f"--idempotency-ttl-s={args.idempotency_ttl_s} is invalid: it must be > 0", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(stream=sys.stderr, level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_uvloop()
    opts = ServeOptions(providers=args.provider, seed=args.seed, journal_dir=args.journal_dir,
                        journal_capacity=args.journal_capacity, order_ref_fields=dict(args.order_ref_field),
                        idempotency_ttl_s=args.idempotency_ttl_s)
    try:
        asyncio.run(serve(opts))
    except (OSError, ValueError) as exc:  # port taken, journal dir not writable...
        print(f"mock providers could not start: {exc}", file=sys.stderr)
        return EXIT_INFRA
    except KeyboardInterrupt:  # pragma: no cover - SIGINT before the handler was installed
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
