-- 0002_multiteam: API keys, owner quotas and the audit log (multi-team).
-- Owners become explicit: the admin creates them, and a study can only be
-- made under an existing owner.

-- Databases made before this change created owners implicitly with their
-- first study (foreign keys make a row exist for each, but a database
-- written with foreign keys off may lack some): give every owner that a
-- study names a real row, dated by its oldest study.
INSERT INTO owners(id, display_name, create_time)
	SELECT owner, '', min(create_time) FROM studies
	WHERE owner NOT IN (SELECT id FROM owners)
	GROUP BY owner;

-- Quotas, 0 meaning no limit. Enforced by the triggers below, inside the
-- transaction that makes the change, so that they hold however many
-- requests arrive at once. The trigger messages start with "quota " so
-- that the store can answer RESOURCE_EXHAUSTED.
ALTER TABLE owners ADD COLUMN max_studies INTEGER NOT NULL DEFAULT 0 CHECK (max_studies >= 0);
ALTER TABLE owners ADD COLUMN max_trials_per_study INTEGER NOT NULL DEFAULT 0
	CHECK (max_trials_per_study >= 0);
ALTER TABLE owners ADD COLUMN max_active_trials INTEGER NOT NULL DEFAULT 0
	CHECK (max_active_trials >= 0);
-- requests a second for each key of the owner (a token bucket in memory)
ALTER TABLE owners ADD COLUMN requests_per_second REAL NOT NULL DEFAULT 0
	CHECK (requests_per_second >= 0);

CREATE TRIGGER quota_max_studies BEFORE INSERT ON studies
WHEN (SELECT max_studies FROM owners WHERE id = NEW.owner) > 0
	AND (SELECT count(*) FROM studies WHERE owner = NEW.owner)
		>= (SELECT max_studies FROM owners WHERE id = NEW.owner)
BEGIN
	SELECT RAISE(ABORT, 'quota maxStudies reached: the owner has as many studies as its quota allows');
END;

CREATE TRIGGER quota_max_trials_per_study BEFORE INSERT ON trials
WHEN (SELECT o.max_trials_per_study FROM studies s JOIN owners o ON o.id = s.owner
      WHERE s.id = NEW.study_rowid) > 0
	AND (SELECT count(*) FROM trials WHERE study_rowid = NEW.study_rowid)
		>= (SELECT o.max_trials_per_study FROM studies s JOIN owners o ON o.id = s.owner
		    WHERE s.id = NEW.study_rowid)
BEGIN
	SELECT RAISE(ABORT, 'quota maxTrialsPerStudy reached: the study has as many trials as its owner''s quota allows');
END;

-- ACTIVE trials over all the studies of the owner: a trial made ACTIVE
-- (created so, or moved there from another state) must fit.
CREATE TRIGGER quota_max_active_insert BEFORE INSERT ON trials
WHEN NEW.state = 2
	AND (SELECT o.max_active_trials FROM studies s JOIN owners o ON o.id = s.owner
	     WHERE s.id = NEW.study_rowid) > 0
	AND (SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_rowid
	     WHERE s.owner = (SELECT owner FROM studies WHERE id = NEW.study_rowid)
	       AND t.state = 2)
		>= (SELECT o.max_active_trials FROM studies s JOIN owners o ON o.id = s.owner
		    WHERE s.id = NEW.study_rowid)
BEGIN
	SELECT RAISE(ABORT, 'quota maxActiveTrials reached: the owner has as many ACTIVE trials as its quota allows');
END;

CREATE TRIGGER quota_max_active_update BEFORE UPDATE OF state ON trials
WHEN NEW.state = 2 AND OLD.state <> 2
	AND (SELECT o.max_active_trials FROM studies s JOIN owners o ON o.id = s.owner
	     WHERE s.id = NEW.study_rowid) > 0
	AND (SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_rowid
	     WHERE s.owner = (SELECT owner FROM studies WHERE id = NEW.study_rowid)
	       AND t.state = 2)
		>= (SELECT o.max_active_trials FROM studies s JOIN owners o ON o.id = s.owner
		    WHERE s.id = NEW.study_rowid)
BEGIN
	SELECT RAISE(ABORT, 'quota maxActiveTrials reached: the owner has as many ACTIVE trials as its quota allows');
END;

-- API keys: the secret is never stored, only a salt and
-- BLAKE2b-256(key, key = salt) (server/service/auth.h). A revoked key keeps its row
-- (revoke_time > 0) so that the audit log's key ids keep their meaning;
-- deleting the owner deletes its keys.
CREATE TABLE api_keys (
	keyid TEXT PRIMARY KEY NOT NULL,
	owner TEXT NOT NULL REFERENCES owners(id) ON DELETE CASCADE,
	role INTEGER NOT NULL CHECK (role IN (1, 2)), -- 1 READER, 2 WRITER
	display_name TEXT NOT NULL DEFAULT '',
	salt BLOB NOT NULL CHECK (length(salt) = 16),
	hash BLOB NOT NULL CHECK (length(hash) = 32),
	create_time INTEGER NOT NULL,
	revoke_time INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_owner ON api_keys(owner, create_time);

-- Every write and admin action, whoever sent it and whatever the answer.
-- No foreign keys: entries outlive the owners and keys they name.
CREATE TABLE audit_log (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	time INTEGER NOT NULL,
	keyid TEXT NOT NULL,   -- 'admin', a key id, or '' when no key was usable
	owner TEXT NOT NULL,   -- the {owner} of the path, '' for none
	method TEXT NOT NULL,
	path TEXT NOT NULL,
	status INTEGER NOT NULL, -- the HTTP status of the answer
	error TEXT NOT NULL      -- its google.rpc status name, '' on success
);
CREATE INDEX audit_log_owner ON audit_log(owner, id);
