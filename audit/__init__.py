"""The audit log: append-only entries hashed as RFC 9162 leaves.

Issue 4 grows this into a Merkle tree with signed checkpoints; the leaf hash stored with
every entry from the start is what lets it do so without a migration.
"""
