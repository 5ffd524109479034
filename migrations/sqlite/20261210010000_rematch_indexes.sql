-- The fleet tick asks every 15 s whether an import made any stored inventory stale. With these
-- two indexes the answer in the steady state (none) is three index lookups; before, the question
-- read every inventory row, and on SQLite each row's packages (about 100 KB, stored before
-- `matched_at`) were walked page by page to reach the column.
CREATE INDEX asset_inventories_matched ON asset_inventories (matched_at);
CREATE INDEX advisories_imported ON advisories (imported_at);
