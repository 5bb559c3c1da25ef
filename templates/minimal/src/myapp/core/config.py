"""`Settings`: the project's own settings joined with every feature's section.

Each feature adds its section in `<feature>/settings.py`; this file only joins them.
"""

from __future__ import annotations

from myapp.api import settings as api
from myapp.core.settings import AppSettings


class Settings(
    AppSettings,
    api.Settings,
):
    """Everything the service reads."""
