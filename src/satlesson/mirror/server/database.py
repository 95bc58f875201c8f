"""Load a snapshot's catalogs into pgstac, one database per STAC API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import psycopg
from pypgstac.db import PgstacDB
from pypgstac.load import Loader, Methods
from pypgstac.migrate import Migrate

from satlesson.mirror.server.postgres import Cluster
from satlesson.mirror.snapshot import ServedApi


def content_hash(api: ServedApi) -> str:
    """Changes whenever the snapshot's JSON for this API changes."""
    blob = json.dumps([api.collections(), api.items()], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _loaded_hash(cluster: Cluster, api: ServedApi) -> str | None:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (api.upstream.dbname,),
        ).fetchone()
    return row[0] if row else None


def ensure_loaded(cluster: Cluster, api: ServedApi, log: Callable[[str], None] = print) -> None:
    """(Re)build the API's database unless it already holds this exact snapshot."""
    wanted = content_hash(api)
    if _loaded_hash(cluster, api) == wanted:
        return
    log(f"loading {api.upstream.title} into pgstac ...")
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{api.upstream.dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{api.upstream.dbname}"')
    db = PgstacDB(dsn=cluster.dsn(api.upstream.dbname))
    try:
        Migrate(db).run_migration()
        # numberMatched ("context") is off by default in pgstac; the lesson relies on matched().
        with db.connect().cursor() as cur:
            cur.execute(
                "INSERT INTO pgstac.pgstac_settings (name, value) VALUES ('context', 'on') "
                "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value"
            )
        loader = Loader(db=db)
        loader.load_collections(iter(api.collections()), Methods.upsert)
        loader.load_items(iter(api.items()), Methods.upsert)
    finally:
        db.close()
    # The stamp goes last: an interrupted load is redone on the next start.
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f"COMMENT ON DATABASE \"{api.upstream.dbname}\" IS '{wanted}'")
