-- Asset search without scanning the account: pg_trgm GIN indexes answer `LIKE '%q%'` for any
-- substring of 3 or more characters (pg_trgm is a trusted extension: the database's owner may
-- create it), and text_pattern_ops indexes answer the prefix match that shorter queries fall
-- back to.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX assets_name_trgm ON assets USING gin (lower(name) gin_trgm_ops);
CREATE INDEX assets_ips_trgm ON assets USING gin (ips gin_trgm_ops);
CREATE INDEX assets_instance_trgm ON assets USING gin (lower(instance_id) gin_trgm_ops);

CREATE INDEX assets_name_prefix ON assets (account_id, lower(name) text_pattern_ops);
CREATE INDEX assets_instance_prefix ON assets (account_id, lower(instance_id) text_pattern_ops);
CREATE INDEX assets_ips_prefix ON assets (account_id, ips text_pattern_ops);
