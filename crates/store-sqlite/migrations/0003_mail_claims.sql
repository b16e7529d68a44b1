-- Delivery of the mail outbox by any number of server instances. A sender claims a row by
-- setting claimed_until (a lease) before it talks to the SMTP server, so no two instances send
-- the same mail; after a failed attempt the column holds the time of the next retry.
ALTER TABLE mail_outbox ADD COLUMN claimed_until BIGINT;
CREATE INDEX mail_outbox_unsent ON mail_outbox (sent_at, claimed_until);
