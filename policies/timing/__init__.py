"""Time in policies: durations and periods, working hours, and holiday calendars (the `holidays` library)
that count working days in an explicit zone.

May use: policies.errors.
"""
