"""The test-only fault switch: ``ABC_FAULT_EXIT_AFTER=<step>`` makes the process exit abruptly
(``os._exit``, no cleanup, like a kill) right after the named protocol step, so end-to-end
tests can crash a real service at an exact point. The steps are the journal's (its ``STEPS``),
passed in by the process's wiring."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence

from ._settings import ConfigError

log = logging.getLogger("abc.faults")

ENV = "ABC_FAULT_EXIT_AFTER"
EXIT_CODE = 86


class FaultConfigError(ConfigError):
    pass


def fault_switch(steps: Sequence[str], env: Mapping[str, str] = os.environ
                 ) -> Callable[[str], None] | None:
    """The step observer that exits at the configured step (one of ``steps``), or None when
    the switch is off."""
    step = env.get(ENV, "").strip()
    if not step:
        return None
    if step not in steps:
        raise FaultConfigError(f"{ENV}={step!r} is not a step; one of: {', '.join(steps)}")
    log.warning("TEST FAULT SWITCH ON: this process exits right after step %s", step)

    def exit_after(done: str) -> None:
        if done == step:
            log.warning("fault switch: exiting after %s", step)
            os._exit(EXIT_CODE)

    return exit_after
