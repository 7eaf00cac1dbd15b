-- Guardrails become allow-lists (issue 18): which capabilities and devices non-admins may add,
-- which non-local volume drivers and which network drivers beyond bridge/overlay they may use,
-- and whether binds under the allowed prefixes may be writable (read-only unless set).
ALTER TABLE host_guardrails ADD COLUMN cap_allow TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_guardrails ADD COLUMN device_allow TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_guardrails ADD COLUMN volume_drivers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_guardrails ADD COLUMN network_drivers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE host_guardrails ADD COLUMN bind_writable INTEGER NOT NULL DEFAULT 0 CHECK (bind_writable IN (0, 1));
-- "Added capabilities: yes" becomes the capabilities that do not reach past the container
-- (guardrails::COMMON_CAPS); "devices: yes" becomes /dev/fuse. Admins widen the lists.
UPDATE host_guardrails SET cap_allow = '["NET_ADMIN","NET_RAW","NET_BIND_SERVICE","SYS_NICE","SYS_RESOURCE","SYS_PTRACE","IPC_LOCK","AUDIT_WRITE","KILL","CHOWN","SETUID","SETGID"]' WHERE cap_add = 1;
UPDATE host_guardrails SET device_allow = '["/dev/fuse"]' WHERE devices = 1;
