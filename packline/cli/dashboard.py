"""`packline dashboard`: the records in a browser (`packline.records.dashboard`)."""

from __future__ import annotations

import argparse
import contextlib
import secrets
import socket
from collections.abc import Callable
from types import FrameType

from .output import EXIT_OK, db_path, open_store
from .parser import add_db, positive_seconds


def cmd_dashboard(args: argparse.Namespace) -> int:
    import asyncio

    import uvicorn

    from packline.records.dashboard import create_app, needs_token, no_run_yet
    from packline.sequences.engine import BadInput

    db = db_path(args)
    # none yet: the page says how to start a run, and shows it as it starts (the first run
    # makes the database; a reader does not); one there is refused if it is not a run database
    none_yet = not db.exists()
    if not none_yet:
        with contextlib.closing(open_store(args, create=False)) as store:
            none_yet = not store.runs(1)
    token = args.token
    if token is None and needs_token(args.host):
        token = secrets.token_urlsafe(16)
    try:
        listener = socket.create_server(
            (args.host, args.port), family=socket.AF_INET6 if ":" in args.host else socket.AF_INET
        )
    except OSError as error:
        raise BadInput(
            f"dashboard --host {args.host} --port {args.port}: {error.strerror}"
        ) from None
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{port}/" + ("" if token is None else f"?token={token}")
    print(
        f"packline dashboard of {db} on {address} (read-only; Ctrl-C stops it)"
        + (f"; {no_run_yet(db)}" if none_yet else ""),
        flush=True,
    )
    stopping = asyncio.Event()

    class Server(uvicorn.Server):
        """uvicorn's server, which on Ctrl-C (or SIGTERM) also ends the open live streams, that
        it would otherwise wait for, then cancel with a traceback."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            asyncio.get_running_loop().call_soon_threadsafe(stopping.set)
            super().handle_exit(sig, frame)

    app = create_app(db, token=token, poll_s=args.poll, stopping=stopping)
    server = Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    with contextlib.suppress(KeyboardInterrupt):
        # uvicorn stops on Ctrl-C, then raises it again for its caller: the stop asked for
        server.run(sockets=[listener])
    return EXIT_OK


def _dashboard_arguments(dashboard: argparse.ArgumentParser) -> None:
    add_db(dashboard)
    dashboard.add_argument(
        "--host",
        default="127.0.0.1",
        help="the interface to serve on (default 127.0.0.1: this computer alone; any other "
        "needs a token)",
    )
    dashboard.add_argument(
        "--port", type=int, default=8400, help="the port (default 8400; 0: any free one)"
    )
    dashboard.add_argument(
        "--token", help="the token a browser must give (default: a new one when not on loopback)"
    )
    dashboard.add_argument(
        "--poll",
        type=positive_seconds,
        default=1.0,
        metavar="SECONDS",
        help="how often the runs in progress are read again (default 1 s)",
    )
    dashboard.set_defaults(handler=cmd_dashboard)


ARGUMENTS: dict[str, Callable[[argparse.ArgumentParser], None]] = {
    "dashboard": _dashboard_arguments,
}
