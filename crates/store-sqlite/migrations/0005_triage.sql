-- Triage: the clinicians' queue, one row per triage RiskAssessment, kept by the triage hook
-- in the same transaction as every RiskAssessment write (derived from the resources; can be
-- rebuilt from them).
CREATE TABLE triage_queue (
    assessment_id TEXT PRIMARY KEY,
    interview_id TEXT NOT NULL,    -- the QuestionnaireResponse the assessment is based on
    patient_id TEXT NOT NULL,
    protocol TEXT NOT NULL,
    urgency BIGINT NOT NULL,      -- 3 emergency, 2 urgent, 1 routine, 0 self-care
    modality TEXT,
    raised_at BIGINT NOT NULL,     -- microseconds since the Unix epoch: when the interview finished
    waiting BIGINT NOT NULL       -- 1 until a clinician has reviewed it
);
CREATE INDEX triage_queue_waiting ON triage_queue (waiting, urgency, raised_at);
CREATE INDEX triage_queue_patient ON triage_queue (patient_id);
