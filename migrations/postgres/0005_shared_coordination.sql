-- What several instances on one database coordinate through: a lease per call list (one save at a time,
-- on any instance), each portal's request bucket, and the methods a portal has blocked for their
-- operating time. Times of the bucket and the blocks are the database's clock, in seconds, so instances
-- with drifting clocks still agree.
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
