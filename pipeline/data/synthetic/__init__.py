"""A seeded synthetic B2B world (leads, events, outcomes) for demos, tests and benchmarks."""
