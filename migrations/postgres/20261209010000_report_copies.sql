-- A report goes to each recipient in their language: one copy per language a delivery's
-- recipients read, each with its own document and its own send. `sent_to` lists the addresses a
-- copy reached, so a retry sends only to the rest and nobody gets a report twice.
CREATE TABLE report_delivery_copies (
    delivery_id  BIGINT NOT NULL REFERENCES report_deliveries (id) ON DELETE CASCADE,
    language     TEXT   NOT NULL,
    archive_id   BIGINT REFERENCES report_archive (id) ON DELETE SET NULL,
    recipients   TEXT   NOT NULL DEFAULT '',
    sent_to      TEXT   NOT NULL DEFAULT '',
    sent_at      BIGINT,
    server_reply TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (delivery_id, language)
);
-- The language an archived document is written in, for the archive's list.
ALTER TABLE report_archive ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
UPDATE report_archive SET language = COALESCE(document::json ->> 'language', 'en');
-- Deliveries from before: one copy in the language of their document.
INSERT INTO report_delivery_copies (delivery_id, language, archive_id, recipients, sent_to, sent_at, server_reply)
SELECT d.id, a.language, d.archive_id, d.recipients, CASE WHEN d.status = 'sent' THEN d.recipients ELSE '' END, d.sent_at, d.server_reply
FROM report_deliveries d JOIN report_archive a ON a.id = d.archive_id;
