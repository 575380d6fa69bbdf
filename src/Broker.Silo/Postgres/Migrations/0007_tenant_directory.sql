-- Which tenants exist (ITenantDirectory), for GET /admin/tenants. Ids compare byte by byte ("C"), the
-- order the Memory directory and the paging cursor use. The tenants created before this table are
-- read from their grain state: the active ones (status 1, Active).
CREATE TABLE broker_tenants (
    tenant_id  text COLLATE "C" PRIMARY KEY,
    added_at   timestamptz NOT NULL DEFAULT now()
);

INSERT INTO broker_tenants (tenant_id)
SELECT substr(grainidextensionstring, 3)
FROM orleansstorage
WHERE graintypestring = 'tenant' AND grainidextensionstring LIKE 't:%'
  AND convert_from(payloadbinary, 'UTF8')::jsonb ->> 'status' IN ('1', 'Active')
ON CONFLICT (tenant_id) DO NOTHING;
