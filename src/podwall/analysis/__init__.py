"""What the engine's verdicts mean to a person: explanations, matrices, diffs, lint, pictures."""
