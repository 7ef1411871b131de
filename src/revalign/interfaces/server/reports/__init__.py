"""The reports the server shows, one module per page; each is one call into the library through ``Project``.

Every page and its JSON twin call the same function here, so a page cannot disagree with the API; the server
never computes a number. :mod:`.report` holds what the pages share (the :class:`~.report.Report`, "not
available" notices, period helpers and drill links).
"""
