"""Job shop and flexible job shop scheduling (the literature's proof for the scheduler)."""
