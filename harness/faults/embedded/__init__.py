"""The embedded proxy: Toxiproxy's model (proxy, links, stubs) on asyncio."""

from .backend import EmbeddedBackend

__all__ = ["EmbeddedBackend"]
