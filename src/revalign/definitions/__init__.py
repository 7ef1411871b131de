"""Everything a user writes in YAML: KPIs and semantic models, driver trees, funnels, targets.

One home for definitions: read with file and line kept, validated as a whole, every problem reported as an
:class:`~revalign.definitions.issues.Issue` naming the file, the line and the rule: one YAML reader
(:mod:`~revalign.definitions.yamlfile`), one issue type and one rule runner (:mod:`~revalign.definitions.validate`)
for every kind.
"""
