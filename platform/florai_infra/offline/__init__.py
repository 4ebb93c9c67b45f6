"""Run the real Pulumi program without the CLI or cloud credentials.

``engine.run_stack`` executes ``platform/__main__.py`` under the Pulumi SDK's mocks,
answers data-source calls with deterministic values and records every resource as a
``plan.Plan`` (deterministic JSON).
"""
