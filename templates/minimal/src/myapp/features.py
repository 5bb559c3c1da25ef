"""The features this project was made with, in the order their resources open.

`riso add` re-renders this list; everything else finds the features here.
"""

from __future__ import annotations

from myapp.api.feature import FEATURE as api
from myapp.core.registry import Feature, in_opening_order

FEATURES: tuple[Feature, ...] = tuple(
    in_opening_order(
        [
            api,
        ]
    )
)
