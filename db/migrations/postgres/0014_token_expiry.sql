-- API tokens end: each gets an expiry (90 days from creation for tokens
-- issued before this migration).
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
-- SQLite's strftime('%Y-%m-%dT%H:%M:%SZ', created_at, '+90 days'): whole
-- seconds, UTC.
UPDATE api_tokens SET expires_at = to_char((created_at::timestamptz AT TIME ZONE 'UTC') + interval '90 days',
                                           'YYYY-MM-DD"T"HH24:MI:SS"Z"');
