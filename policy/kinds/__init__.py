"""The requirement kinds a rule may name, one module per family.

Each is registered in ``policy.requirements``.
"""
