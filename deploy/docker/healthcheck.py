"""The image's health check, with nothing but the standard library (the image has no curl).

`healthcheck.py [PATH]`: exit 0 when the service in this container answers PATH (default
`/readyz`: the service started and its loops run) with 200 on 127.0.0.1:$WARROOM_PORT (8000).
`healthcheck.py --deps`: for a process without HTTP (the relay): exit 0 when the database and
NATS servers of $WARROOM_DATABASE_URL and $WARROOM_NATS_URL accept connections.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from urllib.parse import urlsplit

TIMEOUT = 3.0  # seconds, below the orchestrators' own timeouts


def http_ok(path: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError) as exc:  # HTTPError (a 503) is a URLError
        print(f"{path}: {exc}", file=sys.stderr)
        return False


def reachable(url: str, default_port: int) -> bool:
    """Whether one of the servers of a URL (`nats://u:p@a:4222,nats://u:p@b:4222`) accepts a
    TCP connection."""
    if not url:
        print("no URL given", file=sys.stderr)
        return False
    for part in url.split(","):
        where = urlsplit(part.strip())
        try:
            with socket.create_connection(
                (where.hostname or "127.0.0.1", where.port or default_port), timeout=TIMEOUT
            ):
                return True
        except OSError as exc:
            print(f"{where.hostname}:{where.port or default_port}: {exc}", file=sys.stderr)
    return False


def main(argv: list[str]) -> int:
    if argv[:1] == ["--deps"]:
        database = os.environ.get("WARROOM_DATABASE_URL", "")
        nats = os.environ.get("WARROOM_NATS_URL", "")
        return 0 if reachable(database, 5432) and reachable(nats, 4222) else 1
    path = argv[0] if argv else "/readyz"
    return 0 if http_ok(path, int(os.environ.get("WARROOM_PORT", "8000"))) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
