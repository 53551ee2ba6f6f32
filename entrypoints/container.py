"""The composition root: the one place that names concrete adapters."""

from __future__ import annotations

import os
from typing import Any

from dependency_injector import containers, providers
from psycopg_pool import AsyncConnectionPool

from adapters.cache.memory import MemoryCacheStore, StaticDataVersion, StaticFunctionVolatility
from adapters.cache.redis_store import RedisCacheStore
from adapters.demodata.generator import generate_dataset
from adapters.embeddings.metered import MeteredEmbeddingProvider
from adapters.memory.access import InMemoryAccessDirectory
from adapters.memory.analytics import (
    DEMO_SEED,
    InMemoryInventoryRepository,
    InMemorySalesRepository,
    InMemoryStoreCatalog,
    RetailRecords,
    demo_stores,
)
from adapters.memory.audit import InMemoryAuditLog
from adapters.memory.embeddings import HashingEmbeddingProvider
from adapters.memory.product_search import InMemoryProductSearchRepository
from adapters.memory.sql_database import InMemorySqlDatabase
from adapters.metrics.prometheus import MULTIPROCESS_DIR_ENV, PrometheusMetrics
from adapters.postgres.access import PsycopgAccessDirectory
from adapters.postgres.access_changes import AccessChangeListener
from adapters.postgres.analytics import (
    PsycopgInventoryRepository,
    PsycopgSalesRepository,
    PsycopgStoreCatalog,
)
from adapters.postgres.audit import PsycopgAuditLog
from adapters.postgres.audit_spool import AuditSpool
from adapters.postgres.data_version import PsycopgDataVersion
from adapters.postgres.embedded import EmbeddedPostgresServer
from adapters.postgres.external import ExternalPostgresServer
from adapters.postgres.function_volatility import PsycopgFunctionVolatility
from adapters.postgres.gateway import DatabaseGateway
from adapters.postgres.pool import Reachability, make_query_pool
from adapters.postgres.product_search import PsycopgProductSearchRepository
from adapters.postgres.request_context import ContextSigner, read_context_key
from adapters.postgres.sales_query import PsycopgSalesQueryExecutor
from adapters.postgres.schema_catalog import EXPOSED_TABLES, PsycopgSchemaCatalog
from adapters.postgres.user_limit import UserConcurrencyLimit
from adapters.sqlguard.pglast_guard import PglastSqlGuard
from adapters.system_clock import SystemClock
from domain.errors import ConfigurationError
from domain.services.access_scope import CachedAccessDirectory
from domain.services.access_watch import AccessWatch, always_live
from domain.services.identity import IdentityService
from domain.services.performance import PerformanceService, QueryPerformanceMonitor
from domain.services.query_cache import CachingSalesQueryExecutor
from domain.services.sales_analytics import SalesAnalyticsService
from domain.services.sales_query import SalesQueryService
from domain.services.schema import SchemaService
from entrypoints.embeddings import (
    embedding_provider_for,
    load_embedding_settings,
    product_search_service_for,
)
from entrypoints.settings import Settings
from ports.cache import CacheStore
from ports.database_server import DatabaseEndpoints, DatabaseServer


def database_server_for(settings: Settings) -> DatabaseServer:
    if settings.database_url is None:
        return EmbeddedPostgresServer(settings.data_dir)
    admin = settings.admin_database_url
    return ExternalPostgresServer(
        settings.database_url.get_secret_value(),
        None if admin is None else admin.get_secret_value(),
    )


def _start(server: DatabaseServer) -> DatabaseEndpoints:
    return server.start()


def metrics_for(pool: AsyncConnectionPool[Any] | None) -> PrometheusMetrics:
    # Set by `serve --workers N` for its workers (entrypoints/http_app.py), never by users.
    metrics = PrometheusMetrics(multiprocess_dir=os.environ.get(MULTIPROCESS_DIR_ENV))
    if pool is not None:
        metrics.watch_pool("query", pool.get_stats)
    return metrics


def cache_store_for(settings: Settings, metrics: PrometheusMetrics) -> CacheStore:
    """Redis when ZAVA_REDIS_URL is set (shared by workers and replicas, memory while it is
    down), else memory only."""
    memory = MemoryCacheStore(metrics=metrics)
    if settings.redis_url is None:
        return memory
    return RedisCacheStore(settings.redis_url.get_secret_value(), memory, metrics=metrics)


def context_signer_for(settings: Settings, endpoints: DatabaseEndpoints) -> ContextSigner:
    if settings.context_key is not None:
        return ContextSigner.from_hex(settings.context_key.get_secret_value())
    if not endpoints.admin_url:
        raise ConfigurationError(
            "set ZAVA_CONTEXT_KEY (or ZAVA_ADMIN_DATABASE_URL to read it from the database):"
            " the server signs every request's identity with it"
        )
    return ContextSigner(read_context_key(endpoints.admin_url))


class Container(containers.DeclarativeContainer):
    """Providers are synchronous and lazy: nothing connects until the entrypoint asks, and the
    pool is opened explicitly by the server's lifespan (see entrypoints/mcp/server.py)."""

    settings = providers.Dependency(instance_of=Settings)

    database_server = providers.Singleton(database_server_for, settings)
    database_endpoints = providers.Singleton(_start, database_server)
    # whether the database accepts connections, as both pools' connection attempts find out
    reachability = providers.Singleton(Reachability)
    query_pool = providers.Singleton(
        lambda endpoints, settings, reachability: make_query_pool(
            endpoints.query_url,
            min_size=settings.pool_min,
            max_size=settings.pool_max,
            max_idle_s=settings.pool_max_idle_s,
            timeout_s=settings.pool_timeout_s,
            reachability=reachability,
        ),
        database_endpoints,
        settings,
        reachability,
    )
    # the audit writer's own connection: it never waits behind tenants' queries
    audit_pool = providers.Singleton(
        lambda endpoints, settings, reachability: make_query_pool(
            endpoints.query_url, min_size=1, max_size=1, timeout_s=settings.pool_timeout_s,
            reachability=reachability, name="zava-audit",
        ),
        database_endpoints,
        settings,
        reachability,
    )
    context_signer = providers.Singleton(context_signer_for, settings, database_endpoints)

    metrics = providers.Singleton(metrics_for, query_pool)
    query_monitor = providers.Singleton(
        lambda metrics, settings: QueryPerformanceMonitor(metrics, settings.slow_query_s),
        metrics,
        settings,
    )
    # the one way to the database for every PostgreSQL adapter
    database_gateway = providers.Singleton(
        lambda pool, audit_pool, signer, settings, monitor, reachability: DatabaseGateway(
            pool, signer,
            statement_timeout_s=settings.query_timeout_s,
            model_sql_timeout_s=min(settings.model_sql_timeout_s, settings.query_timeout_s),
            observer=monitor,
            reachability=reachability,
            user_limit=UserConcurrencyLimit(settings.user_limit, wait_s=settings.user_queue_s),
            audit_pool=audit_pool,
        ),
        query_pool,
        audit_pool,
        context_signer,
        settings,
        query_monitor,
        reachability,
    )

    clock = providers.Singleton(SystemClock)
    # who may see which stores, as the database says it now ...
    access_source = providers.Singleton(PsycopgAccessDirectory, database_gateway)
    # operator changes to access (users CLI, db import) are announced by the database; the
    # watch makes the cache below forget what it remembered on the next call (sql/020)
    access_watch = providers.Singleton(AccessWatch)
    access_change_listener = providers.Singleton(
        lambda endpoints, watch: AccessChangeListener(endpoints.query_url, watch),
        database_endpoints,
        access_watch,
    )
    # ... and the one port everything else reads it through: remembered briefly, shared by the
    # token verifier, the query cache and the services, so a request resolves it once
    access_directory = providers.Singleton(
        lambda source, settings, watch: CachedAccessDirectory(
            source, ttl_s=settings.access_cache_ttl_s, watch=watch),
        access_source,
        settings,
        access_watch,
    )
    identity_service = providers.Singleton(IdentityService, access_directory, clock)
    performance_service = providers.Singleton(PerformanceService, query_monitor, access_directory)

    sql_guard = providers.Singleton(PglastSqlGuard, EXPOSED_TABLES)
    sales_query_executor = providers.Singleton(PsycopgSalesQueryExecutor, database_gateway)
    cache_store = providers.Singleton(cache_store_for, settings, metrics)
    data_version = providers.Singleton(PsycopgDataVersion, database_gateway)
    function_volatility = providers.Singleton(PsycopgFunctionVolatility, database_gateway)
    cached_sales_query_executor = providers.Singleton(
        lambda executor, cache, directory, versions, volatility, settings:
        CachingSalesQueryExecutor(
            executor, cache, directory, versions, volatility, ttl_s=settings.cache_ttl_s
        ),
        sales_query_executor,
        cache_store,
        access_directory,
        data_version,
        function_volatility,
        settings,
    )
    sales_query_service = providers.Singleton(
        lambda guard, executor, settings: SalesQueryService(guard, executor, settings.max_rows),
        sql_guard,
        cached_sales_query_executor,
        settings,
    )
    schema_catalog = providers.Singleton(PsycopgSchemaCatalog, database_gateway)
    schema_service = providers.Singleton(SchemaService, schema_catalog)
    # batched: one audit transaction per half second under load, not one per call
    audit_log = providers.Singleton(
        lambda gateway, settings: PsycopgAuditLog(
            gateway, spool=AuditSpool(settings.data_dir / "audit-spool"), flush_delay_s=0.5),
        database_gateway,
        settings,
    )

    # sales analytics: aggregates in SQL over the daily rollups, as the caller (RLS)
    sales_repository = providers.Singleton(PsycopgSalesRepository, database_gateway)
    inventory_repository = providers.Singleton(PsycopgInventoryRepository, database_gateway)
    store_catalog = providers.Singleton(PsycopgStoreCatalog, database_gateway)
    sales_analytics_service = providers.Singleton(
        SalesAnalyticsService,
        access_directory,
        store_catalog,
        sales_repository,
        inventory_repository,
        clock,
    )

    # product search: providers construct lazily; the local model loads on first use
    embedding_settings = providers.Singleton(load_embedding_settings)
    embedding_backend = providers.Singleton(embedding_provider_for, settings, embedding_settings)
    embedding_provider_name = providers.Callable(lambda settings: settings.embeddings, settings)
    # what everything else uses: the chosen provider, its latency reported per call
    embedding_provider = providers.Singleton(
        MeteredEmbeddingProvider, embedding_backend, metrics, embedding_provider_name
    )
    product_search_repository = providers.Singleton(
        PsycopgProductSearchRepository, database_gateway
    )
    product_search_service = providers.Singleton(
        product_search_service_for,
        embedding_provider,
        product_search_repository,
        embedding_settings,
    )


class NoAccessChangeListener:
    """The in-memory directory never changes behind the process's back."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def in_memory_container(settings: Settings) -> Container:
    """The same wiring with in-memory adapters and no database (unit tests, demos offline)."""
    container = Container(settings=settings)
    container.database_server.override(providers.Object(None))
    container.database_endpoints.override(providers.Object(None))
    container.query_pool.override(providers.Object(None))
    container.audit_pool.override(providers.Object(None))
    container.context_signer.override(providers.Object(None))
    container.database_gateway.override(providers.Object(None))
    container.access_watch.override(providers.Singleton(always_live))
    container.access_change_listener.override(providers.Singleton(NoAccessChangeListener))
    container.access_source.override(
        providers.Singleton(InMemoryAccessDirectory.from_demo_data)
    )
    # the in-memory stand-in for row-level security: the data limits each caller's rows by the
    # live grants, never through the server's cached access-scope port (as PostgreSQL does)
    row_security = providers.Singleton(InMemoryAccessDirectory.from_demo_data)
    container.audit_log.override(providers.Singleton(InMemoryAuditLog))
    container.embedding_backend.override(providers.Singleton(HashingEmbeddingProvider))
    container.embedding_provider_name.override(providers.Object("hashing"))
    container.product_search_repository.override(providers.Singleton(
        InMemoryProductSearchRepository.from_demo_data,
        row_security,
        container.embedding_backend,  # the fake's vectors directly (no provider call to time)
    ))
    container.data_version.override(providers.Singleton(StaticDataVersion))
    container.function_volatility.override(providers.Singleton(StaticFunctionVolatility))
    # the demo data `zava-mcp db init` would load today, generated on first use
    dataset = providers.Singleton(
        lambda clock: generate_dataset(DEMO_SEED, clock.now().date(), "small"), container.clock
    )
    records = providers.Singleton(RetailRecords.from_dataset, dataset)
    # execute_sales_query and the table schemas: the same data in SQLite, scoped per caller
    sql_database = providers.Singleton(
        lambda dataset, directory, settings: InMemorySqlDatabase(
            dataset, directory, timeout_s=settings.query_timeout_s),
        dataset, row_security, settings,
    )
    container.sales_query_executor.override(
        providers.Singleton(lambda database: database.executor, sql_database))
    container.schema_catalog.override(
        providers.Singleton(lambda database: database.catalog, sql_database))
    container.sql_guard.override(providers.Singleton(
        lambda catalog: PglastSqlGuard(catalog.exposed_tables()), container.schema_catalog))
    container.sales_repository.override(
        providers.Singleton(InMemorySalesRepository, records, row_security)
    )
    container.inventory_repository.override(
        providers.Singleton(InMemoryInventoryRepository, records, row_security)
    )
    container.store_catalog.override(
        providers.Singleton(lambda: InMemoryStoreCatalog(demo_stores()))
    )
    return container
