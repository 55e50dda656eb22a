"""Point-in-time feature builders: what a lead looks like at a moment."""
