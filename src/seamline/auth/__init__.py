"""Who may see and change what: users, roles, sessions, API tokens, tablet pairing, the audit log.

``roles`` and ``policy`` are pure (the role model and the route → rule table); ``passwords`` hashes;
``store`` is the SQL; ``service`` the use-cases. The HTTP middleware lives in
``entrypoints/auth_http.py``, the commands in ``entrypoints/cli_auth.py``.
"""
