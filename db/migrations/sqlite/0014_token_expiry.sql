-- API tokens end: each gets an expiry (90 days from creation for tokens
-- issued before this migration).
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
UPDATE api_tokens SET expires_at = strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+90 days');
