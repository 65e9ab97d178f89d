import datetime as dt

import asyncpg

from warroom_aggregator.prepare import MIGRATIONS
from warroom_shared import db

SCHEMA = "aggregator_upgrade"  # a schema of its own, migrated step by step


async def test_migrate_to_programme_model_drops_best_practice_and_keeps_counts_as_a_rebuild_would(
    database_url: str,
) -> None:
    """Totals counted before stages, months and days received: best practice goes; every
    report is in month 0 (unknown) and received on an unknown day (-infinity), as a rebuild
    from those events would count them."""
    before = [m for m in MIGRATIONS if m.name < "0003"]
    await db.migrate(database_url, SCHEMA, before)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": SCHEMA})
    try:
        await conn.execute(
            "INSERT INTO totals (scope, code, fiscal_year, quarter, programme, dimension, "
            "reports, households) VALUES "
            "('district', '5001', 2568, 2, 'cast', '', 3, 9), "
            "('district', '5001', 2568, 2, 'cast', 'water', 2, 6), "
            "('district', '5001', 2568, 2, 'sustainable_village', '', 1, 1), "
            "('district', '5001', 2568, 2, 'best_practice', '', 5, 5), "
            "('national', 'TH', 2568, 2, 'cast', '', 3, 9), "
            "('national', 'TH', 2568, 2, 'best_practice', '', 5, 5)"
        )

        await db.migrate(database_url, SCHEMA, MIGRATIONS)

        programmes = await conn.fetch("SELECT DISTINCT programme FROM totals ORDER BY 1")
        months = await conn.fetch(
            "SELECT scope, code, month, programme, reports, households FROM month_totals "
            "ORDER BY 1, 2, 4"
        )
        received = await conn.fetch("SELECT * FROM received_reports")
    finally:
        await conn.close()

    assert [r["programme"] for r in programmes] == ["cast", "sustainable_village"]
    assert [tuple(r) for r in months] == [
        ("district", "5001", 0, "cast", 3, 9),
        ("district", "5001", 0, "sustainable_village", 1, 1),
        ("national", "TH", 0, "cast", 3, 9),
    ]
    assert [tuple(r) for r in received] == [("5001", 2568, 2, dt.date.min, 4)]
