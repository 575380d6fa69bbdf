-- The tenants' audit trail (ITenantEventLog, docs/design.md §6 "Events"). Listed newest first per tenant
-- life, filtered by type, connection or user; rows older than 30 days are deleted by the housekeeping.
CREATE TABLE broker_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   text        NOT NULL,
    incarnation text        NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    type        text        NOT NULL,
    connection  text        NULL,
    user_id     text        NULL,
    session_id  text        NULL,
    detail      jsonb       NOT NULL
);

CREATE INDEX broker_events_tenant ON broker_events (tenant_id, incarnation, id DESC);
CREATE INDEX broker_events_at ON broker_events (at);
