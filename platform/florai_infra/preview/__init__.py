"""`make preview`: what a stack would create on AWS, its policy verdicts and the diff against
the committed plan, without cloud credentials or the Pulumi CLI (``--live`` uses both)."""
