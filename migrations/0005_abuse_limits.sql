-- 0005_abuse_limits: what keeps one tenant from hurting the others
-- (docs/admin.md "Limits and abuse"): a quota on API keys, audit-log
-- retention counted per owner, repeated refusals folded into one entry,
-- and the secret that seals page tokens.

-- ACTIVE (not revoked) keys an owner may have; 0 means no limit. Enforced
-- like the other quotas, inside the transaction that makes the key; the
-- message starts "quota " so that the store answers RESOURCE_EXHAUSTED.
ALTER TABLE owners ADD COLUMN max_api_keys INTEGER NOT NULL DEFAULT 100
	CHECK (max_api_keys >= 0);

CREATE TRIGGER quota_max_api_keys BEFORE INSERT ON api_keys
WHEN (SELECT max_api_keys FROM owners WHERE id = NEW.owner) > 0
	AND (SELECT count(*) FROM api_keys WHERE owner = NEW.owner AND revoke_time = 0)
		>= (SELECT max_api_keys FROM owners WHERE id = NEW.owner)
BEGIN
	SELECT RAISE(ABORT, 'quota maxApiKeys reached: the owner has as many active API keys as its quota allows');
END;

-- An entry may stand for several identical refusals (same key, route and
-- status within a minute): count of them, the time of the last one.
ALTER TABLE audit_log ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit_log ADD COLUMN last_time INTEGER NOT NULL DEFAULT 0;

-- Entries per owner, kept by triggers, so that the store can keep each
-- owner's newest entries without counting them (one tenant's flood then
-- only pushes out its own history).
CREATE TABLE audit_counts (
	owner TEXT PRIMARY KEY NOT NULL,
	n INTEGER NOT NULL
);
INSERT INTO audit_counts(owner, n) SELECT owner, count(*) FROM audit_log GROUP BY owner;

CREATE TRIGGER audit_count_insert AFTER INSERT ON audit_log
BEGIN
	INSERT INTO audit_counts(owner, n) VALUES (NEW.owner, 1)
		ON CONFLICT(owner) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER audit_count_delete AFTER DELETE ON audit_log
BEGIN
	UPDATE audit_counts SET n = n - 1 WHERE owner = OLD.owner;
END;

-- Server secrets shared by every sibyld on this file (page tokens are
-- sealed with 'page_token', so that any of them reads the others' tokens).
CREATE TABLE secrets (
	name TEXT PRIMARY KEY NOT NULL,
	value BLOB NOT NULL
);
