"""Garment line balancing: who sews which share of which operation."""
