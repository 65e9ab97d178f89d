-- Who made each change, as authenticated: the token's subject (null before tokens existed).
ALTER TABLE report_history ADD COLUMN account text;
