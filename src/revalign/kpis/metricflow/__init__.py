"""The MetricFlow export of the KPI catalog, built in layers: names → SQL → semantic models → metrics."""
