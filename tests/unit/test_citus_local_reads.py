"""The access functions' reads of reference tables, pointed at each node's own placement on a
Citus cluster (adapters/postgres/citus_local_reads.py): the rewriting of their definitions."""

from __future__ import annotations

import pytest

from adapters.postgres.citus_local_reads import (
    LocalReadsError,
    local_definition,
    routed_definition,
)

BODY = """CREATE OR REPLACE FUNCTION access.visible_store_ids()
AS $function$
    WITH me AS (SELECT u.user_id, u.role FROM access.app_users AS u
                WHERE u.user_id = (SELECT access.context_user_id()))
    SELECT a.store_id FROM access.user_store_access AS a JOIN me USING (user_id)
    UNION SELECT s.store_id FROM retail.stores AS s, me
$function$"""
SHARDS = {"access.app_users": 102009, "access.user_store_access": 102010,
          "retail.stores": 102011}


def test_each_table_is_read_from_its_placement() -> None:
    local = local_definition(BODY, SHARDS)
    assert "FROM access.app_users_102009 AS u" in local
    assert "FROM access.user_store_access_102010 AS a" in local
    assert "FROM retail.stores_102011 AS s" in local
    # names that merely start like a table are left alone
    assert "access.context_user_id()" in local


def test_rewriting_twice_changes_nothing_and_a_new_shard_replaces_the_old() -> None:
    local = local_definition(BODY, SHARDS)
    assert local_definition(local, SHARDS) == local
    moved = local_definition(local, {**SHARDS, "retail.stores": 102999})
    assert "retail.stores_102999 AS s" in moved
    assert "stores_102011" not in moved


def test_a_function_that_no_longer_reads_a_table_is_refused() -> None:
    with pytest.raises(LocalReadsError, match=r"no longer reads access\.context_key"):
        local_definition(BODY, {"access.context_key": 102008})


def test_routed_definition_names_the_tables_again() -> None:
    assert routed_definition(local_definition(BODY, SHARDS), tuple(SHARDS)) == BODY
