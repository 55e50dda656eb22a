"""Tables in: the contract, reading and writing, validation, cleaning, CRM import, synthetic worlds."""
