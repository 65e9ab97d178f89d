from warroom_shared.settings import WarroomSettings


class ReportingSettings(WarroomSettings):
    """`WARROOM_*` settings of the reporting service."""

    relay_enabled: bool = True  # off when relays run as their own processes (`warroom relay`)
    relay_batch_size: int = 500
    pool_max_size: int = 20
