-- The tenants' user directory (IUserDirectory, docs/design.md §6 "Users and identities"): a projection the
-- user grains write after each change they make. `position` is the order users were first written in, the
-- list's order and its paging key, so a page boundary never moves while users are added.
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
    last_login_at timestamptz NULL
);

CREATE UNIQUE INDEX broker_users_tenant ON broker_users (tenant_id, incarnation, position);
-- q matches the start of the name or e-mail, case-insensitive.
CREATE INDEX broker_users_name ON broker_users (tenant_id, incarnation, lower(name) text_pattern_ops);
CREATE INDEX broker_users_email ON broker_users (tenant_id, incarnation, lower(email) text_pattern_ops);

CREATE TABLE broker_user_identities (
    user_id    text    NOT NULL REFERENCES broker_users (user_id) ON DELETE CASCADE,
    ordinal    integer NOT NULL,
    connection text    NOT NULL,
    subject    text    NOT NULL,
    PRIMARY KEY (user_id, connection, subject)
);

-- q also matches a subject exactly; connection= lists the users with an identity there.
CREATE INDEX broker_user_identities_subject ON broker_user_identities (subject);
CREATE INDEX broker_user_identities_connection ON broker_user_identities (connection, user_id);
