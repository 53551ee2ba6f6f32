"""One contract, two adapters: the in-memory access directory and the PostgreSQL one must give
identical answers for every demo user and refuse the same unknown ones."""

from __future__ import annotations

import pytest
from psycopg_pool import AsyncConnectionPool

from adapters.demodata.reference import USERS
from adapters.memory.access import InMemoryAccessDirectory
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.request_context import ContextSigner
from domain.errors import UnknownUserError
from domain.model import UserId
from ports.access import AccessDirectory

pytestmark = [pytest.mark.anyio, pytest.mark.integration]


@pytest.fixture(params=["memory", "postgres"])
def directory(
    request: pytest.FixtureRequest, query_pool: AsyncConnectionPool, signer: ContextSigner
) -> AccessDirectory:
    if request.param == "memory":
        return InMemoryAccessDirectory.from_demo_data()
    return PsycopgAccessDirectory(DatabaseGateway(query_pool, signer))


@pytest.mark.parametrize("user", USERS, ids=lambda u: u.display_name)
async def test_scope_of_every_demo_user(directory: AccessDirectory, user) -> None:
    expected = await InMemoryAccessDirectory.from_demo_data().scope_for(UserId(user.user_id))
    scope = await directory.scope_for(UserId(user.user_id))
    assert scope == expected
    assert scope.store_ids == frozenset(user.store_ids)


@pytest.mark.parametrize(
    "raw", ["00000000-0000-0000-0000-000000000000", "deadbeef-0000-4000-8000-000000000000"]
)
async def test_unknown_users_are_refused(directory: AccessDirectory, raw: str) -> None:
    with pytest.raises(UnknownUserError):
        await directory.scope_for(UserId(raw))
