from pathlib import Path

import pytest

from policy.engine import PolicyEngine
from policy.kinds.consents import ConsentParams
from policy.kinds.notices import NoticeElapsedParams
from policy.packs import PolicyLoadError, read_pack
from policy.requirements import RequirementKind
from policy.vocabulary import Channel, LegalException, Purpose

# Two rules; the second one's [[rules]] header is on line 18, and the tests break it.
PACK = """\
[pack]
name = "test"
title = "Test pack"

[[rules]]
id = "test.first"
regime = "Test"
jurisdictions = ["EEA"]
channels = ["email"]
purposes = ["marketing"]
effective_from = 2020-01-01
requires = "consent"
citation = "Test Act s.1"
message = "The first test rule."
[rules.params]
purpose = "marketing"

[[rules]]
id = "test.second"
regime = "Test"
jurisdictions = ["US-FL", "ES"]
channels = ["sms", "phone"]
purposes = ["marketing"]
effective_from = 2020-01-01
requires = "notice_elapsed"
citation = "Test Act s.2"
message = "The second test rule."
[rules.params]
notice_kinds = ["test_notice"]
period = "P30D"
"""
SECOND_RULE_LINE = 18


def load_error(tmp_path: Path, text: str, name: str = "broken.toml") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(PolicyLoadError) as raised:
        PolicyEngine.load(tmp_path)
    return str(raised.value)


def broken(old: str, new: str) -> str:
    """The pack with one line of the second rule changed."""
    first, second = PACK.rsplit("[[rules]]", 1)
    assert old in second
    return f"{first}[[rules]]{second.replace(old, new)}"


def test_a_valid_pack_reads_into_rules_with_their_lines() -> None:
    pack = read_pack("test.toml", PACK.encode())
    first, second = pack.rules
    assert (pack.name, pack.title) == ("test", "Test pack")
    assert (first.id, first.line, first.source) == ("test.first", 5, "test.toml")
    assert first.channels == (Channel.EMAIL,)
    assert first.params == ConsentParams(purpose=Purpose.MARKETING)
    assert (second.line, second.requires) == (SECOND_RULE_LINE, RequirementKind.NOTICE_ELAPSED)
    assert second.params == NoticeElapsedParams(notice_kinds=("test_notice",), period="P30D")


def test_unknown_channel_names_file_line_field_and_value(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('["sms", "phone"]', '["sms", "fax"]'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].channels[1] = 'fax'" in message
    assert "'email', 'sms', 'phone', 'post' or 'push'" in message


def test_unknown_purpose_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('purposes = ["marketing"]', 'purposes = ["sales"]'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].purposes[0] = 'sales'" in message


def test_unknown_requirement_kind_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('"notice_elapsed"', '"notice_maybe"'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].requires = 'notice_maybe'" in message
    assert all(f"'{kind}'" in message for kind in RequirementKind), "names every known kind"


def test_params_of_another_requirement_kind_are_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('period = "P30D"', 'purpose = "marketing"'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].params.purpose = 'marketing'" in message
    assert "not a field of the pack format" in message
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].params.period: required" in message


def test_invalid_jurisdiction_code_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('["US-FL", "ES"]', '["US-FL", "XX"]'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].jurisdictions[1] = 'XX'" in message


def test_lower_case_group_is_not_a_jurisdiction(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('["US-FL", "ES"]', '["eu"]'))
    assert "rules[1].jurisdictions[0] = 'eu'" in message


def test_bad_period_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('"P30D"', '"30 days"'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].params.period = '30 days'" in message
    assert "ISO 8601" in message


def test_zero_period_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('"P30D"', '"P0D"'))
    assert "rules[1].params.period = 'P0D': 'P0D': a period must be longer than zero" in message


def test_unknown_rule_field_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('regime = "Test"', 'regime = "Test"\npriority = 1'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].priority = 1" in message


def test_missing_field_is_named(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('citation = "Test Act s.2"\n', ""))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].citation: required, but missing" in message


def test_quoted_date_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken("= 2020-01-01", '= "2020-01-01"'))
    assert "rules[1].effective_from = '2020-01-01': should be a TOML date" in message


def test_effective_until_must_be_after_effective_from(tmp_path: Path) -> None:
    text = broken("= 2020-01-01", "= 2020-01-01\neffective_until = 2020-01-01")
    message = load_error(tmp_path, text)
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].effective_until = 2020-01-01" in message


def test_text_for_a_boolean_is_refused(tmp_path: Path) -> None:
    text = PACK.replace(
        'purpose = "marketing"\n', 'purpose = "marketing"\nchannel_opt_in = "yes"\n'
    )
    message = load_error(tmp_path, text)
    assert "broken.toml:5: rules[0].params.channel_opt_in = 'yes': should be true or false" in (
        message
    )


def test_empty_purposes_are_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('purposes = ["marketing"]', "purposes = []"))
    assert "rules[1].purposes = []: should not be empty" in message


def test_message_must_be_a_sentence(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('"The second test rule."', '"The second test rule"'))
    assert "rules[1].message = 'The second test rule': should be a full sentence" in message


def test_rule_ids_of_the_engine_itself_are_reserved(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('id = "test.second"', 'id = "policy.error"'))
    assert "rules[1].id = 'policy.error'" in message


def test_toml_syntax_error_names_file_and_its_own_line(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('regime = "Test"', "regime = Test"))
    assert message.startswith(f"{tmp_path / 'broken.toml'}:{SECOND_RULE_LINE + 2}: not valid TOML")


def test_error_in_the_pack_table_points_at_it(tmp_path: Path) -> None:
    message = load_error(tmp_path, "# the law\n" + PACK.replace('name = "test"', 'name = "Test"'))
    assert "broken.toml:2: pack.name = 'Test'" in message


def test_every_problem_in_every_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(broken('"P30D"', '"P30"'), encoding="utf-8")
    message = load_error(tmp_path, broken('["sms", "phone"]', '["fax"]'), name="b.toml")
    assert "a.toml:18: rules[1].params.period = 'P30'" in message
    assert "b.toml:18: rules[1].channels[0] = 'fax'" in message


def test_duplicate_rule_id_across_packs_names_both_places(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(PACK, encoding="utf-8")
    message = load_error(tmp_path, PACK.replace('name = "test"', 'name = "other"'), "b.toml")
    assert f"b.toml:5: rules.id = 'test.first': already defined at {tmp_path / 'a.toml'}:5" in (
        message
    )


def test_duplicate_rule_id_within_a_pack_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, broken('id = "test.second"', 'id = "test.first"'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules.id = 'test.first': already defined" in message


def test_two_packs_with_the_same_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text(PACK, encoding="utf-8")
    other_rules = PACK.replace("test.first", "test.third").replace("test.second", "test.fourth")
    message = load_error(tmp_path, other_rules, "b.toml")
    assert "b.toml: pack.name = 'test': already used by" in message


def test_an_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match="no law"):
        PolicyEngine.load(tmp_path)


def test_a_directory_of_packs_without_rules_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, '[pack]\nname = "empty"\ntitle = "Nothing yet"\n')
    assert "no rule in any pack" in message


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match="no such policy directory"):
        PolicyEngine.load(tmp_path / "nowhere")


def test_text_that_is_not_utf_8_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin1.toml").write_bytes(PACK.replace("Test pack", "Caf\xe9").encode("latin-1"))
    with pytest.raises(PolicyLoadError, match=r"latin1\.toml:3: not UTF-8"):
        PolicyEngine.load(tmp_path)


def with_exceptions(lines: str) -> str:
    """The pack with these exception lines added to the second rule."""
    message = 'message = "The second test rule."'
    return broken(message, f"{message}\n{lines}")


def test_exceptions_a_rule_names_are_read_into_the_rule() -> None:
    text = with_exceptions('exempt_under = ["legal_process"]\nonly_under = ["service_provider"]')
    second = read_pack("ok.toml", text.encode()).rules[1]
    assert second.exempt_under == {LegalException.LEGAL_PROCESS}
    assert second.only_under == {LegalException.SERVICE_PROVIDER}


def test_an_unknown_exception_is_refused(tmp_path: Path) -> None:
    message = load_error(tmp_path, with_exceptions('exempt_under = ["friendship"]'))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].exempt_under[0] = 'friendship'" in message
    assert "'service_provider'" in message


def test_an_exception_both_lifting_and_required_is_refused(tmp_path: Path) -> None:
    lines = 'exempt_under = ["fraud_security"]\nonly_under = ["fraud_security"]'
    message = load_error(tmp_path, with_exceptions(lines))
    assert f"broken.toml:{SECOND_RULE_LINE}: rules[1].only_under = ['fraud_security']" in message
    assert "should not name fraud_security, which exempt_under names too" in message
