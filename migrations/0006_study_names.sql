-- 0006_study_names: trial and operation ids are never handed out twice
-- under one study name, not even by a study deleted and created again
-- with the same displayName. A worker that still holds trial 12 of the
-- deleted study names it owners/O/studies/S/trials/12, exactly as the new
-- study would; so the new study's ids carry on after the old one's, and the
-- stale worker's calls find no such trial (NOT_FOUND) instead of the new
-- study's trial 12 (docs/workers.md). Triggers, so that they hold for every
-- writer and for the studies an owner's deletion removes.

-- The counters of deleted studies, by name (no foreign key: the owner may
-- be deleted and created again too).
CREATE TABLE study_names (
	owner TEXT NOT NULL,
	study_id TEXT NOT NULL,
	next_trial_id INTEGER NOT NULL,
	next_operation_id INTEGER NOT NULL,
	PRIMARY KEY (owner, study_id)
) WITHOUT ROWID;

CREATE TRIGGER studies_keep_ids AFTER DELETE ON studies
BEGIN
	INSERT OR REPLACE INTO study_names(owner, study_id, next_trial_id, next_operation_id)
	VALUES (OLD.owner, OLD.study_id,
	        max(OLD.next_trial_id, coalesce((SELECT next_trial_id FROM study_names
	                                         WHERE owner = OLD.owner AND study_id = OLD.study_id), 1)),
	        max(OLD.next_operation_id, coalesce((SELECT next_operation_id FROM study_names
	                                             WHERE owner = OLD.owner AND study_id = OLD.study_id), 1)));
END;

CREATE TRIGGER studies_resume_ids AFTER INSERT ON studies
WHEN EXISTS (SELECT 1 FROM study_names WHERE owner = NEW.owner AND study_id = NEW.study_id)
BEGIN
	UPDATE studies SET
		next_trial_id = max(next_trial_id, (SELECT next_trial_id FROM study_names
		                                    WHERE owner = NEW.owner AND study_id = NEW.study_id)),
		next_operation_id = max(next_operation_id, (SELECT next_operation_id FROM study_names
		                                            WHERE owner = NEW.owner AND study_id = NEW.study_id))
	WHERE id = NEW.id;
END;
