"""Abc: advertising slots sold on a document store without transactions."""
