"""Working hours, overtime rules and buyer-compliance evidence (issue 7).

Layering, bottom up (each module only imports the ones above it):

- ``days``       day kinds (workday / rest day / statutory holiday) from calendars and holiday data
- ``attendance`` login/logout events + manual corrections -> sessions -> attended seconds per work day,
                 and which worker made each piece (by who was logged in at the station)
- ``rules``      rule sets as data (PRC Labour Law, ETI base code, SA8000) and how to combine them
- ``hours``      regular vs overtime per worker and day under a rule set
- ``evaluate``   violations and near-breach warnings; ``check_plan`` for the planners
- ``chain``      the tamper-evident hash chain of (factory, day) records
- ``repository`` the thin database adapter (events table, corrections, chain records)
- ``reports``    monthly CSV/PDF reports per worker and per customer (uses ``seamline.pay``)

Everything except ``repository`` and the report writers is pure: functions over event iterables.
"""
