"""The features this project was made with, in the order their resources open.

`riso add` re-renders this list; everything else finds the features here.
"""

from __future__ import annotations

from myapi.api.feature import FEATURE as api
from myapi.cache.feature import FEATURE as cache
from myapi.core.registry import Feature, in_opening_order
from myapi.database.feature import FEATURE as database
from myapi.monitoring.feature import FEATURE as monitoring
from myapi.tasks.feature import FEATURE as tasks

FEATURES: tuple[Feature, ...] = tuple(
    in_opening_order(
        [
            api,
            cache,
            database,
            monitoring,
            tasks,
        ]
    )
)
