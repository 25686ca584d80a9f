#!/usr/bin/env bash
# storage/schema/embed_sql.sh: each backend's files in version order, whatever
# order they are given in; a file named out of NNNN_name.sql, in a folder of
# no backend, or holding the literal's end, stops the build with its name.
set -uo pipefail

embed="${1:?usage: embed_sql_test.sh EMBED_SQL_SCRIPT}"
# fail, finish_checks.
source tests/testing/shell_assertions.sh || exit 1

# scripts NAME FILE...: a fresh folder $TEST_TMPDIR/NAME with the FILEs
# (paths below it) each holding one statement.
scripts() {
  local dir="$TEST_TMPDIR/$1" file
  shift
  for file in "$@"; do
    mkdir -p "$dir/$(dirname "$file")"
    echo "SELECT 1;" >"$dir/$file"
  done
}

# expect_refused WHAT TEXT FILE...: embedding FILE... fails, naming TEXT.
expect_refused() {
  local what="$1" text="$2" out status=0
  shift 2
  out="$(bash "$embed" "$TEST_TMPDIR/out.cc" "$@" 2>&1)" || status=$?
  echo "FIGURE embed_sql_test: $what: exit $status: $out"
  [ "$status" -ne 0 ] || fail "$what: embedded"
  [[ "$out" == *"$text"* ]] || fail "$what: the message lacks $text: $out"
}

scripts good sqlite/0002_b.sql sqlite/0001_a.sql postgres/0001_a.sql \
  postgres/0002_b.sql
good="$TEST_TMPDIR/good"
bash "$embed" "$TEST_TMPDIR/good.cc" "$good/sqlite/0002_b.sql" \
  "$good/sqlite/0001_a.sql" "$good/postgres/0001_a.sql" \
  "$good/postgres/0002_b.sql" || fail "good scripts: refused"
entries="$(grep -E '^ +\{[0-9]+, "' "$TEST_TMPDIR/good.cc" | tr -d ' ')"
want='{1,"a",{kSqlite1,sizeof(kSqlite1)-1}},
{2,"b",{kSqlite2,sizeof(kSqlite2)-1}},
{1,"a",{kPostgres1,sizeof(kPostgres1)-1}},
{2,"b",{kPostgres2,sizeof(kPostgres2)-1}},'
[ "$entries" = "$want" ] || fail "good scripts: entries $entries"

scripts bad sqlite/1_short.sql sqlite/0001_Upper.sql mysql/0001_a.sql \
  postgres/0001_a.sql
bad="$TEST_TMPDIR/bad"
expect_refused "version not 4 digits" "1_short.sql" \
  "$bad/sqlite/1_short.sql" "$bad/postgres/0001_a.sql"
expect_refused "name not lower_snake" "0001_Upper.sql" \
  "$bad/sqlite/0001_Upper.sql" "$bad/postgres/0001_a.sql"
expect_refused "unknown backend" "mysql/0001_a.sql" \
  "$bad/mysql/0001_a.sql" "$bad/postgres/0001_a.sql"
expect_refused "a backend without scripts" "no migration files for sqlite" \
  "$bad/postgres/0001_a.sql"
printf 'SELECT 1 AS ")sql";\n' >"$bad/sqlite/0001_a.sql"
expect_refused "the literal's end" "0001_a.sql: contains" \
  "$bad/sqlite/0001_a.sql" "$bad/postgres/0001_a.sql"

finish_checks "embed_sql"
