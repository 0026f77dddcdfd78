"""Order loading: which line makes which order on which day, with overtime inside the rules."""
