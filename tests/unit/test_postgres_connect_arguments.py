"""The gate's asyncpg pool connects where the service's SQLAlchemy URL says, or refuses."""

import pytest
from sqlalchemy.engine import make_url

from consent.store.async_postgres import connect_arguments


def test_host_credentials_and_search_path_come_from_the_url() -> None:
    url = make_url(
        "postgresql+psycopg://gate:s3cret@db.internal:6543/consent"
        "?options=-csearch_path%3Dcg_1%20-c%20statement_timeout%3D5s"
        "&connect_timeout=3&application_name=consent-gate&sslmode=require"
    )
    arguments = connect_arguments(url)
    assert arguments == {
        "host": "db.internal",
        "port": 6543,
        "user": "gate",
        "password": "s3cret",
        "database": "consent",
        "server_settings": {
            "search_path": "cg_1",
            "statement_timeout": "5s",
            "application_name": "consent-gate",
        },
        "timeout": 3.0,
        "ssl": "require",
    }


def test_a_unix_socket_directory_in_the_query_is_the_host() -> None:
    url = make_url("postgresql+psycopg://gate@/consent?host=/var/run/postgresql&port=5433")
    arguments = connect_arguments(url)
    assert (arguments["host"], arguments["port"]) == ("/var/run/postgresql", 5433)


def test_a_parameter_asyncpg_cannot_honour_stops_the_start() -> None:
    url = make_url("postgresql+psycopg://gate@db/consent?target_session_attrs=read-write")
    with pytest.raises(ValueError, match="target_session_attrs"):
        connect_arguments(url)


def test_options_other_than_settings_are_refused() -> None:
    url = make_url("postgresql+psycopg://gate@db/consent?options=--single")
    with pytest.raises(ValueError, match="-c name=value"):
        connect_arguments(url)
