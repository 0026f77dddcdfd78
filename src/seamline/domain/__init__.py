"""Pure domain: master data, sensor events and the formulas of the trade. No I/O here."""
