-- The language each user chose in the console (a tag such as 'en' or 'zh-CN'); NULL until they
-- choose, when the browser's Accept-Language decides.
ALTER TABLE users ADD COLUMN locale TEXT;
