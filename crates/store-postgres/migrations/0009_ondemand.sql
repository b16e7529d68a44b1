-- On-demand care: the queue of patients waiting for the next free clinician, one row per
-- on-demand Encounter, kept by the on-demand hook in the same transaction as every write of
-- such an Encounter (derived from the resources; can be rebuilt from them). Clinicians claim
-- a row with one conditional UPDATE (state = 'waiting'), so two never take the same patient.
CREATE TABLE ondemand_queue (
    encounter_id TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL,
    assessment_id TEXT,            -- the triage outcome (RiskAssessment) that sent them here
    urgency BIGINT NOT NULL,       -- 3 emergency, 2 urgent, 1 routine, 0 self-care
    joined_at BIGINT NOT NULL,     -- microseconds since the Unix epoch
    state TEXT NOT NULL,           -- waiting, taken, left
    appointment_id TEXT,           -- the visit made when a clinician took them
    practitioner_id TEXT,
    taken_at BIGINT                -- microseconds since the Unix epoch
);
CREATE INDEX ondemand_queue_waiting ON ondemand_queue (state, urgency, joined_at);
CREATE INDEX ondemand_queue_patient ON ondemand_queue (patient_id);
CREATE INDEX ondemand_queue_taken ON ondemand_queue (taken_at);
