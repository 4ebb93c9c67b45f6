"""Monthly cost of a plan from the vendored on-demand price table and the stated usage assumptions."""
