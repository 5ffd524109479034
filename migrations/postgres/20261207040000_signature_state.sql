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
    version BIGINT  NOT NULL
);
INSERT INTO signature_state (id, version) VALUES (1, 0);
CREATE FUNCTION signature_state_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE signature_state SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER sig_clusters_signature_version AFTER INSERT OR DELETE OR UPDATE OF account_id, token_hash ON sig_clusters FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER sig_policies_signature_version AFTER INSERT OR DELETE OR UPDATE ON sig_policies FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER sig_policy_witnesses_signature_version AFTER INSERT OR DELETE OR UPDATE ON sig_policy_witnesses FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER sig_witnesses_signature_version AFTER INSERT OR DELETE OR UPDATE ON sig_witnesses FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER kms_keys_signature_version AFTER INSERT OR DELETE OR UPDATE OF state, alias, usage, primary_version ON kms_keys FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER kms_key_versions_signature_version AFTER INSERT OR DELETE OR UPDATE ON kms_key_versions FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER sig_signatures_signature_version AFTER INSERT OR DELETE OR UPDATE ON sig_signatures FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER accounts_signature_version AFTER INSERT OR DELETE OR UPDATE OF edition ON accounts FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
CREATE TRIGGER authorizations_signature_version AFTER INSERT OR DELETE OR UPDATE ON authorizations FOR EACH STATEMENT EXECUTE FUNCTION signature_state_bump();
