-- Which sessions each life of a tenant has (ISessionIndex): what deleting a tenant walks to end and
-- revoke every one of its sessions, and what broker_sessions_active counts. A row comes with the
-- session, is marked when the session ends and goes with its purge.
CREATE TABLE broker_sessions (
    session_id  text        PRIMARY KEY,
    tenant_id   text        NOT NULL,
    incarnation text        NOT NULL,
    connection  text        NOT NULL,
    user_id     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz NULL
);

CREATE INDEX broker_sessions_tenant ON broker_sessions (tenant_id, incarnation);
CREATE INDEX broker_sessions_active ON broker_sessions (session_id) WHERE ended_at IS NULL;
