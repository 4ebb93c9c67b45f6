"""Developer tooling of the commands themselves: system packages, the virtualenv, locks, pinned tools."""
