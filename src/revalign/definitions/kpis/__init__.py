"""KPI catalog definitions: spec, loader with file:line, catalog, validation rules, the default catalog."""
