"""The pages people on the floor use: station tablet, supervisor dashboard, factory overview, planner.

``routes.register(app, rt)`` plugs them into the API app; docs/pages.md describes each page.
"""
