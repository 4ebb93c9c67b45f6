"""What a change does on AWS: update in place or replace (from the provider's own replace rules)."""
