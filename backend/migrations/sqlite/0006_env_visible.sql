-- Environment values of containers are hidden from viewers and operators (issue 18, item 12)
-- unless the host's setting shows them; admins and the host's managers always see them.
ALTER TABLE host_guardrails ADD COLUMN env_visible INTEGER NOT NULL DEFAULT 0 CHECK (env_visible IN (0, 1));
