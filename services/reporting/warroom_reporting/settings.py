from warroom_shared.settings import WarroomSettings


class ReportingSettings(WarroomSettings):
    """`WARROOM_*` settings of the reporting service."""

    relay_enabled: bool = True  # off when relays run as their own processes (`warroom relay`)
    relay_batch_size: int = 500
    pool_max_size: int = 20
    # Single reports waiting for group commit (queued or being committed), per replica: beyond
    # it a POST answers 503 with Retry-After (at ~3,700 stored a second, a third of a second).
    submit_queue_max: int = 1000
    # CSV downloads at once, per replica: each holds a database connection until it ends, so
    # this stays well below pool_max_size; beyond it an export answers 503 with Retry-After.
    export_max_concurrent: int = 4
