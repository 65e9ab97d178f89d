-- Best practice is no report programme: districts share their stories, which are never counted
-- among reports, so that no story inflates the headline count or makes a district complete.
-- A best-practice report cannot stay a report: each is deleted with its history and its events
-- not yet published (data from before production; events already published are left for the
-- aggregator, which counts no best practice). Then the table takes only the programmes counted.
CREATE TEMP TABLE best_practice_reports ON COMMIT DROP AS
    SELECT report_id FROM reports WHERE programme = 'best_practice';
DELETE FROM outbox
WHERE subject LIKE 'warroom.report.%'
  AND (convert_from(payload, 'UTF8')::jsonb #>> '{data,report_id}')::uuid
      IN (SELECT report_id FROM best_practice_reports);
DELETE FROM report_history WHERE report_id IN (SELECT report_id FROM best_practice_reports);
DELETE FROM reports WHERE report_id IN (SELECT report_id FROM best_practice_reports);
ALTER TABLE reports
    ADD CONSTRAINT reports_programme CHECK (programme IN ('cast', 'sustainable_village'));
