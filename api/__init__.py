"""The HTTP edge: schemas, authentication, routing and error mapping. No business rules."""
