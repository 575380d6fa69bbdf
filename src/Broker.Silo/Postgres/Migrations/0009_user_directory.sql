-- The tenants' user directory (IUserDirectory, docs/design.md §6 "Users and identities"): a projection the
-- user grains write after each change they make, one row per user, so that a change is one statement.
-- `position` is the order users were first written in, the list's order and its paging key, so a page
-- boundary never moves while users are added. The identities are two arrays of one length
-- (connections[i], subjects[i]), in the order the user gained them.
CREATE TABLE broker_users (
    user_id       text PRIMARY KEY,
    tenant_id     text        NOT NULL,
    incarnation   text        NOT NULL,
    position      bigint      GENERATED ALWAYS AS IDENTITY,
    name          text        NULL,
    email         text        NULL,
    avatar_url    text        NULL,
    blocked       boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NULL,
    connections   text[]      NOT NULL,
    subjects      text[]      NOT NULL
);

CREATE UNIQUE INDEX broker_users_tenant ON broker_users (tenant_id, incarnation, position);
-- q matches the start of the name or e-mail, case-insensitive, or a subject exactly; connection= keeps
-- the users with an identity there.
CREATE INDEX broker_users_name ON broker_users (tenant_id, incarnation, lower(name) text_pattern_ops);
CREATE INDEX broker_users_email ON broker_users (tenant_id, incarnation, lower(email) text_pattern_ops);
CREATE INDEX broker_users_subjects ON broker_users USING gin (subjects);
CREATE INDEX broker_users_connections ON broker_users USING gin (connections);
