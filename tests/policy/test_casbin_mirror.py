"""The packs against an independent reading of them: ``bench/policy.py`` writes each rule
again as a casbin condition, from the law's figures, and on random facts (every place,
channel and era the packs know, ages and windows near their limits) both must deny the
same contacts for the same rules. A pack edit that one side does not follow fails here,
not only when the bench is run by hand."""

import random

from bench.policy import casbin_enforcers, eras, sample_facts, subject_of
from policy.engine import PolicyEngine

SAMPLES = 2000


def test_the_engine_and_the_casbin_model_deny_alike(policy: PolicyEngine) -> None:
    rng = random.Random(20261207)
    periods = eras(policy.rules)
    enforcers = casbin_enforcers()
    denied = 0
    for _ in range(SAMPLES):
        facts = sample_facts(rng, policy.rules, periods)
        engine = sorted(reason.rule for reason in policy.evaluate(facts))
        subject = subject_of(facts)
        mirror = sorted(rule for rule, enforcer in enforcers.items() if enforcer.enforce(subject))
        assert engine == mirror, facts
        denied += bool(engine)
    assert SAMPLES // 4 < denied < SAMPLES  # both answers were drawn often
