-- 0007_health: one row that /healthz rewrites, at most once a second and
-- only after a write failed (a full disk, a read-only file), to find out
-- whether the database can be written again (store_health).
CREATE TABLE health (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	probes INTEGER NOT NULL
);
