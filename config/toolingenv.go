package config

// toolingEnv are CALLSTATS_ variables of the project's test and benchmark
// tooling (scripts/test, internal/duckdb, internal/maildev, benchmarks): they
// set no key, but a shell that exports them must still run callstats.
var toolingEnv = []string{
	"CALLSTATS_REQUIRE_DUCKDB", "CALLSTATS_DUCKDB_DIR", "CALLSTATS_REQUIRE_MAILDEV", "CALLSTATS_MAILDEV_DIR",
	"CALLSTATS_REQUIRE_AZURITE", "CALLSTATS_AZURITE_DIR",
	"CALLSTATS_BENCH_RECORDS", "CALLSTATS_BENCH_CALLS",
}

// toolingPrefix starts the variables the tests use among themselves.
const toolingPrefix = "CALLSTATS_TEST_"
