package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"roster.dev/roster/internal/account"
)

// openPgx opens a PostgreSQL pool whose connections refuse, before sending, a text
// argument holding a NUL or invalid UTF-8: PostgreSQL would answer with an error
// that is no one's validation, a 500. The surfaces and the use cases refuse such text
// first, naming the field; this is the last guard, whatever the channel, and answers
// EINVALID.
//
// With a timeout, the server gives up each statement and each lock wait a little
// after it (statement_timeout, lock_timeout: for a statement whose client is gone),
// and a connection attempt gives up after it; the URL may set other values.
func openPgx(rawURL string, timeout time.Duration) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		ms := strconv.FormatInt(serverSlack(timeout).Milliseconds(), 10)
		for _, p := range []string{"statement_timeout", "lock_timeout"} {
			if _, set := cfg.RuntimeParams[p]; !set {
				cfg.RuntimeParams[p] = ms
			}
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = timeout
		}
	}
	return sql.OpenDB(textGuard{stdlib.GetConnector(*cfg)}), nil
}

type textGuard struct{ driver.Connector }

func (g textGuard) Connect(ctx context.Context) (driver.Conn, error) {
	c, err := g.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := c.(*stdlib.Conn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("sqlstore: pgx returned a %T, not a *stdlib.Conn", c)
	}
	return guardedConn{sc}, nil
}

// guardedConn is pgx's connection (every optional interface of it promoted) with a
// CheckNamedValue that checks text. database/sql calls it for every argument of
// every statement, prepared or not.
type guardedConn struct{ *stdlib.Conn }

func (c guardedConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case string:
		if err := textArg(v); err != nil {
			return err
		}
	case []string:
		for _, s := range v {
			if err := textArg(s); err != nil {
				return err
			}
		}
	}
	return c.Conn.CheckNamedValue(nv)
}

func textArg(s string) error {
	if msg := account.TextProblem(s); msg != "" {
		return account.Errorf(account.EINVALID, "text %s", msg)
	}
	return nil
}
