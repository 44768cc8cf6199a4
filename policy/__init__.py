"""The policy engine: the law, loaded from ``policies/*.toml`` and compiled into lookups.

It answers "may we, and if not, why" for a set of facts about one contact. It imports
nothing from ``consent`` or ``api``: the gate gathers the facts, the engine judges them.

Importing it makes every time zone in the process come from the ``tzdata`` package
(``policy.calendars``): the gate, the engine and the tests all import it first.
"""

from policy.calendars import use_packaged_time_zones

use_packaged_time_zones()
