"""How fast the simulated day runs with real workers: its minutes pass ``SCALE`` times faster than
the wall clock's (``workers.WorkersDay``), and whatever runs on a simulated cadence there (a tool's
polls, Amazon's lag) is divided by it."""

SCALE = 60.0  # simulated seconds per real second: a customer every 0.3 to 3 s, as a worker keeps up
