"""Alembic environment: run with the connection handed over by consent.store.migrate."""

from alembic import context

from consent.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `consent.store.migrate`, which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
