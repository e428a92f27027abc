-- Manager sessions (the iframe's user tokens, sealed), the refresh lease that serialises refreshes across
-- instances, and the log of REST calls that Bitrix24's marketplace rules ask for.

ALTER TABLE portals ADD COLUMN refresh_claimed_until BIGINT;

CREATE TABLE sessions (
    id                    TEXT PRIMARY KEY NOT NULL,
    member_id             TEXT NOT NULL REFERENCES portals (member_id) ON DELETE CASCADE,
    user_id               BIGINT NOT NULL,
    user_name             TEXT NOT NULL DEFAULT '',
    lang                  TEXT NOT NULL DEFAULT 'en',
    is_admin              BIGINT NOT NULL DEFAULT 0,
    access_token          TEXT,
    refresh_token         TEXT,
    expires_at            BIGINT NOT NULL,
    token_version         BIGINT NOT NULL DEFAULT 1,
    refresh_claimed_until BIGINT,
    created_at            BIGINT NOT NULL,
    ends_at               BIGINT NOT NULL
);

CREATE INDEX sessions_by_end ON sessions (ends_at);

CREATE TABLE rest_log (
    id          BIGSERIAL PRIMARY KEY,
    member_id   TEXT NOT NULL,
    user_id     BIGINT,
    method      TEXT NOT NULL,
    params      TEXT NOT NULL,
    http_status BIGINT NOT NULL,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE INDEX rest_log_by_time ON rest_log (at);
CREATE INDEX rest_log_by_portal ON rest_log (member_id, at);
