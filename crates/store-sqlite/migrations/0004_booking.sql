-- Booking: search indexes of bookable schedules and slots, kept by the booking hook in the
-- same transaction as every Schedule, Slot and Appointment write (they are derived from
-- those resources and can be rebuilt from them).

-- One row per bookable Schedule, with what patients search by, copied from its
-- PractitionerRole, Practitioner and Location.
CREATE TABLE schedule_index (
    schedule_id TEXT PRIMARY KEY,
    active INTEGER NOT NULL,
    role_id TEXT NOT NULL,
    practitioner_id TEXT NOT NULL,
    practitioner_name TEXT NOT NULL,
    organization_id TEXT NOT NULL,
    location_id TEXT NOT NULL,
    location_name TEXT NOT NULL,
    service_id TEXT,
    modality TEXT NOT NULL,
    specialty TEXT NOT NULL,    -- lower-cased code or text of the role's specialty
    specialty_name TEXT NOT NULL,
    languages TEXT NOT NULL,    -- ' fr en ': BCP 47 codes between spaces
    latitude REAL,
    longitude REAL,
    zone TEXT NOT NULL,
    notice_s INTEGER NOT NULL,
    horizon_s INTEGER NOT NULL,
    cancel_notice_s INTEGER NOT NULL
);
CREATE INDEX schedule_index_specialty ON schedule_index (specialty, modality);
CREATE INDEX schedule_index_role ON schedule_index (role_id);
CREATE INDEX schedule_index_practitioner ON schedule_index (practitioner_id);
CREATE INDEX schedule_index_location ON schedule_index (location_id);

-- One row per Slot of a bookable Schedule, with the appointment holding it: the primary key
-- makes "one slot, one appointment" a database fact, whatever the concurrency.
CREATE TABLE slot_index (
    slot_id TEXT PRIMARY KEY,
    schedule_id TEXT NOT NULL,
    starts_at INTEGER NOT NULL, -- Unix seconds
    ends_at INTEGER NOT NULL,
    status TEXT NOT NULL,       -- the Slot's status
    appointment_id TEXT,        -- the appointment holding the slot, if any
    hold_until INTEGER          -- a pending hold lapses at this time (Unix seconds)
);
CREATE INDEX slot_index_schedule ON slot_index (schedule_id, starts_at);
CREATE INDEX slot_index_free ON slot_index (status, starts_at);
CREATE INDEX slot_index_appointment ON slot_index (appointment_id);
CREATE INDEX slot_index_hold ON slot_index (hold_until);

-- Mail that waits (appointment reminders), with an attachment (an .ics invitation), and a
-- topic (the appointment) so that a cancellation withdraws the reminders not yet sent.
ALTER TABLE mail_outbox ADD COLUMN send_after INTEGER;
ALTER TABLE mail_outbox ADD COLUMN topic TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_name TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment_type TEXT;
ALTER TABLE mail_outbox ADD COLUMN attachment TEXT;
CREATE INDEX mail_outbox_topic ON mail_outbox (topic);
