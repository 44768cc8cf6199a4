"""Kinds about what a disclosure carries: the categories of data the caller says it includes."""

from typing import Annotated

from pydantic import Field, Strict

from policy.facts import Facts
from policy.kinds.base import Params, RuleIdentity, deny
from policy.reasons import Reason
from policy.vocabulary import DataCategory

_Category = Annotated[DataCategory, Strict(False)]
DataCategories = Annotated[tuple[_Category, ...], Strict(False), Field(min_length=1)]


class NotDisclosedParams(Params):
    data_categories: DataCategories


def not_disclosed(facts: Facts, params: NotDisclosedParams, rule: RuleIdentity) -> Reason | None:
    """The disclosure includes none of these categories (12 CFR 1016.12(a): account numbers).

    What a disclosure includes is the caller's word, recorded with the decision; a check
    that names no category discloses none of them.
    """
    found = [category for category in params.data_categories if category in facts.data_categories]
    if not found:
        return None
    return deny(rule, [f"the disclosure includes {' and '.join(found)}"])
