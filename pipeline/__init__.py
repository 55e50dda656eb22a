"""What leadscore does with feature tables: train, evaluate, track, score, report."""
