-- People and systems that use Carefront, and the record of what they did. These have no home
-- in FHIR, so they are plain tables. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE accounts (
    id TEXT COLLATE "C" PRIMARY KEY,
    email TEXT COLLATE "C" NOT NULL UNIQUE,
    role TEXT COLLATE "C" NOT NULL,
    display_name TEXT COLLATE "C" NOT NULL,
    password_hash TEXT COLLATE "C" NOT NULL,
    email_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    -- The FHIR resource this account is: Patient/… for a patient, Practitioner/… for staff.
    fhir_ref TEXT COLLATE "C",
    -- Staff second factor: base32 TOTP secret and the last time step accepted (no replay).
    totp_secret TEXT COLLATE "C",
    totp_last_step BIGINT,
    locale TEXT COLLATE "C" NOT NULL DEFAULT 'en',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Failed sign-ins per key (account email or source address), for throttling and lockout.
CREATE TABLE login_failures (
    throttle_key TEXT COLLATE "C" NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (throttle_key, at);

-- Browser sessions; only a hash of the cookie value is stored.
CREATE TABLE sessions (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    csrf_token TEXT COLLATE "C" NOT NULL,
    -- A session that passed the password but still owes its TOTP code.
    second_factor_pending BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- One-time links: email confirmation and password reset; only a hash is stored.
CREATE TABLE one_time_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    purpose TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- OAuth2 clients (client credentials) and the bearer tokens issued to them.
CREATE TABLE oauth_clients (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    secret_hash TEXT COLLATE "C" NOT NULL,
    scopes TEXT COLLATE "C" NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE TABLE access_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    client_id TEXT COLLATE "C" NOT NULL REFERENCES oauth_clients (id),
    scopes TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Mail waiting to be sent (SMTP when configured; otherwise shown in the operator's mailbox).
CREATE TABLE mail_outbox (
    id TEXT COLLATE "C" PRIMARY KEY,
    to_address TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    body_text TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX mail_outbox_created ON mail_outbox (created_at);

-- Every read and write of a resource: who, what, action, outcome, when, from where. Each
-- entry carries the hash of the previous one, so a changed or removed entry breaks the chain.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    actor_role TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    resource_type TEXT COLLATE "C",
    resource_id TEXT COLLATE "C",
    outcome TEXT COLLATE "C" NOT NULL,
    source TEXT COLLATE "C" NOT NULL,
    detail TEXT COLLATE "C" NOT NULL,
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, at);
CREATE INDEX audit_log_resource ON audit_log (resource_type, resource_id);
