-- discord-oauth session stores (PostgreSQL), run at every start inside a transaction holding an
-- advisory lock (processes starting at once apply it one after the other); every statement is
-- idempotent (IF NOT EXISTS). Every name starts with discord_oauth_, to share an app's database.
-- Times are Unix seconds (refresh_leases.until_ms: Unix milliseconds), as BIGINT.

-- Session records: `record` is the postcard-encoded SessionRecord and holds the user's
-- access and refresh tokens in the clear.
CREATE TABLE IF NOT EXISTS discord_oauth_sessions (
    id          BYTEA   PRIMARY KEY NOT NULL,
    version     BIGINT  NOT NULL,
    user_id     BIGINT,
    expires_at  BIGINT  NOT NULL,
    record      BYTEA   NOT NULL
);
CREATE INDEX IF NOT EXISTS discord_oauth_sessions_user_id ON discord_oauth_sessions (user_id);
CREATE INDEX IF NOT EXISTS discord_oauth_sessions_expires_at ON discord_oauth_sessions (expires_at);

-- Logged-out session ids.
CREATE TABLE IF NOT EXISTS discord_oauth_revoked (
    id     BYTEA   PRIMARY KEY NOT NULL,
    until  BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS discord_oauth_revoked_until ON discord_oauth_revoked (until);

-- Users who deauthorized the application: their sessions created at or before `at` are
-- revoked; the row is dead at `until` (when every such session has passed its lifetime).
CREATE TABLE IF NOT EXISTS discord_oauth_revoked_users (
    user_id  BIGINT  PRIMARY KEY NOT NULL,
    at       BIGINT  NOT NULL,
    until    BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS discord_oauth_revoked_users_until ON discord_oauth_revoked_users (until);

-- Login states already accepted (16-byte fingerprints, never the state itself).
CREATE TABLE IF NOT EXISTS discord_oauth_used_states (
    hash   BYTEA   PRIMARY KEY NOT NULL,
    until  BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS discord_oauth_used_states_until ON discord_oauth_used_states (until);

-- Refresh leases: one owner per session fingerprint until `until_ms`.
CREATE TABLE IF NOT EXISTS discord_oauth_refresh_leases (
    key       BYTEA   PRIMARY KEY NOT NULL,
    owner     BYTEA   NOT NULL,
    until_ms  BIGINT  NOT NULL
);

-- Rotated refresh tokens: the sealed (AES-256-GCM) record that replaced one, for a short grace.
CREATE TABLE IF NOT EXISTS discord_oauth_rotations (
    key     BYTEA   PRIMARY KEY NOT NULL,
    sealed  BYTEA   NOT NULL,
    until   BIGINT  NOT NULL
);
CREATE INDEX IF NOT EXISTS discord_oauth_rotations_until ON discord_oauth_rotations (until);
