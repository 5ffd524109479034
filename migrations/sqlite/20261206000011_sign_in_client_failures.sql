-- Failed sign-ins per client address (any email), for the per-address limit.
CREATE TABLE sign_in_client_failures (
    id      INTEGER PRIMARY KEY,
    address TEXT    NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX sign_in_client_failures_address_at ON sign_in_client_failures (address, at);
