CREATE TABLE geography_meta (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    data_version text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE provinces (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
    name_th text NOT NULL,
    name_en text NOT NULL
);

CREATE TABLE districts (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{4}$'),
    province_code text NOT NULL REFERENCES provinces,
    name_th text NOT NULL,
    name_en text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('amphoe', 'khet')),
    CHECK (left(code, 2) = province_code)
);
CREATE INDEX districts_province ON districts (province_code);

CREATE TABLE subdistricts (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{6}$'),
    district_code text NOT NULL REFERENCES districts,
    name_th text NOT NULL,
    name_en text NOT NULL,
    postal_codes text[] NOT NULL DEFAULT '{}',
    CHECK (left(code, 4) = district_code)
);
CREATE INDEX subdistricts_district ON subdistricts (district_code);

CREATE TABLE teams (
    id uuid PRIMARY KEY,
    district_code text NOT NULL REFERENCES districts,
    province_code text NOT NULL REFERENCES provinces,
    fiscal_year integer NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (district_code, fiscal_year)
);
CREATE INDEX teams_province ON teams (province_code, fiscal_year);

CREATE TABLE team_members (
    team_id uuid NOT NULL REFERENCES teams ON DELETE CASCADE,
    role text NOT NULL,
    sector text NOT NULL,
    name text NOT NULL,
    position text NOT NULL,
    organisation text NOT NULL,
    phone text,
    email text,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, role)
);
