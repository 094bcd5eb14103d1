-- Delivery of the outbox. secret marks a message whose body holds a
-- single-use link (an invitation, a password reset): its body is erased
-- once the message is sent and never shown in the console. via says how a
-- sent message left: 'smtp' (accepted by the mail server) or 'log'
-- (no mail server set up: written to the server log). leased_until is set
-- while a sender holds the message (its claim's lease), NULL otherwise.
ALTER TABLE outbox ADD COLUMN secret BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN via TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN leased_until TEXT;
