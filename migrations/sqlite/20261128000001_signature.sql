-- Container signature: the key management service (keys and their versions, private keys sealed
-- under a per-version data key that the master key wraps), clusters with their admission hook,
-- witnesses, security policies, images with their signatures, registries, and every admission
-- decision.

CREATE TABLE kms_keys (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key_id          TEXT    NOT NULL UNIQUE,
    alias           TEXT,
    description     TEXT    NOT NULL DEFAULT '',
    spec            TEXT    NOT NULL CHECK (spec IN ('RSA_2048', 'RSA_3072', 'EC_P256')),
    usage           TEXT    NOT NULL CHECK (usage IN ('SIGN/VERIFY', 'ENCRYPT/DECRYPT')),
    state           TEXT    NOT NULL CHECK (state IN ('enabled', 'disabled', 'pending_deletion')),
    primary_version INTEGER NOT NULL,
    deletion_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE UNIQUE INDEX kms_keys_alias ON kms_keys (account_id, alias) WHERE alias IS NOT NULL;
CREATE INDEX kms_keys_deletion ON kms_keys (deletion_at) WHERE deletion_at IS NOT NULL;

CREATE TABLE kms_key_versions (
    id                    INTEGER PRIMARY KEY,
    key_row               INTEGER NOT NULL REFERENCES kms_keys (id) ON DELETE CASCADE,
    version               INTEGER NOT NULL,
    public_key            TEXT    NOT NULL,
    fingerprint           TEXT    NOT NULL,
    wrapped_data_key      TEXT    NOT NULL,
    encrypted_private_key TEXT    NOT NULL,
    created_at            INTEGER NOT NULL,
    UNIQUE (key_row, version)
);

-- The hook's token is kept twice: hashed to check the API server's calls, and sealed so that an
-- admin can see it again in the hook's configuration.
CREATE TABLE sig_clusters (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    namespaces   TEXT    NOT NULL DEFAULT '[]',
    token_hash   TEXT    NOT NULL UNIQUE,
    token_sealed TEXT    NOT NULL,
    hook_seen_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE sig_witnesses (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    key_row     INTEGER NOT NULL REFERENCES kms_keys (id),
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

CREATE TABLE sig_policies (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    cluster_id    INTEGER NOT NULL REFERENCES sig_clusters (id),
    namespaces    TEXT    NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    mode          TEXT    NOT NULL CHECK (mode IN ('enforce', 'warn')),
    witness_match TEXT    NOT NULL CHECK (witness_match IN ('all', 'any')),
    remarks       TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX sig_policies_cluster ON sig_policies (cluster_id);

CREATE TABLE sig_policy_witnesses (
    policy_id  INTEGER NOT NULL REFERENCES sig_policies (id) ON DELETE CASCADE,
    witness_id INTEGER NOT NULL REFERENCES sig_witnesses (id),
    PRIMARY KEY (policy_id, witness_id)
);
CREATE INDEX sig_policy_witnesses_witness ON sig_policy_witnesses (witness_id);

-- An image is a repository and a digest ('' for a reference met by tag only).
CREATE TABLE sig_images (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    repository    TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    tags          TEXT    NOT NULL DEFAULT '[]',
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    UNIQUE (account_id, repository, digest)
);

CREATE TABLE sig_signatures (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    image_id        INTEGER NOT NULL REFERENCES sig_images (id) ON DELETE CASCADE,
    key_version_id  INTEGER NOT NULL REFERENCES kms_key_versions (id) ON DELETE CASCADE,
    witness_name    TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    signature       TEXT    NOT NULL,
    signed_by       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    published_at    INTEGER,
    published_tag   TEXT,
    publish_error   TEXT,
    UNIQUE (image_id, key_version_id)
);
CREATE INDEX sig_signatures_account ON sig_signatures (account_id, created_at);

-- Where an image ran: the clusters and namespaces whose admission requests named it.
CREATE TABLE sig_image_runs (
    image_id     INTEGER NOT NULL REFERENCES sig_images (id) ON DELETE CASCADE,
    cluster_id   INTEGER NOT NULL REFERENCES sig_clusters (id) ON DELETE CASCADE,
    namespace    TEXT    NOT NULL,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (image_id, cluster_id, namespace)
);

CREATE TABLE sig_registries (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    host            TEXT    NOT NULL,
    username        TEXT    NOT NULL DEFAULT '',
    password_sealed TEXT,
    plain_http      INTEGER NOT NULL DEFAULT 0 CHECK (plain_http IN (0, 1)),
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, host)
);

CREATE TABLE sig_decisions (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    cluster_id INTEGER NOT NULL REFERENCES sig_clusters (id) ON DELETE CASCADE,
    namespace  TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    operation  TEXT    NOT NULL,
    images     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('allowed', 'denied', 'warned')),
    reason     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX sig_decisions_account ON sig_decisions (account_id, created_at);
