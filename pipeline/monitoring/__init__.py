"""``leadscore monitor``: drift of the inputs and the score against the model's training
reference, expected conversions per tier, and realised performance once outcomes exist."""
