-- Asset search without scanning the account: an FTS5 index with the trigram tokenizer (any
-- substring of 3 or more characters, case-insensitive) over each asset's name, addresses and
-- instance id, kept in step by triggers; and expression indexes for the prefix match that
-- shorter queries fall back to.
CREATE VIRTUAL TABLE assets_search USING fts5(
    name, ips, instance_id,
    content = 'assets', content_rowid = 'id', tokenize = 'trigram'
);
INSERT INTO assets_search (assets_search) VALUES ('rebuild');

CREATE TRIGGER assets_search_insert AFTER INSERT ON assets BEGIN
    INSERT INTO assets_search (rowid, name, ips, instance_id) VALUES (new.id, new.name, new.ips, new.instance_id);
END;
CREATE TRIGGER assets_search_delete AFTER DELETE ON assets BEGIN
    INSERT INTO assets_search (assets_search, rowid, name, ips, instance_id) VALUES ('delete', old.id, old.name, old.ips, old.instance_id);
END;
-- Only when a searched column really changes: heartbeats and re-ingestion touch other columns.
CREATE TRIGGER assets_search_update AFTER UPDATE OF name, ips, instance_id ON assets
WHEN old.name IS NOT new.name OR old.ips IS NOT new.ips OR old.instance_id IS NOT new.instance_id BEGIN
    INSERT INTO assets_search (assets_search, rowid, name, ips, instance_id) VALUES ('delete', old.id, old.name, old.ips, old.instance_id);
    INSERT INTO assets_search (rowid, name, ips, instance_id) VALUES (new.id, new.name, new.ips, new.instance_id);
END;

CREATE INDEX assets_name_prefix ON assets (account_id, lower(name));
CREATE INDEX assets_instance_prefix ON assets (account_id, lower(instance_id));
CREATE INDEX assets_ips_prefix ON assets (account_id, ips);
