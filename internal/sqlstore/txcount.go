package sqlstore

import (
	"context"
	"sync/atomic"
)

// TxCount counts the Read and Write calls a DB runs for one context (see
// CountTransactions). A Write run again after a deadlock counts once: it is the
// use case's one transaction.
type TxCount struct {
	reads, writes atomic.Int64
}

// Reads is how many Read calls ran under the counting context so far.
func (c *TxCount) Reads() int64 { return c.reads.Load() }

// Writes is how many Write calls ran under the counting context so far.
func (c *TxCount) Writes() int64 { return c.writes.Load() }

type txCountKey struct{}

// CountTransactions returns ctx with a new TxCount, which every Read and Write of a
// DB run with that context, or one derived from it, adds to: the way a test pins how
// many transactions one request costs, whatever else runs on the same store at the
// time. Without it a transaction costs one context lookup.
func CountTransactions(ctx context.Context) (context.Context, *TxCount) {
	c := &TxCount{}
	return context.WithValue(ctx, txCountKey{}, c), c
}

// counted adds one Read (or one Write) to ctx's TxCount, if it has one.
func counted(ctx context.Context, write bool) {
	c, ok := ctx.Value(txCountKey{}).(*TxCount)
	if !ok {
		return
	}
	if write {
		c.writes.Add(1)
	} else {
		c.reads.Add(1)
	}
}
