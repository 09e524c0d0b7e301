"""City replay: a simulated town (houses, premises, meters) with true consumption, delivered
through every ingest path with faults, and the ground truth to judge uchet's bills against.

:mod:`~simulators.city.town` builds the town, :mod:`~simulators.city.consumption` its true
consumption, :mod:`~simulators.city.delivery` what each path delivers (and what should become
of it), :mod:`~simulators.city.attribution` the billing error by cause,
:mod:`api.city.replay` runs it all through uchet and :mod:`api.city.report`
writes the report.
"""
