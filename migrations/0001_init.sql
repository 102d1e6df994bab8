-- 0001_init: owners, studies, trials, measurements, operations.
-- Applied by store_open() inside one transaction and recorded in
-- schema_migrations; never edit an applied migration, add 0002_*.sql.
-- Times are milliseconds since the Unix epoch; 0 means "not set".
-- JSON columns hold canonical JSON text written by the api module.

CREATE TABLE owners (
	id TEXT PRIMARY KEY NOT NULL,
	display_name TEXT NOT NULL DEFAULT '',
	create_time INTEGER NOT NULL
);

-- AUTOINCREMENT: a study id (used in page tokens and as the parent of trials)
-- is never handed out again after a delete.
CREATE TABLE studies (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	owner TEXT NOT NULL REFERENCES owners(id),
	study_id TEXT NOT NULL,
	spec_json TEXT NOT NULL,
	state INTEGER NOT NULL DEFAULT 1 CHECK (state BETWEEN 1 AND 3),
	inactive_reason TEXT,
	create_time INTEGER NOT NULL,
	last_progress_time INTEGER NOT NULL DEFAULT 0,
	-- the next trial and operation ids live here so that deleting the
	-- newest trial does not hand its id out again
	next_trial_id INTEGER NOT NULL DEFAULT 1,
	next_operation_id INTEGER NOT NULL DEFAULT 1,
	UNIQUE (owner, study_id)
);
-- list studies of an owner in id order (page tokens are ids)
CREATE INDEX studies_owner_id ON studies(owner, id);

CREATE TABLE trials (
	study_rowid INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
	id INTEGER NOT NULL,
	state INTEGER NOT NULL CHECK (state BETWEEN 1 AND 5),
	params_json TEXT NOT NULL,
	final_json TEXT,
	client_id TEXT,
	infeasible_reason TEXT,
	info_json TEXT,
	complete_json TEXT,
	start_time INTEGER NOT NULL DEFAULT 0,
	end_time INTEGER NOT NULL DEFAULT 0,
	lease_expiry INTEGER NOT NULL DEFAULT 0,
	n_measurements INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (study_rowid, id)
);
-- list/count by state; the trailing id keeps "ORDER BY id" index-ordered
CREATE INDEX trials_state ON trials(study_rowid, state, id);
-- clientId resume
CREATE INDEX trials_client ON trials(study_rowid, client_id) WHERE client_id IS NOT NULL;
-- lease expiry: only ACTIVE trials with a lease are ever looked up
CREATE INDEX trials_lease ON trials(study_rowid, lease_expiry)
	WHERE state = 2 AND lease_expiry > 0;

CREATE TABLE measurements (
	study_rowid INTEGER NOT NULL,
	trial_id INTEGER NOT NULL,
	seq INTEGER NOT NULL,
	json TEXT NOT NULL,
	PRIMARY KEY (study_rowid, trial_id, seq),
	FOREIGN KEY (study_rowid, trial_id) REFERENCES trials(study_rowid, id) ON DELETE CASCADE
);

CREATE TABLE operations (
	study_rowid INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE,
	id INTEGER NOT NULL,
	json TEXT NOT NULL,
	PRIMARY KEY (study_rowid, id)
);
