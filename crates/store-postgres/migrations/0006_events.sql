-- Live events whose payload is too large for a NOTIFY (8,000 bytes): the notification
-- carries the row id. Rows live about a minute.
CREATE TABLE event_spool (
    id BIGSERIAL PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_spool_created ON event_spool (created_at);
