"""Alert rules as code: SLO specs -> burn-rate rules, hand-written rules, runbook links."""
