"""The credit-integrity audit: detectors over the ledger and canonical tables, and credit as audited.

Every detector returns findings in one shape (:mod:`.findings`), so the CLI, the API, the audit page and the
audited-credit computation read one table whatever the kind. :func:`~.detect.detect` runs them
(:data:`~.detect.DETECTORS`, one module per kind); their tuning is :class:`revalign.definitions.audit.AuditSettings`.
"""
