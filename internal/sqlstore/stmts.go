package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a statement cache. Roster's queries are a fixed set plus a
// few dozen filter combinations, far below it; past it queries are parsed each time.
const maxCachedStmts = 512

// stmtCache keeps one prepared statement per query text on a pool. modernc SQLite
// parses and plans a query on every call that is not prepared, which was a fifth of
// the CPU time of an entitlement check; database/sql then prepares each cached
// statement once per connection. (pgx caches prepared statements per connection by
// itself, so PostgreSQL needs none of this.)
type stmtCache struct {
	pool *sql.DB
	mu   sync.RWMutex
	m    map[string]*sql.Stmt
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}}
}

// get returns the statement for query, or nil when it cannot be prepared (the caller
// then runs the query unprepared, which reports the error) or the cache is full.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	c.mu.RLock()
	st := c.m[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[query]; st != nil {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cachedQuerier runs queries on a pool through its stmtCache.
type cachedQuerier struct {
	cache *stmtCache
}

func (q cachedQuerier) plain() querier { return q.cache.pool }

func (q cachedQuerier) stmt(ctx context.Context, query string) *sql.Stmt {
	return q.cache.get(ctx, query)
}

func (q cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.plain().ExecContext(ctx, query, args...)
}

func (q cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.plain().QueryContext(ctx, query, args...)
}

func (q cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := q.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.plain().QueryRowContext(ctx, query, args...)
}
