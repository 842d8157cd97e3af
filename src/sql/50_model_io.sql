-- 50_model_io.sql: checking stored models (src/model_io.c)

CREATE FUNCTION mlcycle.model_info(model bytea)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'mlc_model_info'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION mlcycle.model_info(bytea) IS
'Validates a serialized mlcycle model (magic, format version, CRC32C, every length and value) and returns a summary: format_version, task, algorithm and the numbers of columns, features and classes. A damaged model raises an error with SQLSTATE XX001 (data_corrupted).';

CREATE FUNCTION mlcycle.fuzz_model_loader(model bytea, iterations int, seed int)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'mlc_fuzz_model_loader'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION mlcycle.fuzz_model_loader(bytea, int, int) IS
'Testing aid: loads the given number of randomly mutated copies of a serialized model (bit flips, byte overwrites, truncation, insertions, deletions, extreme 4- and 8-byte values; half of them with a recomputed CRC32C), each in a subtransaction, and returns {"iterations", "accepted", "rejected"}. Accepted copies must serialize back to the same bytes. The seed makes the run reproducible.';

-- a testing aid that can keep a backend busy: not for every role
REVOKE ALL ON FUNCTION mlcycle.fuzz_model_loader(bytea, int, int) FROM PUBLIC;
