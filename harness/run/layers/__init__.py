"""Timeline layers, registered by name (see ``base.py``). A new layer is a
module here defining a ``TimelineLayer`` subclass decorated with
``@register_layer``, imported below."""

from harness.run.layers.base import LAYERS, LayerEnv, TimelineLayer, register_layer
from harness.run.layers import http, network, process  # noqa: F401  (registration)

__all__ = ["LAYERS", "LayerEnv", "TimelineLayer", "register_layer"]
