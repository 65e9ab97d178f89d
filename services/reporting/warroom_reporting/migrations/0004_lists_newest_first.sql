-- Lists and exports go newest first: by activity date, the report id breaking ties, a page at a
-- time from where the last one ended (keyset). One index per scope a list is asked for (the
-- nation, a province, a district), each read backwards for oldest first. A list by fiscal year
-- or quarter reads the same index over that period's dates, so the period indexes they replace
-- would only slow every write down.
DROP INDEX reports_district_period;
DROP INDEX reports_province_period;
CREATE INDEX reports_newest ON reports (activity_date, report_id);
CREATE INDEX reports_province_newest ON reports (province_code, activity_date, report_id);
CREATE INDEX reports_district_newest ON reports (district_code, activity_date, report_id);
