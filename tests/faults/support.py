"""Real-socket helpers for the fault tests: upstream servers, clients, timing.

Everything binds 127.0.0.1:0. Every wait has a deadline; nothing sleeps to
wait for readiness.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager

PATTERN = bytes(range(256))


def blob(n: int) -> bytes:
    return (PATTERN * (n // 256 + 1))[:n]


class _Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport

    def data_received(self, data):
        self.t.write(data)

    def eof_received(self):
        return False  # close after echoing what came


class _Blob(asyncio.Protocol):
    """Reads 'N\\n', answers N pattern bytes, then closes."""

    def connection_made(self, transport):
        self.t, self.buf = transport, b""

    def data_received(self, data):
        self.buf += data
        if b"\n" in self.buf:
            self.t.write(blob(int(self.buf.split(b"\n", 1)[0])))
            self.t.close()


@asynccontextmanager
async def upstream(kind: str = "echo"):
    """An upstream server; yields 'host:port'."""
    factory = {"echo": _Echo, "blob": _Blob}[kind]
    server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


OPEN_WRITERS: list = []  # closed after each test by conftest's autouse fixture


async def connect(listen: str, timeout: float = 5.0):
    host, port = listen.rsplit(":", 1)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    OPEN_WRITERS.append(writer)
    return reader, writer


async def read_exactly(reader: asyncio.StreamReader, n: int, timeout: float) -> bytes:
    return await asyncio.wait_for(reader.readexactly(n), timeout)


async def roundtrip(reader, writer, payload: bytes = b"ping", timeout: float = 5.0) -> float:
    """Seconds from writing ``payload`` to reading it back through an echo upstream."""
    start = time.monotonic()
    writer.write(payload)
    got = await read_exactly(reader, len(payload), timeout)
    assert got == payload
    return time.monotonic() - start


async def read_to_end(reader, timeout: float) -> tuple[bytes, str, float, list[float]]:
    """Read until EOF, reset or ``timeout``.

    Returns (data, outcome, seconds until the outcome, arrival time of each read),
    outcome being "eof", "reset" or "timeout".
    """
    start = time.monotonic()
    deadline = start + timeout
    data, arrivals = bytearray(), []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout", time.monotonic() - start, arrivals
        try:
            piece = await asyncio.wait_for(reader.read(65536), left)
        except asyncio.TimeoutError:
            return bytes(data), "timeout", time.monotonic() - start, arrivals
        except ConnectionResetError:
            return bytes(data), "reset", time.monotonic() - start, arrivals
        if not piece:
            return bytes(data), "eof", time.monotonic() - start, arrivals
        data += piece
        arrivals.append(time.monotonic() - start)


def assert_between(value: float, low: float, high: float, what: str) -> None:
    """Toxiproxy's AssertDeltaTime, with the tolerance in the message."""
    assert low <= value <= high, f"{what}: {value * 1000:.1f} ms, expected within [{low * 1000:.0f}, {high * 1000:.0f}] ms"


async def poll(predicate, timeout: float, interval: float = 0.01, what: str = "condition"):
    """Wait until ``predicate()`` (sync or async) is truthy, or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s")
        await asyncio.sleep(interval)


def close_quietly(writer) -> None:
    try:
        writer.close()
    except Exception:
        pass
