-- discord-oauth session stores (PostgreSQL). sqlx holds an advisory lock while migrating, so
-- processes starting at once apply this once; every statement is idempotent (IF NOT EXISTS) too.
-- Times are Unix seconds (refresh_leases.until_ms: Unix milliseconds), as BIGINT.

-- Session records: `record` is the postcard-encoded SessionRecord and holds the user's
-- access and refresh tokens in the clear.
CREATE TABLE IF NOT EXISTS sessions (
    id          BYTEA   PRIMARY KEY NOT NULL,
    version     BIGINT  NOT NULL,
    user_id     BIGINT,
    expires_at  BIGINT  NOT NULL,
    record      BYTEA   NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_user_id ON sessions (user_id);
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);

-- Logged-out session ids.
CREATE TABLE IF NOT EXISTS revoked (
    id     BYTEA   PRIMARY KEY NOT NULL,
    until  BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_until ON revoked (until);

-- Login states already accepted (16-byte fingerprints, never the state itself).
CREATE TABLE IF NOT EXISTS used_states (
    hash   BYTEA   PRIMARY KEY NOT NULL,
    until  BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS used_states_until ON used_states (until);

-- Refresh leases: one owner per session fingerprint until `until_ms`.
CREATE TABLE IF NOT EXISTS refresh_leases (
    key       BYTEA   PRIMARY KEY NOT NULL,
    owner     BYTEA   NOT NULL,
    until_ms  BIGINT  NOT NULL
);

-- Rotated refresh tokens: the sealed (AES-256-GCM) record that replaced one, for a short grace.
CREATE TABLE IF NOT EXISTS rotations (
    key     BYTEA   PRIMARY KEY NOT NULL,
    sealed  BYTEA   NOT NULL,
    until   BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS rotations_until ON rotations (until);
