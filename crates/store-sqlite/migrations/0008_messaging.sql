-- Secure messaging. Messages are FHIR Communications; these tables are derived from them by
-- the messaging hook in the same transaction as every Communication write (and can be
-- rebuilt from them), except thread_reads, which records what each account has read.
-- No message text or topic is copied here: clinical content stays in the resources.
CREATE TABLE message_threads (
    thread_id TEXT PRIMARY KEY,          -- the id of the thread's first Communication
    patient_id TEXT NOT NULL,
    organization_id TEXT NOT NULL,       -- the care team the thread was addressed to
    started_at BIGINT NOT NULL,          -- microseconds since the Unix epoch
    last_at BIGINT NOT NULL,             -- when the newest message was sent
    last_side TEXT NOT NULL,             -- 'patient' or 'team': who wrote last
    first_response_at BIGINT,            -- the team's first message after the patient's first
    waiting_since BIGINT,                -- the patient's oldest unanswered message; NULL: answered
    messages BIGINT NOT NULL
);
CREATE INDEX message_threads_patient ON message_threads (patient_id, last_at);
CREATE INDEX message_threads_team ON message_threads (organization_id, last_at);
CREATE TABLE thread_messages (
    message_id TEXT PRIMARY KEY,         -- the Communication
    thread_id TEXT NOT NULL,
    side TEXT NOT NULL,                  -- 'patient' or 'team'
    sent_at BIGINT NOT NULL
);
CREATE INDEX thread_messages_thread ON thread_messages (thread_id, sent_at);
CREATE TABLE thread_reads (
    thread_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    read_at BIGINT NOT NULL,             -- messages sent after this are unread for the account
    PRIMARY KEY (thread_id, account_id)
);
