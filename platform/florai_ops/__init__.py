"""Operations tooling the runbooks call: database point-in-time restore, recovery drill."""
