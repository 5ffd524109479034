-- Keyset paging of the Assets list reads (name, id) > (cursor) in order: with the id in the
-- index that is one range scan, not a scan of the name range followed by a sort of ties.
-- (SQLite's index already ends with the rowid, which is the id.)
CREATE INDEX assets_account_name_id ON assets (account_id, name, id);
DROP INDEX assets_account_name;
