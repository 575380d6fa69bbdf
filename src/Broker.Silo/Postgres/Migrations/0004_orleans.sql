-- The grains run on Microsoft Orleans from this version: its providers keep grain state, reminders
-- and cluster membership in the tables below, so the project's own runtime tables go. Their rows
-- cannot be carried over (another format, another key scheme); see docs/operations.md "Upgrade".
DROP TABLE grain_state;
DROP TABLE reminders;

-- Orleans 10.4.2 ADO.NET providers on PostgreSQL 15+ (Invariant "Npgsql"): clustering, grain
-- storage, reminders. The providers send only the query texts stored in orleansquery (read once at
-- start); their parameter names (@Name) and result column names (matched case-insensitively) are
-- the contract. Written for the parameters 10.4.2 sends, not for upstream's newer scripts.
-- Runs once, inside the migrator's transaction: no IF NOT EXISTS, no functions.

-- The providers hard-code "SELECT QueryKey, QueryText FROM OrleansQuery" (unquoted, so lower case works).
CREATE TABLE orleansquery (
    querykey  varchar(64) PRIMARY KEY,
    querytext text        NOT NULL
);

------------------------------------------------------------------------------------------------
-- Clustering. One version row per cluster (DeploymentId = ClusterId); every membership insert or
-- update bumps it conditionally in the same statement, so concurrent writers are serialised by
-- the version row lock.
------------------------------------------------------------------------------------------------
CREATE TABLE orleansmembershipversiontable (
    deploymentid varchar(150) PRIMARY KEY,
    timestamp    timestamptz  NOT NULL DEFAULT now(),
    version      integer      NOT NULL DEFAULT 0
);

CREATE TABLE orleansmembershiptable (
    deploymentid varchar(150)  NOT NULL REFERENCES orleansmembershipversiontable (deploymentid),
    address      varchar(45)   NOT NULL,
    port         integer       NOT NULL,
    generation   integer       NOT NULL,
    siloname     varchar(150)  NOT NULL,
    hostname     varchar(150)  NOT NULL,
    status       integer       NOT NULL,
    proxyport    integer       NULL,
    suspecttimes varchar(8000) NULL,
    starttime    timestamptz   NOT NULL,
    iamalivetime timestamptz   NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

INSERT INTO orleansquery (querykey, querytext) VALUES

-- Returns 1 when this call created the version row, 0 when it already existed.
('InsertMembershipVersionKey', $q$
WITH ins AS (
    INSERT INTO orleansmembershipversiontable (deploymentid) VALUES (@DeploymentId)
    ON CONFLICT DO NOTHING
    RETURNING 1)
SELECT count(*)::int FROM ins
$q$),

-- All or nothing: the version bump only happens if the etag matches AND the member is new.
('InsertMembershipKey', $q$
WITH v AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, timestamp = now()
    WHERE deploymentid = @DeploymentId AND version = @Version
      AND NOT EXISTS (SELECT 1 FROM orleansmembershiptable
                      WHERE deploymentid = @DeploymentId AND address = @Address
                        AND port = @Port AND generation = @Generation)
    RETURNING deploymentid),
m AS (
    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
    SELECT v.deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM v
    RETURNING 1)
SELECT count(*)::int FROM m
$q$),

-- Same shape: bump only if the etag matches and the member exists. Heartbeats never go backwards.
('UpdateMembershipKey', $q$
WITH v AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, timestamp = now()
    WHERE deploymentid = @DeploymentId AND version = @Version
      AND EXISTS (SELECT 1 FROM orleansmembershiptable
                  WHERE deploymentid = @DeploymentId AND address = @Address
                    AND port = @Port AND generation = @Generation)
    RETURNING deploymentid),
m AS (
    UPDATE orleansmembershiptable t
    SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = greatest(t.iamalivetime, @IAmAliveTime)
    FROM v
    WHERE t.deploymentid = v.deploymentid AND t.address = @Address
      AND t.port = @Port AND t.generation = @Generation
    RETURNING 1)
SELECT count(*)::int FROM m
$q$),

-- Heartbeat: not versioned (the protocol says so); result is not checked.
('UpdateIAmAlivetimeKey', $q$
UPDATE orleansmembershiptable
SET iamalivetime = greatest(iamalivetime, @IAmAliveTime)
WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

-- LEFT JOIN so the version row (the table etag) comes back even with no member row.
('MembershipReadRowKey', $q$
SELECT v.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime, v.version
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$q$),

('MembershipReadAllKey', $q$
SELECT v.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime, v.version
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleansmembershiptable WHERE deploymentid = @DeploymentId;
DELETE FROM orleansmembershipversiontable WHERE deploymentid = @DeploymentId
$q$),

-- Used by clients (gateway list); @Status is Active (3).
('GatewaysQueryKey', $q$
SELECT address, proxyport, generation
FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0
$q$),

-- Required at start, but 10.4.2 runs it only if CleanupDefunctSiloEntryKey is absent. Dead (6) rows only.
('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status = 6
  AND iamalivetime < @IAmAliveTime AND starttime < @IAmAliveTime
  AND coalesce(suspecttimes, '') = ''
$q$),

-- Optional in 10.4.2 and preferred when present: the provider picks expired Dead rows itself and
-- deletes each one only if it is unchanged since it read it.
('CleanupDefunctSiloEntryKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status = 6
  AND address = @Address AND port = @Port AND generation = @Generation
  AND starttime = @StartTime AND iamalivetime = @IAmAliveTime
  AND coalesce(suspecttimes, '') = coalesce(@SuspectTimes, '')
$q$);

------------------------------------------------------------------------------------------------
-- Grain storage. The etag is version. grainidhash/graintypehash are derived from the other
-- identity columns; they lead the unique index so every lookup is one index probe.
-- Upstream has no unique key, so two concurrent first writes could both insert and every later
-- read would fail; here the identity is unique and the first insert is ON CONFLICT DO NOTHING.
------------------------------------------------------------------------------------------------
CREATE TABLE orleansstorage (
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,  -- the state name, not the grain class
    grainidextensionstring varchar(512) NULL,      -- string key, or key extension
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea        NULL,      -- serializer output (UTF-8 JSON with System.Text.Json)
    modifiedon             timestamptz  NOT NULL DEFAULT now(),
    version                integer      NOT NULL
);

-- NULLS NOT DISTINCT (PostgreSQL 15+): integer/Guid keys without extension send NULL.
CREATE UNIQUE INDEX orleansstorage_identity ON orleansstorage
    (grainidhash, graintypehash, serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
    NULLS NOT DISTINCT;

INSERT INTO orleansquery (querykey, querytext) VALUES

('ReadFromStorageKey', $q$
SELECT payloadbinary, version
FROM orleansstorage
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- Null version: first write, insert or nothing. Otherwise: update only the version read.
-- No row returned => the provider throws InconsistentStateException.
('WriteToStorageKey', $q$
WITH ins AS (
    INSERT INTO orleansstorage
        (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring,
         serviceid, payloadbinary, modifiedon, version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
           @ServiceId, @PayloadBinary, now(), 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version),
upd AS (
    UPDATE orleansstorage
    SET payloadbinary = @PayloadBinary, modifiedon = now(), version = version + 1
    WHERE @GrainStateVersion IS NOT NULL
      AND grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND serviceid = @ServiceId
      AND graintypestring = @GrainTypeString AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
      AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version)
SELECT version AS newgrainstateversion FROM ins
UNION ALL
SELECT version FROM upd
$q$),

-- Keeps the row (payload NULL) so the version sequence, and so the etag check, continues.
('ClearStorageKey', $q$
UPDATE orleansstorage
SET payloadbinary = NULL, modifiedon = now(), version = version + 1
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion
RETURNING version AS newgrainstateversion
$q$),

-- Used only with AdoNetGrainStorageOptions.DeleteStateOnClear = true. Prefer false: after a delete
-- the next write starts again at version 1, so a stale activation holding etag "1" could win.
('DeleteStorageKey', $q$
DELETE FROM orleansstorage
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash AND serviceid = @ServiceId
  AND graintypestring = @GrainTypeString AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion
RETURNING version + 1 AS newgrainstateversion
$q$);

------------------------------------------------------------------------------------------------
-- Reminders. grainid is GrainId.ToString() ("type/key"); grainhash is its uniform hash as a signed
-- int, and the ring-range queries compare it in signed space (the provider picks Rows1 or Rows2).
------------------------------------------------------------------------------------------------
CREATE TABLE orleansreminderstable (
    serviceid    varchar(150) NOT NULL,
    grainid      varchar(512) NOT NULL,
    remindername varchar(150) NOT NULL,
    starttime    timestamptz  NOT NULL,
    period       bigint       NOT NULL,  -- milliseconds
    grainhash    integer      NOT NULL,
    version      integer      NOT NULL,
    PRIMARY KEY (serviceid, grainid, remindername)
);

-- Each silo reads its ring range (in buckets) every RefreshReminderListPeriod.
CREATE INDEX orleansreminderstable_hash ON orleansreminderstable (serviceid, grainhash);

INSERT INTO orleansquery (querykey, querytext) VALUES

('UpsertReminderRowKey', $q$
INSERT INTO orleansreminderstable (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = excluded.starttime, period = excluded.period, grainhash = excluded.grainhash,
    version = orleansreminderstable.version + 1
RETURNING version
$q$),

('ReadReminderRowsKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId
$q$),

('ReadReminderRowKey', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName
$q$),

-- Range that does not wrap in signed order: (begin, end].
('ReadRangeRows1Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainhash > @BeginHash AND grainhash <= @EndHash
$q$),

-- Range that wraps (or the whole ring when begin = end).
('ReadRangeRows2Key', $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND (grainhash > @BeginHash OR grainhash <= @EndHash)
$q$),

-- Returns the number of rows deleted (read as a boolean).
('DeleteReminderRowKey', $q$
WITH del AS (
    DELETE FROM orleansreminderstable
    WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName
      AND version = @Version
    RETURNING 1)
SELECT count(*)::int FROM del
$q$),

('DeleteReminderRowsKey', $q$
DELETE FROM orleansreminderstable WHERE serviceid = @ServiceId
$q$);
