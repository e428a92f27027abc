-- One-time OAuth `state` values of re-authorisation flows: a callback consumes its row, so a state cannot
-- be replayed, on any instance.
CREATE TABLE oauth_states (
    nonce      TEXT PRIMARY KEY NOT NULL,
    member_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
