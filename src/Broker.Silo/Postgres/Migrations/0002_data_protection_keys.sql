-- The Data Protection key ring every silo shares. Each key's XML is encrypted with the master key
-- from configuration before it is stored here, so a dump of this database alone decrypts nothing.
CREATE TABLE data_protection_keys (
    friendly_name text        PRIMARY KEY,
    xml           text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
