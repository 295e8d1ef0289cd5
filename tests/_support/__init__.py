"""What tests of more than one package share, one of each, named for what it does:

- ``loop``: ``run_blocking`` and ``blocking_loop``, for the few tests that stay synchronous
  (hypothesis properties, tests of real processes) yet need a coroutine run; every other test
  of async code is an ``async def`` test under pytest-asyncio (strict mode);
- ``waiting``: ``eventually`` (async) and ``wait_for`` (sync): poll until something holds;
- ``world``: a sqlite ``store_url`` in a test's folder, and ``open_world``: accounts with money
  and campaigns to buy from, made through a purchase service's API;
- ``processes``: ``abc`` commands and ``abc serve`` services as real processes.

A free port is ``services.lab.cluster.free_port``.
"""
