-- A silo reads its range of the reminder ring every 5 minutes (Orleans' RefreshReminderListPeriod)
-- and keeps only the reminders due within its loading window (10 minutes); the rest it skips. With
-- every row returned, a silo's memory and the database's work grew with the number of idle
-- sessions, each of which has a reminder at its next refresh, hours away. The range queries now
-- return only the rows due within 20 minutes (the window, the refresh period and room for clocks
-- that disagree): a superset of what the service keeps. A reminder whose start lies in the past
-- ticks every period from then on, so it is always returned.
UPDATE orleansquery SET querytext = $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainhash > @BeginHash AND grainhash <= @EndHash
  AND starttime < now() + interval '20 minutes'
$q$ WHERE querykey = 'ReadRangeRows1Key';

UPDATE orleansquery SET querytext = $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND (grainhash > @BeginHash OR grainhash <= @EndHash)
  AND starttime < now() + interval '20 minutes'
$q$ WHERE querykey = 'ReadRangeRows2Key';

-- Finds the few rows due soon among many idle ones without reading the whole range.
CREATE INDEX orleansreminderstable_due ON orleansreminderstable (serviceid, starttime);
