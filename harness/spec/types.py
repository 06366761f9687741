"""Field types shared by the spec models, with messages that say how to fix them."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["Strict", "Seconds", "Probability", "parse_duration"]


class Strict(BaseModel):
    """Base of every spec model: unknown fields are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|min)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, None: 1.0}


def parse_duration(value: Any) -> float:
    """``2``, ``2.5``, ``"250ms"``, ``"2s"``, ``"1m"`` -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"must be a duration such as 2s or 250ms (got {value!r})")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"must be a duration such as 2s, 1.5s or 250ms (got {value!r})")
        seconds = float(match.group(1)) * _UNIT[match.group(2)]
    else:
        raise ValueError(f"must be a duration such as 2s or 250ms (got {type(value).__name__})")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"must be a duration >= 0 such as 2s (got {value!r})")
    if seconds > 24 * 3600:
        raise ValueError(f"must be at most 24h (got {value!r}); a scenario is a short story")
    return seconds


def _probability(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"must be a number between 0 and 1 (got {value!r})")
    if not (0.0 <= float(value) <= 1.0) or math.isnan(value):
        raise ValueError(f"must be between 0 and 1 (got {value})")
    return float(value)


Seconds = Annotated[float, BeforeValidator(parse_duration)]
Probability = Annotated[float, BeforeValidator(_probability)]
