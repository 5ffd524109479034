-- Resource directory and multi-account control: a management account's folders and member
-- accounts, invitations of existing accounts, and the members it watches on Multi-account Control.

ALTER TABLE accounts ADD COLUMN auto_manage INTEGER NOT NULL DEFAULT 0 CHECK (auto_manage IN (0, 1));

CREATE TABLE directory_folders (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    parent_id  INTEGER REFERENCES directory_folders (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX directory_folders_account ON directory_folders (account_id);

-- An account belongs to at most one directory.
CREATE TABLE directory_members (
    member_account_id     INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    management_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    folder_id             INTEGER REFERENCES directory_folders (id) ON DELETE SET NULL,
    joined_by             TEXT    NOT NULL CHECK (joined_by IN ('created', 'invited')),
    joined_at             INTEGER NOT NULL
);
CREATE INDEX directory_members_management ON directory_members (management_account_id);

CREATE TABLE directory_invitations (
    id                    INTEGER PRIMARY KEY,
    management_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    invitee_account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status                TEXT    NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'cancelled')),
    created_at            INTEGER NOT NULL,
    expires_at            INTEGER NOT NULL,
    responded_at          INTEGER
);
CREATE UNIQUE INDEX directory_invitations_pending ON directory_invitations (management_account_id, invitee_account_id) WHERE status = 'pending';
CREATE INDEX directory_invitations_invitee ON directory_invitations (invitee_account_id, status);

CREATE TABLE managed_accounts (
    management_account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    member_account_id     INTEGER NOT NULL REFERENCES directory_members (member_account_id) ON DELETE CASCADE,
    added_at              INTEGER NOT NULL,
    PRIMARY KEY (management_account_id, member_account_id)
);

-- A management account's report may cover its managed accounts: all of them, or chosen ones.
ALTER TABLE reports ADD COLUMN scope TEXT NOT NULL DEFAULT 'self' CHECK (scope IN ('self', 'managed', 'chosen'));
ALTER TABLE reports ADD COLUMN scope_accounts TEXT NOT NULL DEFAULT '';
