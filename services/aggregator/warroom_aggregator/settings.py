from warroom_shared.settings import WarroomSettings


class AggregatorSettings(WarroomSettings):
    """`WARROOM_*` settings of the aggregator service."""

    consumer_enabled: bool = True  # False: an API-only replica (queries and the live stream)
    consumer_workers: int = 3  # concurrent batches per replica: some fetch while others commit
    batch_size: int = 1000  # bigger batches fold more events into each bucket's one upsert
    fetch_timeout: float = 1.0  # seconds an idle fetch waits; bounds how long a stop takes
    ack_wait: float = 60.0  # seconds; longer than the slowest batch, or it is redelivered mid-way
    max_deliver: int = 5
    retry_delay: float = 1.0  # seconds before a refused message is redelivered (doubles each time)
    # seconds from one `warroom.totals.updated.*` round to the next, which feed the live stream;
    # a change after a quiet interval goes out at once. 0.1: a change reaches a client p99 about
    # 0.3 s after its POST under steady load (0.25: 0.4-0.6 s; 1.0: 1.2 s)
    publish_interval: float = 0.1
    # seconds: at most one SSE update per client this often. Shorter than `publish_interval` on
    # purpose: a client's round as long as the feed's falls into step with it and holds every
    # change back most of an interval (measured: +130 ms p50 at 0.25 s each)
    stream_interval: float = 0.05
    stream_heartbeat: float = 15.0  # seconds between SSE comment lines on a quiet stream
    public_national_totals: bool = False  # GET /v1/totals?scope=national without a token
    reporting_url: str = "http://127.0.0.1:8002"  # for `warroom reconcile`
