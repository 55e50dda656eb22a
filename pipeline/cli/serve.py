"""``leadscore serve`` belongs here: one lead scored the moment it acts, over HTTP, with the
nightly batch's features, score and reasons. The command is not registered yet."""
