-- The owners' quotas (maxStudies, maxTrialsPerStudy, maxActiveTrials,
-- maxApiKeys) are the service's rules now, checked in the write
-- transaction under the store's critical sections (server/store/store.h)
-- and refused with a typed refusal, so that a backend without triggers
-- keeps the same contract. The triggers that did it go; the quota
-- columns stay. The trial change counter (0003_trial_seq.sql) stays a
-- backend's duty and keeps its triggers.
DROP TRIGGER IF EXISTS quota_max_studies;
DROP TRIGGER IF EXISTS quota_max_trials_per_study;
DROP TRIGGER IF EXISTS quota_max_active_insert;
DROP TRIGGER IF EXISTS quota_max_active_update;
DROP TRIGGER IF EXISTS quota_max_api_keys;
