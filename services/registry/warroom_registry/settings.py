from warroom_shared.settings import WarroomSettings


class RegistrySettings(WarroomSettings):
    """`WARROOM_*` settings of the registry service."""

    relay_enabled: bool = True
    # The programme's scope (`programme.ProgrammeScope`): Bangkok's 50 khet take part only when
    # an operator includes them. Changing it republishes the directory at the registry's next start.
    programme_includes_khet: bool = False
