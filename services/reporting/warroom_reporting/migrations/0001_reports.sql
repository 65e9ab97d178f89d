CREATE TABLE reports (
    report_id uuid PRIMARY KEY,
    version integer NOT NULL DEFAULT 1,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retracted')),
    submitted_hash text NOT NULL,
    programme text NOT NULL,
    province_code text NOT NULL,
    district_code text NOT NULL,
    subdistrict_code text,
    village_no smallint,
    activity_date date NOT NULL,
    fiscal_year integer NOT NULL,
    quarter smallint NOT NULL CHECK (quarter BETWEEN 1 AND 4),
    dimensions text[] NOT NULL,
    stages text[] NOT NULL,
    participants jsonb NOT NULL,
    households integer,
    title text NOT NULL,
    details text NOT NULL,
    reported_by jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_district_period ON reports (district_code, fiscal_year, quarter);
CREATE INDEX reports_province_period ON reports (province_code, fiscal_year, quarter);
CREATE INDEX reports_period ON reports (fiscal_year, quarter, programme);

-- The audit trail: every version of every report, who made it and what changed.
CREATE TABLE report_history (
    report_id uuid NOT NULL REFERENCES reports,
    version integer NOT NULL,
    action text NOT NULL CHECK (action IN ('submitted', 'amended', 'retracted')),
    actor jsonb NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    reason text,
    changes jsonb NOT NULL DEFAULT '{}',
    content jsonb NOT NULL,
    PRIMARY KEY (report_id, version)
);
