from warroom_shared.settings import WarroomSettings


class RegistrySettings(WarroomSettings):
    """`WARROOM_*` settings of the registry service."""

    relay_enabled: bool = True
