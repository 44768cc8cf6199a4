from datetime import date

from policy.business_days import add_business_days, deadline, is_business_day

THANKSGIVING_2026 = date(2026, 11, 26)


def test_thanksgiving_is_not_a_business_day_in_the_us() -> None:
    assert not is_business_day(THANKSGIVING_2026, "US")


def test_weekends_are_never_business_days() -> None:
    assert not is_business_day(date(2026, 11, 28), "US")  # a Saturday
    assert not is_business_day(date(2026, 11, 29), "ES")  # a Sunday


def test_ten_business_days_skip_thanksgiving_and_the_weekends() -> None:
    # Received Mon 23 Nov: Tue 24, Wed 25, (Thu 26 holiday), Fri 27, Mon 30 .. Fri 4 Dec,
    # Mon 7, and Tue 8 Dec is the 10th.
    assert add_business_days(date(2026, 11, 23), 10, "US") == date(2026, 12, 8)


def test_a_state_holiday_counts_where_the_customer_lives() -> None:
    # Florida also closes on the Friday after Thanksgiving: one more day.
    assert add_business_days(date(2026, 11, 23), 10, "US-FL") == date(2026, 12, 9)


def test_without_holidays_ten_business_days_are_two_weeks() -> None:
    assert add_business_days(date(2026, 3, 2), 10, "US") == date(2026, 3, 16)


def test_a_regional_holiday_in_madrid() -> None:
    # 8 Dec (Immaculate Conception) is a national holiday in Spain; 7 Dec is a Madrid one.
    assert not is_business_day(date(2026, 12, 8), "ES")
    assert add_business_days(date(2026, 12, 4), 1, "ES-MD") == date(2026, 12, 9)


def test_an_unknown_subdivision_still_has_its_country_holidays() -> None:
    assert not is_business_day(THANKSGIVING_2026, "US-ZZ")


def test_an_unknown_country_has_weekends_only() -> None:
    assert add_business_days(date(2026, 11, 25), 1, "ZZ") == date(2026, 11, 26)


def test_where_calendars_differ_the_earlier_deadline_holds() -> None:
    start = date(2026, 11, 23)
    assert deadline(start, 10, ["US-FL", "US"]) == date(2026, 12, 8)
    assert deadline(start, 10, ["ES"]) == date(2026, 12, 7)  # Thanksgiving is a Spanish workday
