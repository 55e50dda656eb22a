"""Hand-off to sales: the leads to contact now, within capacity, routed to their owners."""
