"""Alert rules as code: SLO specs -> burn-rate rules, hand-written alerts, one runbook_url pattern.

``python -m florai_alerts generate`` writes the plain rule files and the PrometheusRule objects;
``--check`` fails when the committed output is stale.
"""
