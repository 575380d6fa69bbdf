-- Grain state: one row per grain, written conditionally on version (the etag).
CREATE TABLE grain_state (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    version     bigint      NOT NULL,
    data        jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (grain_type, grain_key)
);

-- Durable reminders. generation changes on every register/update; lease_* mark a claim by a silo.
CREATE TABLE reminders (
    grain_type  text        NOT NULL,
    grain_key   text        NOT NULL,
    name        text        NOT NULL,
    due_at      timestamptz NOT NULL,
    period_ms   bigint      NULL CHECK (period_ms > 0),
    generation  bigint      NOT NULL,
    lease_owner text        NULL,
    lease_until timestamptz NULL,
    PRIMARY KEY (grain_type, grain_key, name)
);

CREATE INDEX reminders_due_at ON reminders (due_at);
CREATE INDEX reminders_lease_owner ON reminders (lease_owner) WHERE lease_owner IS NOT NULL;
