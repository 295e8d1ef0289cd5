"""A real HTTP payment system on loopback for the webhook rail (the demo and the tests): it
pays each Idempotency-Key once (a repeat gets the same reference), counts every delivery per
key, and can misbehave on a key's first delivery: answer too late, or drop the connection
unanswered. Payments are made before answering, as a real system would: an answer lost is a
payment made."""

from __future__ import annotations

import enum
import http.server
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Mood(enum.Enum):
    PAYS = "pays"  # pays, answers 200 {"reference"}
    SLOW_FIRST = "slow_first"  # the first delivery of a key: pays, answers after ``delay_s``
    DIES_FIRST = "dies_first"  # the first delivery of a key: pays, closes without answering
    SLOW = "slow"  # every delivery: pays, answers after ``delay_s`` (the demo's)
    REFUSES = "refuses"  # answers 422 {"reason"}, pays nothing
    FAILS = "fails"  # answers 503, pays nothing


class PaymentSystem:
    def __init__(self, mood: Mood = Mood.PAYS, delay_s: float = 1.0) -> None:
        self.mood = mood
        self.delay_s = delay_s
        # Told of each delivery's key once its payment is made, before the answer goes out
        # (a test kills the caller there: paid, and the caller never heard).
        self.on_paid: Callable[[str], None] | None = None
        self.deliveries: Counter[str] = Counter()  # per Idempotency-Key
        self.payments: dict[str, str] = {}  # key -> reference: each key paid at most once
        self.paid_amounts: dict[str, int] = {}
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.url = ""

    def deliver(self, key: str, body: dict[str, Any]) -> tuple[int, int, dict[str, str]]:
        """(this key's delivery number, HTTP status, answer) for one delivery."""
        with self.lock:
            self.deliveries[key] += 1
            self.bodies.append(body)
            n = self.deliveries[key]
            if self.mood is Mood.REFUSES:
                return n, 422, {"reason": "destination account closed"}
            if self.mood is Mood.FAILS:
                return n, 503, {"error": "try later"}
            if key not in self.payments:
                self.payments[key] = f"pay-{len(self.payments) + 1}"
                self.paid_amounts[key] = body["amount"]
            return n, 200, {"reference": self.payments[key]}


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:  # the stdlib's name
        system = self.server.system
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        key = self.headers["Idempotency-Key"]
        n, status, answer = system.deliver(key, body)
        if status == 200 and system.on_paid is not None:
            system.on_paid(key)
        if n == 1 and system.mood is Mood.DIES_FIRST:
            self.close_connection = True  # nothing written: the client sees the line drop
            return
        if system.mood is Mood.SLOW or (n == 1 and system.mood is Mood.SLOW_FIRST):
            time.sleep(system.delay_s)
        data = json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up on us: the slow case

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for a slow handler to finish
    system: PaymentSystem


@contextmanager
def payment_system(mood: Mood = Mood.PAYS, delay_s: float = 1.0) -> Iterator[PaymentSystem]:
    """A PaymentSystem serving on a free loopback port (``url``) until the block ends."""
    system = PaymentSystem(mood, delay_s)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.system = system
    system.url = f"http://127.0.0.1:{server.server_address[1]}/payouts"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,),
                              name="payment-system")
    thread.start()
    try:
        yield system
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
