-- Running totals per bucket: scope x code x fiscal year x quarter x programme x dimension.
-- The row count depends on geography and periods, never on how many reports there are, so every
-- query reads a bounded number of rows. Districts and the nation have rows, updated in the same
-- transaction; a province is the sum of its districts' rows (a range of codes, at most 50
-- districts). dimension '' is the overall total (a report once); a report also counts once
-- under each of its dimensions. Keys sort as "C": cheaper comparisons, and province ranges.
CREATE TABLE totals (
    scope text COLLATE "C" NOT NULL CHECK (scope IN ('national', 'district')),
    code text COLLATE "C" NOT NULL,
    fiscal_year integer NOT NULL,
    quarter integer NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    programme text COLLATE "C" NOT NULL,
    dimension text COLLATE "C" NOT NULL,
    reports bigint NOT NULL DEFAULT 0,
    households bigint NOT NULL DEFAULT 0,
    p_government bigint NOT NULL DEFAULT 0,
    p_private bigint NOT NULL DEFAULT 0,
    p_religious bigint NOT NULL DEFAULT 0,
    p_civil_society bigint NOT NULL DEFAULT 0,
    p_academic bigint NOT NULL DEFAULT 0,
    p_people bigint NOT NULL DEFAULT 0,
    p_media bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, code, fiscal_year, quarter, programme, dimension)
) WITH (fillfactor = 70);  -- room on each page for HOT updates: counts change, keys never do

-- Breakdowns and completeness filter the districts by period across all their codes.
CREATE INDEX totals_period ON totals (scope, dimension, fiscal_year, quarter, programme);

-- Every event id applied to the totals, written in the same transaction: the idempotency record.
CREATE TABLE processed_events (
    event_id uuid PRIMARY KEY,
    stream_seq bigint NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- Messages that could never be counted (not JSON, unknown type, invalid data, refused by the
-- database on every delivery), kept with the reason; also published on the dead-letter subject.
CREATE TABLE dead_letters (
    stream_seq bigint PRIMARY KEY,
    subject text NOT NULL,
    reason text NOT NULL,
    deliveries integer NOT NULL,
    data bytea NOT NULL,
    dead_lettered_at timestamptz NOT NULL DEFAULT now()
);
