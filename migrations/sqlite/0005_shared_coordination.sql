-- A lease per call list, so one save at a time changes a list. On SQLite (one instance) the request bucket
-- stays in the process; the table exists so both engines share one schema.
CREATE TABLE list_leases (
    member_id  TEXT NOT NULL,
    list_id    BIGINT NOT NULL,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (member_id, list_id)
);

CREATE TABLE portal_buckets (
    member_id  TEXT PRIMARY KEY NOT NULL,
    level      DOUBLE PRECISION NOT NULL,
    drained_at DOUBLE PRECISION NOT NULL
);

CREATE TABLE method_blocks (
    member_id TEXT NOT NULL,
    method    TEXT NOT NULL,
    until_s   DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (member_id, method)
);
