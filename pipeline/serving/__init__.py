"""``leadscore serve``: one lead scored the moment it acts, over HTTP (``app``), and a call
to sales when an online score moves a lead into the hand-off tier (``notify``)."""
