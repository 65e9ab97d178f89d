-- Best-practice stories are shared, not counted: their old buckets go (their events, still in
-- the stream, are read and counted nowhere).
DELETE FROM totals WHERE programme = 'best_practice';

-- Stages are counted in `totals` as facets of their own ('stage:talk', ...): same columns, no
-- change to the table. A report counts once under each stage it names.

-- Figures per calendar month of the activity date, for trends: the same scopes and figures as
-- `totals` without dimensions and stages; month 0 is unknown (events published before the
-- month was carried). The quarter is in the key so a fiscal year's months are one range.
CREATE TABLE month_totals (
    scope text COLLATE "C" NOT NULL CHECK (scope IN ('national', 'district')),
    code text COLLATE "C" NOT NULL,
    fiscal_year integer NOT NULL,
    quarter integer NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    month integer NOT NULL CHECK (month BETWEEN 0 AND 12),
    programme text COLLATE "C" NOT NULL,
    reports bigint NOT NULL DEFAULT 0,
    households bigint NOT NULL DEFAULT 0,
    p_government bigint NOT NULL DEFAULT 0,
    p_private bigint NOT NULL DEFAULT 0,
    p_religious bigint NOT NULL DEFAULT 0,
    p_civil_society bigint NOT NULL DEFAULT 0,
    p_academic bigint NOT NULL DEFAULT 0,
    p_people bigint NOT NULL DEFAULT 0,
    p_media bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (scope, code, fiscal_year, quarter, month, programme)
) WITH (fillfactor = 70);

-- Every report counted so far came without its month: all of it is month 0, as a rebuild
-- from the stream would count it.
INSERT INTO month_totals
SELECT scope, code, fiscal_year, quarter, 0, programme, reports, households, p_government,
       p_private, p_religious, p_civil_society, p_academic, p_people, p_media
FROM totals WHERE dimension = '';

-- Active reports per district, period and the day (Asia/Bangkok) each was first received: a
-- district reported on time when one was received by the quarter's deadline. -infinity is a day
-- unknown (events published before it was carried): such a report counts as on time.
CREATE TABLE received_reports (
    district text COLLATE "C" NOT NULL,
    fiscal_year integer NOT NULL,
    quarter integer NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    received_on date NOT NULL,
    reports bigint NOT NULL DEFAULT 0,
    -- period first: completeness reads one quarter of every district
    PRIMARY KEY (fiscal_year, quarter, district, received_on)
) WITH (fillfactor = 70);

INSERT INTO received_reports
SELECT code, fiscal_year, quarter, '-infinity', sum(reports)
FROM totals WHERE scope = 'district' AND dimension = '' GROUP BY 1, 2, 3;

-- Active Sustainable Village reports per village (subdistrict and หมู่ที่) and period.
CREATE TABLE village_reports (
    district text COLLATE "C" NOT NULL,
    fiscal_year integer NOT NULL,
    quarter integer NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    subdistrict_code text COLLATE "C" NOT NULL,
    village_no integer NOT NULL,
    reports bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (fiscal_year, quarter, district, subdistrict_code, village_no)
) WITH (fillfactor = 70);

-- Each quarter's reporting deadline, set by an admin; a quarter without a row has the default
-- (15 days after the quarter ends). Reference data: a rebuild keeps it.
CREATE TABLE deadlines (
    fiscal_year integer NOT NULL,
    quarter integer NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    due_on date NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fiscal_year, quarter)
);
