"""The policy engine: the law, loaded from ``policies/*.toml`` and compiled into lookups.

It answers "may we, and if not, why" for a set of facts about one contact. It imports
nothing from ``consent`` or ``api``: the gate gathers the facts, the engine judges them.
"""
