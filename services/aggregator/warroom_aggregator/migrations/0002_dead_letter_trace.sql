-- The W3C trace context of a dead-lettered event, so it can be followed back to its request.
ALTER TABLE dead_letters ADD COLUMN traceparent text;
