"""seamline: a manufacturing execution system for garment sewing lines."""

__version__ = "0.1.0"
