DROP TABLE users.mail_requests;
DROP TABLE users.account_tokens;
ALTER TABLE users.users DROP COLUMN pending_email, DROP COLUMN email_verified;
