-- 0003_trial_seq: a per-study change counter for the trial history, so
-- that sibyld can keep a study's parsed history in memory and bring it up
-- to date by reading only the trials changed since (docs/storage.md).
-- Triggers keep it, so every writer does, whoever it is (a second sibyld,
-- the sqlite3 shell).

-- seq: bumped by every insert, relevant update and delete of a trial of
-- the study; deletes: bumped by deletes only (a cache then reloads).
-- No foreign key: a row may outlive its study by the few statements of a
-- cascading delete; study ids are never reused.
CREATE TABLE trial_seq (
	study_rowid INTEGER PRIMARY KEY NOT NULL,
	seq INTEGER NOT NULL DEFAULT 0,
	deletes INTEGER NOT NULL DEFAULT 0
);

-- The counter's value at the trial's last change (0: before this migration).
ALTER TABLE trials ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX trials_seq ON trials(study_rowid, seq);

CREATE TRIGGER trial_seq_insert AFTER INSERT ON trials
BEGIN
	INSERT INTO trial_seq(study_rowid, seq) VALUES (NEW.study_rowid, 1)
		ON CONFLICT(study_rowid) DO UPDATE SET seq = seq + 1;
	UPDATE trials SET seq = (SELECT seq FROM trial_seq WHERE study_rowid = NEW.study_rowid)
		WHERE study_rowid = NEW.study_rowid AND id = NEW.id;
END;

-- Only what the history holds: a lease renewal or a new measurement
-- changes none of it and costs no extra write.
CREATE TRIGGER trial_seq_update AFTER UPDATE ON trials
WHEN OLD.state IS NOT NEW.state OR OLD.params_json IS NOT NEW.params_json
	OR OLD.final_json IS NOT NEW.final_json OR OLD.client_id IS NOT NEW.client_id
	OR OLD.complete_json IS NOT NEW.complete_json OR OLD.end_time IS NOT NEW.end_time
BEGIN
	INSERT INTO trial_seq(study_rowid, seq) VALUES (NEW.study_rowid, 1)
		ON CONFLICT(study_rowid) DO UPDATE SET seq = seq + 1;
	UPDATE trials SET seq = (SELECT seq FROM trial_seq WHERE study_rowid = NEW.study_rowid)
		WHERE study_rowid = NEW.study_rowid AND id = NEW.id;
END;

CREATE TRIGGER trial_seq_delete AFTER DELETE ON trials
BEGIN
	UPDATE trial_seq SET seq = seq + 1, deletes = deletes + 1
		WHERE study_rowid = OLD.study_rowid;
END;

CREATE TRIGGER trial_seq_study_delete AFTER DELETE ON studies
BEGIN
	DELETE FROM trial_seq WHERE study_rowid = OLD.id;
END;
