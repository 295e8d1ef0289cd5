"""A local payment system for the webhook payout rail: a real HTTP server on loopback that
pays each Idempotency-Key once and counts every delivery per key (the demo's rail, and the
webhook tests'). Not a payment system anyone should deploy."""

from ._system import Mood, PaymentSystem, payment_system

__all__ = ["Mood", "PaymentSystem", "payment_system"]
