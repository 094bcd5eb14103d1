-- API tokens for integrations, made on My profile: kind 'mobile' is the
-- app's token from POST /api/v1/tokens (needs the mobile channel);
-- 'integration' works whatever the member's channel. A read-only token
-- may only read.
ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'mobile' CHECK (kind IN ('mobile', 'integration'));
ALTER TABLE api_tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0 CHECK (read_only IN (0, 1));
