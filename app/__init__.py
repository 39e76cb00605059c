"""Reelwright: narrated product-demo videos from a browser flow and its documents."""

__version__ = "0.1.0"
