from warroom_shared.settings import WarroomSettings


class AggregatorSettings(WarroomSettings):
    """`WARROOM_*` settings of the aggregator service."""
