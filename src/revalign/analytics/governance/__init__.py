"""⑤ Governance analytics: is each department on target, why did the north star move, do the plans add up?

- :mod:`~revalign.analytics.governance.scorecard`: actual vs target, status and trend per KPI (``Scorecard``).
- :mod:`~revalign.analytics.governance.decomposition`: the north star's change split driver by driver.
- :mod:`~revalign.analytics.governance.alignment`: departments winning their card while the business loses.
- :mod:`~revalign.analytics.governance.planning`: next year's targets from last year's actuals.

Each module has a pure builder (values in, typed result out) and an ``evaluate_*`` function of the canonical
tables and the definitions (catalog, driver trees, targets); none takes a ``Project``, which calls them.
"""
