-- Every reminder a range read returns starts ticking at once when it is due, and each tick activates
-- its grain, which reads its state. A million sessions come due together when the service was down
-- longer than their access tokens live: a silo then started a million activations at once, and their
-- state reads took every pooled connection from the refreshes in front of them (bench/README.md,
-- refresh --large). So the reminder table is now worked off as a queue, oldest first: a range read
-- returns the earliest-due reminders of its range (due within 20 minutes, as before), at most its share
-- of 10,000 for the whole ring (a silo reads its range as up to 30 arcs, each gets its part, and 50 at
-- least), and the silos read their ranges every 5 seconds (OrleansSilo). That bounds the reminders a
-- silo holds, and so the activations its ticks start, to about 10,000 / silos, and lets through up to
-- 2,000 ticks a second in the cluster. A reminder left out of one read is in a later one; one whose
-- grain did not move it (a tick that failed, or gave its turn up) keeps its old start and stays in front.
--
-- The ring range (@BeginHash, @EndHash] holds ((end - begin - 1) mod 2^32) + 1 hashes, 2^32 when the
-- two are equal (the whole ring); the hashes arrive as signed integers, which does not change the
-- difference modulo 2^32.
UPDATE orleansquery SET querytext = $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainhash > @BeginHash AND grainhash <= @EndHash
  AND starttime < now() + interval '20 minutes'
ORDER BY starttime
LIMIT ceil(50 + 10000 * ((((@EndHash::bigint - @BeginHash::bigint - 1) % 4294967296 + 4294967296) % 4294967296) + 1) / 4294967296.0)::bigint
$q$ WHERE querykey = 'ReadRangeRows1Key';

UPDATE orleansquery SET querytext = $q$
SELECT grainid, remindername, starttime, period, version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND (grainhash > @BeginHash OR grainhash <= @EndHash)
  AND starttime < now() + interval '20 minutes'
ORDER BY starttime
LIMIT ceil(50 + 10000 * ((((@EndHash::bigint - @BeginHash::bigint - 1) % 4294967296 + 4294967296) % 4294967296) + 1) / 4294967296.0)::bigint
$q$ WHERE querykey = 'ReadRangeRows2Key';
