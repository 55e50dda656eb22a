"""Batch prediction: every open lead scored, with reasons in words."""
