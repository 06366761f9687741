"""The Toxiproxy backend: a real toxiproxy-server driven through toxiproxy-python."""

from .backend import NOT_INSTALLED, ToxiproxyBackend
from .server import find_toxiproxy_server

__all__ = ["ToxiproxyBackend", "find_toxiproxy_server", "NOT_INSTALLED"]
