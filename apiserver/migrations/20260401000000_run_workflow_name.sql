-- The name a run's workflow runs under (its `metadata.name`), which names its files on the
-- backend (logs, outputs, artifacts): deleting an experiment deletes its runs' files by
-- these names without reading every manifest. Runs stored before this column have '' and
-- are looked up in their manifest instead.
ALTER TABLE runs ADD COLUMN workflow_name TEXT NOT NULL DEFAULT '';
