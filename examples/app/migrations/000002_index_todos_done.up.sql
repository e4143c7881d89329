-- Safe on a live table: builds the index without blocking writes. golang-migrate runs each file in
-- its own transaction unless told otherwise, so CONCURRENTLY needs the file to hold one statement.
CREATE INDEX CONCURRENTLY IF NOT EXISTS todos_done_idx ON todos (done);
