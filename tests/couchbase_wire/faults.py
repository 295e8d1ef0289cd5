"""Faults the server injects on command: rules that tests add from any thread.

A rule matches a KV request by operation (``get insert upsert replace remove``, the port's
names) and key prefix (the document key, after the collection id); it lets the first ``skip``
matching requests through, then acts on the next ``times`` ones (``None``: on every one).

- ``drop_reply_after_apply``: the write is applied, the reply is never sent (the client times
  out: the write is *in doubt*, and it did happen);
- ``drop_request``: neither applied nor answered (in doubt, and it did not happen);
- ``temporary_failure``: answered status 0x86 (temporary failure), not applied;
- ``answer_status``: answered any status, the request applied first when ``after_apply``
  (e.g. 0xa3, a sync write whose durability is ambiguous);
- ``close_connection``: the server closes the connection instead of answering, the request
  applied first when ``after_apply``.
"""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass

OPS = ("get", "insert", "upsert", "replace", "remove")


class Action(enum.Enum):
    DROP_REPLY_AFTER_APPLY = "drop_reply_after_apply"
    DROP_REQUEST = "drop_request"
    TEMPORARY_FAILURE = "temporary_failure"
    CLOSE_CONNECTION = "close_connection"
    CLOSE_AFTER_APPLY = "close_after_apply"
    ANSWER_STATUS = "answer_status"
    ANSWER_STATUS_AFTER_APPLY = "answer_status_after_apply"


@dataclass
class Rule:
    """One armed fault; ``fired`` counts the requests it acted on, ``keys`` names them."""

    action: Action
    status: int  # for ANSWER_STATUS*
    op: str | None
    key_prefix: str
    times: int | None
    skip: int
    fired: int = 0
    keys: tuple[str, ...] = ()

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class Faults:
    """The server's armed faults; every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Rule] = []

    def drop_reply_after_apply(self, op: str | None = None, key_prefix: str = "",
                               times: int | None = 1, skip: int = 0) -> Rule:
        return self._add(Action.DROP_REPLY_AFTER_APPLY, op, key_prefix, times, skip)

    def drop_request(self, op: str | None = None, key_prefix: str = "",
                     times: int | None = 1, skip: int = 0) -> Rule:
        return self._add(Action.DROP_REQUEST, op, key_prefix, times, skip)

    def temporary_failure(self, op: str | None = None, key_prefix: str = "",
                          times: int | None = None, skip: int = 0) -> Rule:
        return self._add(Action.TEMPORARY_FAILURE, op, key_prefix, times, skip)

    def answer_status(self, status: int, op: str | None = None, key_prefix: str = "",
                      times: int | None = 1, skip: int = 0, after_apply: bool = False) -> Rule:
        action = Action.ANSWER_STATUS_AFTER_APPLY if after_apply else Action.ANSWER_STATUS
        return self._add(action, op, key_prefix, times, skip, status)

    def close_connection(self, op: str | None = None, key_prefix: str = "",
                         times: int | None = 1, skip: int = 0,
                         after_apply: bool = False) -> Rule:
        action = Action.CLOSE_AFTER_APPLY if after_apply else Action.CLOSE_CONNECTION
        return self._add(action, op, key_prefix, times, skip)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def take(self, op: str, key: str) -> Rule | None:
        """The rule acting on this request, if an armed one matches it (and counts it)."""
        with self._lock:
            for rule in self._rules:
                if rule.exhausted or (rule.op is not None and rule.op != op) \
                        or not key.startswith(rule.key_prefix):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.fired += 1
                rule.keys = (*rule.keys, key)
                return rule
        return None

    def _add(self, action: Action, op: str | None, key_prefix: str, times: int | None,
             skip: int, status: int = 0) -> Rule:
        if op is not None and op not in OPS:
            raise ValueError(f"op {op!r}: one of {', '.join(OPS)} (or None for any)")
        rule = Rule(action, status, op, key_prefix, times, skip)
        with self._lock:
            self._rules.append(rule)
        return rule
