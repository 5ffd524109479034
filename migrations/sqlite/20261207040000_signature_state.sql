-- What the admission webhook decides from, versioned: every change to the clusters' tokens, the
-- policies and their witnesses, the keys' states and versions, the stored signatures, an
-- account's edition or its authorizations adds one to `signature_state.version`, in the same
-- transaction (by triggers, whichever code path makes the change). Each console keeps what it
-- read for the webhook (hook callers, enabled policies, the signers of each image) under the
-- version it read, and reads the version, one row, per AdmissionReview: a change takes effect
-- on the next review on every replica. The signing API keeps the keys it signs with the same
-- way (a key's state, alias, usage or primary version counts). Writes that change neither (a
-- hook's last-seen time, image rows and runs, a key's description) do not count.
CREATE TABLE signature_state (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO signature_state (id, version) VALUES (1, 0);
CREATE TRIGGER sig_clusters_signature_version_insert AFTER INSERT ON sig_clusters BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_clusters_signature_version_delete AFTER DELETE ON sig_clusters BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_clusters_signature_version_update AFTER UPDATE OF account_id, token_hash ON sig_clusters BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policies_signature_version_insert AFTER INSERT ON sig_policies BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policies_signature_version_delete AFTER DELETE ON sig_policies BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policies_signature_version_update AFTER UPDATE ON sig_policies BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policy_witnesses_signature_version_insert AFTER INSERT ON sig_policy_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policy_witnesses_signature_version_delete AFTER DELETE ON sig_policy_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_policy_witnesses_signature_version_update AFTER UPDATE ON sig_policy_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_witnesses_signature_version_insert AFTER INSERT ON sig_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_witnesses_signature_version_delete AFTER DELETE ON sig_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_witnesses_signature_version_update AFTER UPDATE ON sig_witnesses BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_keys_signature_version_insert AFTER INSERT ON kms_keys BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_keys_signature_version_delete AFTER DELETE ON kms_keys BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_keys_signature_version_update AFTER UPDATE OF state, alias, usage, primary_version ON kms_keys BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_key_versions_signature_version_insert AFTER INSERT ON kms_key_versions BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_key_versions_signature_version_delete AFTER DELETE ON kms_key_versions BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER kms_key_versions_signature_version_update AFTER UPDATE ON kms_key_versions BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_signatures_signature_version_insert AFTER INSERT ON sig_signatures BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_signatures_signature_version_delete AFTER DELETE ON sig_signatures BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER sig_signatures_signature_version_update AFTER UPDATE ON sig_signatures BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER accounts_signature_version_insert AFTER INSERT ON accounts BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER accounts_signature_version_delete AFTER DELETE ON accounts BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER accounts_signature_version_update AFTER UPDATE OF edition ON accounts BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER authorizations_signature_version_insert AFTER INSERT ON authorizations BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER authorizations_signature_version_delete AFTER DELETE ON authorizations BEGIN UPDATE signature_state SET version = version + 1; END;
CREATE TRIGGER authorizations_signature_version_update AFTER UPDATE ON authorizations BEGIN UPDATE signature_state SET version = version + 1; END;
