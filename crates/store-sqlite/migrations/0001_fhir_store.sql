-- The FHIR resource store: current versions, every version, and search indexes.
-- Times are microseconds since the Unix epoch (UTC). `content` holds the resource JSON as
-- bytes so that it can later be stored encrypted without a schema change.

CREATE TABLE resources (
    rid INTEGER PRIMARY KEY,
    res_type TEXT NOT NULL,
    res_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    content BLOB NOT NULL,
    UNIQUE (res_type, res_id)
);
CREATE INDEX resources_type_updated ON resources (res_type, last_updated);

CREATE TABLE resource_versions (
    rid INTEGER NOT NULL REFERENCES resources (rid),
    version INTEGER NOT NULL,
    last_updated INTEGER NOT NULL,
    deleted BOOLEAN NOT NULL,
    method TEXT NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (rid, version)
);
CREATE INDEX resource_versions_updated ON resource_versions (last_updated);

CREATE TABLE idx_string (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    value TEXT NOT NULL,
    exact TEXT NOT NULL
);
CREATE INDEX idx_string_lookup ON idx_string (res_type, param, value);
CREATE INDEX idx_string_rid ON idx_string (rid);

CREATE TABLE idx_token (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    system TEXT,
    code TEXT
);
CREATE INDEX idx_token_lookup ON idx_token (res_type, param, code, system);
CREATE INDEX idx_token_rid ON idx_token (rid);

CREATE TABLE idx_reference (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    target_type TEXT,
    target_id TEXT,
    url TEXT
);
CREATE INDEX idx_reference_lookup ON idx_reference (res_type, param, target_id, target_type);
CREATE INDEX idx_reference_target ON idx_reference (target_type, target_id);
CREATE INDEX idx_reference_rid ON idx_reference (rid);

CREATE TABLE idx_date (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    start_ts INTEGER NOT NULL,
    end_ts INTEGER NOT NULL
);
CREATE INDEX idx_date_lookup ON idx_date (res_type, param, start_ts);
-- Ranges are compared at both ends (ge/gt use the end).
CREATE INDEX idx_date_end ON idx_date (res_type, param, end_ts);
CREATE INDEX idx_date_rid ON idx_date (rid);

CREATE TABLE idx_number (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    low REAL NOT NULL,
    high REAL NOT NULL
);
CREATE INDEX idx_number_lookup ON idx_number (res_type, param, low);
CREATE INDEX idx_number_high ON idx_number (res_type, param, high);
CREATE INDEX idx_number_rid ON idx_number (rid);

CREATE TABLE idx_quantity (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    low REAL NOT NULL,
    high REAL NOT NULL,
    system TEXT,
    code TEXT
);
CREATE INDEX idx_quantity_lookup ON idx_quantity (res_type, param, low);
CREATE INDEX idx_quantity_high ON idx_quantity (res_type, param, high);
CREATE INDEX idx_quantity_rid ON idx_quantity (rid);

CREATE TABLE idx_uri (
    rid INTEGER NOT NULL,
    res_type TEXT NOT NULL,
    param TEXT NOT NULL,
    uri TEXT NOT NULL
);
CREATE INDEX idx_uri_lookup ON idx_uri (res_type, param, uri);
CREATE INDEX idx_uri_rid ON idx_uri (rid);
