"""Data stores: RDS PostgreSQL and ElastiCache Redis, from CloudWatch through the exporter."""

from __future__ import annotations

from florai_dashboards.panels import Query, graph, label_variable, new_dashboard, row

UID = "florai-datastores"
# CloudWatch exporter series (external: see alerts/external-metrics.yaml).
RDS_CPU = "aws_rds_cpuutilization_average"
RDS_FREE_STORAGE = "aws_rds_free_storage_space_average"
RDS_CONNECTIONS = "aws_rds_database_connections_average"
RDS_REPLICA_LAG = "aws_rds_replica_lag_average"
RDS_FREEABLE_MEMORY = "aws_rds_freeable_memory_average"
CACHE_CPU = "aws_elasticache_cpuutilization_average"
CACHE_MEMORY = "aws_elasticache_database_memory_usage_percentage_average"
CACHE_EVICTIONS = "aws_elasticache_evictions_sum"
CACHE_CONNECTIONS = "aws_elasticache_curr_connections_average"
DB = 'dbinstance_identifier=~"$db_instance"'
CACHE = 'cache_cluster_id=~"$cache_cluster"'


def _db(title: str, description: str, unit: str, series: str):
    return graph(
        title,
        description,
        unit,
        Query(f"max by (dbinstance_identifier) ({series}{{{DB}}})", "{{dbinstance_identifier}}"),
        width=8,
    )


def _cache(title: str, description: str, unit: str, series: str):
    return graph(
        title,
        description,
        unit,
        Query(f"max by (cache_cluster_id) ({series}{{{CACHE}}})", "{{cache_cluster_id}}"),
        width=6,
    )


def build():
    return (
        new_dashboard(
            UID,
            "FlorAI / Data stores",
            "RDS PostgreSQL and ElastiCache Redis behind the FlorAI services (CloudWatch exporter).",
            [
                label_variable("db_instance", "dbinstance_identifier", RDS_CPU),
                label_variable("cache_cluster", "cache_cluster_id", CACHE_CPU),
            ],
        )
        .with_row(row("RDS PostgreSQL"))
        .with_panel(_db("RDS CPU", "CPU utilisation of each database instance.", "percent", RDS_CPU))
        .with_panel(
            _db("RDS free storage", "Storage left before the volume is full.", "bytes", RDS_FREE_STORAGE)
        )
        .with_panel(
            _db("RDS connections", "Open client connections to each instance.", "short", RDS_CONNECTIONS)
        )
        .with_panel(
            _db("RDS replica lag", "How far each read replica is behind the writer.", "s", RDS_REPLICA_LAG)
        )
        .with_panel(
            _db("RDS freeable memory", "Memory the instance can still use.", "bytes", RDS_FREEABLE_MEMORY)
        )
        .with_row(row("ElastiCache Redis"))
        .with_panel(_cache("Redis CPU", "CPU utilisation of each cache node.", "percent", CACHE_CPU))
        .with_panel(_cache("Redis memory used", "Share of max memory holding data.", "percent", CACHE_MEMORY))
        .with_panel(_cache("Redis evictions", "Keys evicted for lack of memory.", "short", CACHE_EVICTIONS))
        .with_panel(
            _cache("Redis connections", "Client connections to each node.", "short", CACHE_CONNECTIONS)
        )
    )
