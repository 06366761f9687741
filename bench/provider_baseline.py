"""The fastest trivial HTTP server we can write in Python (asyncio.Protocol +
httptools + uvloop), answering fixed JSON: the baseline when nginx is absent.

    python bench/provider_baseline.py PORT BODY_BYTES
"""

from __future__ import annotations

import asyncio
import sys

import httptools


def main() -> None:
    port, size = int(sys.argv[1]), int(sys.argv[2])
    body = (b'{"id":"pi_baseline","object":"payment_intent","pad":"' + b"x" * max(0, size - 60) + b'"}')
    resp = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    class Fixed(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            self.parser = httptools.HttpRequestParser(self)

        def data_received(self, data):
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.transport.close()

        def on_message_complete(self):
            self.transport.write(resp)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(Fixed, "127.0.0.1", port, backlog=1024)
        print("ready", flush=True)
        await asyncio.Event().wait()

    try:
        import uvloop
        uvloop.run(serve())
    except ImportError:  # pragma: no cover
        asyncio.run(serve())


if __name__ == "__main__":
    main()
