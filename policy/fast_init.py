"""A faster ``__init__`` for the frozen, slotted dataclasses that every check builds.

A frozen dataclass sets each field in its ``__init__`` through ``object.__setattr__``, the
only way past its own refusing ``__setattr__``, and that generic path costs several times
a plain attribute store. A check builds about a hundred such fields (its command, steps,
facts, answer and row); setting them as below cut a check's instructions through the app
by 5 % under callgrind (1,239k -> 1,175k). ``fast_init`` gives the class an ``__init__``
with the very same signature that sets each slot through the slot's own descriptor
instead: the same values, and the class as frozen as before.
"""

import dataclasses
import inspect
import types
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Give a frozen dataclass declared with ``slots=True`` the faster ``__init__``.

    Apply it above ``@dataclass``. A class it cannot serve (no slots, an ``init=False`` or
    ``InitVar`` field) is refused when it is defined, never at its first use.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or not params.init:
        raise TypeError(f"{cls.__name__}: fast_init serves frozen dataclasses with an __init__")
    original = inspect.signature(cls.__init__)
    fields = {field.name: field for field in dataclasses.fields(cls)}  # type: ignore[arg-type]
    arguments = list(original.parameters.values())[1:]  # after self
    if {argument.name for argument in arguments} != set(fields):
        raise TypeError(f"{cls.__name__}: fast_init does not handle init=False or InitVar")
    init = _compile(cls, arguments, fields)
    init.__annotations__ = dict(cls.__init__.__annotations__)
    if inspect.signature(init) != original:  # never a different constructor, only a faster one
        raise TypeError(f"{cls.__name__}: fast_init would change the signature")
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    cls.__init__ = init  # type: ignore[method-assign]
    return cls


def _compile(
    cls: type,
    arguments: list[inspect.Parameter],
    fields: dict[str, "dataclasses.Field[Any]"],
) -> Any:
    namespace: dict[str, Any] = {}
    parameters: list[str] = []
    body: list[str] = []
    for argument in arguments:
        name = argument.name
        if argument.kind is inspect.Parameter.KEYWORD_ONLY and "*" not in parameters:
            parameters.append("*")
        value = name
        if argument.default is not inspect.Parameter.empty:
            # The original's own default: for a default_factory field, dataclasses' marker,
            # which stands for "call the factory", as in the original.
            namespace[f"_default_{name}"] = argument.default
            parameters.append(f"{name}=_default_{name}")
            factory = fields[name].default_factory
            if factory is not dataclasses.MISSING:
                namespace[f"_factory_{name}"] = factory
                value = f"_factory_{name}() if {name} is _default_{name} else {name}"
        else:
            parameters.append(name)
        namespace[f"_set_{name}"] = _slot(cls, name).__set__
        body.append(f"_set_{name}(self, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    lines = "".join(f"    {line}\n" for line in body or ["pass"])
    source = f"def __init__(self, {', '.join(parameters)}):\n{lines}"
    exec(source, namespace)  # noqa: S102 - built from the class's own field names, as dataclasses does
    return namespace["__init__"]


def _slot(cls: type, name: str) -> types.MemberDescriptorType:
    for klass in cls.__mro__:
        found = klass.__dict__.get(name)
        if isinstance(found, types.MemberDescriptorType):
            return found
    raise TypeError(f"{cls.__name__}.{name}: not a slot; declare the dataclass with slots=True")
