from warroom_shared.settings import WarroomSettings


class ReportingSettings(WarroomSettings):
    """`WARROOM_*` settings of the reporting service."""
