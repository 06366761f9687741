"""Raw HTTP/1.1 helpers for wire-level assertions (no client library between
the test and the socket)."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode, urlsplit

AUTH = "Bearer sk_test_paychaos"


def form(**params) -> bytes:
    return urlencode(params).encode()


def post_bytes(url: str, path: str, body: bytes, headers: dict | None = None, close: bool = False) -> bytes:
    host = urlsplit(url).netloc
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}",
             "Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    if not any(k.lower() == "authorization" for k in (headers or {})):
        lines.append(f"Authorization: {AUTH}")
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def open_conn(url: str):
    parts = urlsplit(url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def read_response(reader: asyncio.StreamReader, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """One response; raises asyncio.IncompleteReadError if the server closed first."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    body = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), timeout)
    return status, headers, body


async def request(url: str, path: str, body: bytes, headers: dict | None = None,
                  timeout: float = 5.0) -> tuple[int, dict, bytes]:
    reader, writer = await open_conn(url)
    try:
        writer.write(post_bytes(url, path, body, headers, close=True))
        return await read_response(reader, timeout)
    finally:
        writer.close()
        await writer.wait_closed()


class conn:
    """``async with conn(url) as (reader, writer):`` a raw connection, always closed."""

    def __init__(self, url: str):
        self.url = url

    async def __aenter__(self):
        self.reader, self.writer = await open_conn(self.url)
        return self.reader, self.writer

    async def __aexit__(self, *exc):
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
