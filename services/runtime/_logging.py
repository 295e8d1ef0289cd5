"""One log format for every process: time, service, level, message."""

from __future__ import annotations

import logging

from ._settings import LOG_LEVEL


def setup_logging(service: str) -> None:
    level = LOG_LEVEL.text().upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
