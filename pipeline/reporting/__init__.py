"""The one-file HTML review for sales."""
