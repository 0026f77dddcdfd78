"""Monthly compliance reports per worker and per customer: the model, CSV and PDF writers."""
