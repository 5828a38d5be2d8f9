"""Clinical safety: what the runtime needs to keep safety work from vanishing, the safety invariants, and the
pathway checker that proves them over many random episodes before a library is published."""
