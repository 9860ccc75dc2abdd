"""`packline sim serve`: the bundled simulated line on the wire, for a station run or a
station check from another process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable
from pathlib import Path

from packline.clock import ScaledClock, WallClock
from packline.sequences.engine.errors import BadInput

from .output import EXIT_OK
from .parser import positive_seconds


def cmd_sim_serve(args: argparse.Namespace) -> int:
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    from packline.sim_instruments.line import SimulatedLine

    try:
        clock = ScaledClock(args.time_scale) if args.time_scale != 1.0 else WallClock()
    except ValueError as error:
        raise BadInput(f"--time-scale {args.time_scale}: {error}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if ":" in args.host:
                raise BadInput(f"--host {args.host}: the simulated line serves IPv4 addresses")
            try:
                await loop.getaddrinfo(args.host, None)
                line = await stack.enter_async_context(
                    SimulatedLine(clock, host=args.host, gem=args.gem)
                )
            except (OSError, RuntimeError) as error:  # pymodbus: RuntimeError, cannot listen
                reason = getattr(error, "strerror", None) or error
                raise BadInput(f"--host {args.host}: cannot serve on it ({reason})") from None
            text = line.station.model_copy(update={"time_scale": args.time_scale}).to_yaml()
            if args.station_out:
                try:
                    args.station_out.write_text(text, encoding="utf-8")
                except OSError as error:
                    raise BadInput(
                        f"--station-out {args.station_out}: cannot write it ({error.strerror})"
                    ) from None
            pace = "wall clock" if args.time_scale == 1.0 else f"time x{args.time_scale:g}"
            print(f"# packline simulated line ({pace}); stop with Ctrl-C\n{text}", flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.duration_s)
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    return EXIT_OK


def _sim_arguments(sim: argparse.ArgumentParser) -> None:
    sim_commands = sim.add_subparsers(dest="sim_command", required=True)
    serve = sim_commands.add_parser("serve", help="serve the simulated line on the wall clock")
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the local IPv4 address to serve the TCP tools on (default 127.0.0.1); the serial "
        "tools are local ptys",
    )
    serve.add_argument("--station-out", type=Path, help="also write the station file here")
    serve.add_argument(
        "--gem",
        action="store_true",
        help="serve the tools that have a GEM face (wire bonder, dicing saw, grinder, flip-chip "
        "bonder) as GEM equipment",
    )
    serve.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="process time runs this many times faster than the wall clock (default 1)",
    )
    serve.add_argument(
        "--for",
        dest="duration_s",
        type=positive_seconds,
        default=None,
        help="stop after this many seconds (default: until Ctrl-C or SIGTERM)",
    )
    serve.set_defaults(handler=cmd_sim_serve)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {"sim": _sim_arguments}
