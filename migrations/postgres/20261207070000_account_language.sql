-- The language of an account's scheduled reports and notifications sent to addresses that are
-- not users with a language of their own: 'en' or 'zh-CN'.
ALTER TABLE accounts ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
