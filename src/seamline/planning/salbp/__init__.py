"""Simple assembly line balancing, type 1 (minimise stations for a given cycle time)."""
