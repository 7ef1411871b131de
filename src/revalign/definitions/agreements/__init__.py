"""The marketing–sales agreement: a versioned definition kind (spec, reader, rules, the shipped example)."""
