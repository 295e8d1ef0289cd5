"""The lab: tools that run Abc rather than Abc itself, never imported by a deployed service
and left out of the production image. ``sim`` (the deterministic simulation), ``loadgen``
(in-process buyers), ``cluster`` (a local system of real processes, and the NATS server it
starts) and ``demo`` (the whole system under chaos)."""
