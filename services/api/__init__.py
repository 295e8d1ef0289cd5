"""Generated from protos/ by protos/generate.py: never edit by hand."""
