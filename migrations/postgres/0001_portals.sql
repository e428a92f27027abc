-- Installed portals and their sealed tokens; an audit log of changes made through the app.
-- Times are unix seconds. Sealed columns hold `v1.KEYID.DATA` text (see src/store/seal.rs), never a token.

CREATE TABLE portals (
    member_id         TEXT PRIMARY KEY NOT NULL,
    domain            TEXT NOT NULL,
    client_endpoint   TEXT NOT NULL,
    server_endpoint   TEXT NOT NULL,
    scope             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL,
    status_reason     TEXT NOT NULL DEFAULT '',
    application_token TEXT,
    access_token      TEXT,
    refresh_token     TEXT,
    expires_at        BIGINT,
    token_version     BIGINT NOT NULL DEFAULT 0,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id        BIGSERIAL PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES portals (member_id) ON DELETE CASCADE,
    at        BIGINT NOT NULL,
    user_id   BIGINT,
    user_name TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    list_id   BIGINT,
    details   TEXT NOT NULL DEFAULT '{}',
    outcome   TEXT NOT NULL
);

CREATE INDEX audit_log_by_portal ON audit_log (member_id, at);
CREATE INDEX audit_log_by_list ON audit_log (member_id, list_id, at);
