"""`make preview`: what a stack would create on AWS, its policy verdicts, its monthly cost and the
diff against the committed plan (each change an update or a replacement, stateful replacements
guarded), without cloud credentials or the Pulumi CLI (``--live`` uses both)."""
