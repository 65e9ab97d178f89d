-- The Sustainable Village programme's designated villages ("หนึ่งตำบล หนึ่งหมู่บ้านยั่งยืน"):
-- one village per subdistrict per fiscal year, so (fiscal_year, subdistrict_code) is the key and
-- designating another village of the subdistrict replaces the first.
CREATE TABLE designated_villages (
    fiscal_year integer NOT NULL,
    subdistrict_code text NOT NULL REFERENCES subdistricts,
    district_code text NOT NULL REFERENCES districts,
    village_no integer NOT NULL CHECK (village_no BETWEEN 1 AND 99),
    name text NOT NULL,
    designated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fiscal_year, subdistrict_code),
    CHECK (left(subdistrict_code, 4) = district_code)
);
CREATE INDEX designated_villages_district ON designated_villages (district_code, fiscal_year);
