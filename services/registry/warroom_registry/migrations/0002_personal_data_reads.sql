-- Every answer that showed team members' names, phones or e-mails: who saw whose, and when.
CREATE TABLE personal_data_reads (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    subject text NOT NULL,
    access_role text NOT NULL,
    team_id uuid NOT NULL,
    district_code text NOT NULL,
    action text NOT NULL,
    request_id text
);
CREATE INDEX personal_data_reads_team ON personal_data_reads (team_id, at);
CREATE INDEX personal_data_reads_subject ON personal_data_reads (subject, at);
