-- 0004_metadata: free-form metadata on studies and trials (Optuna's user
-- attributes, OSS Vizier's metadata): a JSON object of string keys to
-- string values, canonical text (keys sorted) written by the api module,
-- NULL when the object is empty. Bounded by sibyld's max_metadata_*
-- settings, checked before a write (docs/server-api.md).
-- Not in the trial_seq_update trigger's list: a metadata change is no
-- change of the history a suggestion is made from.
ALTER TABLE studies ADD COLUMN metadata_json TEXT;
ALTER TABLE trials ADD COLUMN metadata_json TEXT;
