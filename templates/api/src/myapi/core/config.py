"""`Settings`: the project's own settings joined with every feature's section.

Each feature adds its section in `<feature>/settings.py`; this file only joins them.
"""

from __future__ import annotations

from myapi.api import settings as api
from myapi.cache import settings as cache
from myapi.core.settings import AppSettings
from myapi.database import settings as database
from myapi.monitoring import settings as monitoring
from myapi.tasks import settings as tasks


class Settings(
    AppSettings,
    api.Settings,
    cache.Settings,
    database.Settings,
    monitoring.Settings,
    tasks.Settings,
):
    """Everything the service reads."""
