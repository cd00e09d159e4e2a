from cctelemetry.store.migrate import applied_versions, interval, load_migrations, migrate


def test_migrations_are_recorded_and_idempotent(store):
    versions = [m.version for m in load_migrations()]
    assert versions == sorted(versions) and len(versions) >= 5
    assert sorted(applied_versions(store)) == versions
    assert migrate(store) == []  # nothing left to do
    assert store.scalar("SELECT count() FROM schema_migrations") == len(versions)


def test_ttl_and_retention_are_parameters(engine_url):
    from conftest import new_database, open_store

    database = new_database()
    store = open_store(engine_url, database, raw_ttl_hours=30, retention_days=7)
    ddl = dict(store.query("SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase()")
               .result_rows)  # fmt: skip
    assert "toIntervalHour(30)" in ddl["otel_logs"] and "toIntervalDay(7)" in ddl["request_copies"]
    store.command(f"DROP DATABASE `{database}`")


def test_interval_rendering_follows_the_exporter():
    assert interval(72 * 3600) == "toIntervalDay(3)"
    assert interval(30 * 3600) == "toIntervalHour(30)"
    assert interval(90) == "toIntervalSecond(90)"
    assert interval(120) == "toIntervalMinute(2)"
