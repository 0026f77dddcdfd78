"""Next-task dispatch for the station tablets."""
