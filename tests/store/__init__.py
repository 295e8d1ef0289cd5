"""Tests of services.store: the DocumentStore contract (every adapter) and adapter specifics."""
