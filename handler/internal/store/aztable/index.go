package aztable

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// The expiry index (layout.go) and the purge that reads it. Table Storage
// has no TTL (docs/architecture.md §7.2), and a query on ExpiresAt over the
// whole table reads every row, live or not: its cost grows with the table.
// The index turns the purge into range reads of a few small partitions
// ("expires-<shard>-<hour>", up to the current hour) and one single-partition
// query per expired record's partition.

// index writes the index entry of e's partition, if e expires.
func (s *Store) index(ctx context.Context, e entity) error {
	if e.expires.IsZero() {
		return nil
	}
	return s.putIndex(ctx, e.pk, e.expires)
}

// putIndex lists partition pk under the hour of exp. An upsert: writing
// the same entry twice (a record put again) is one entry.
func (s *Store) putIndex(ctx context.Context, pk string, exp time.Time) error {
	p := newProps()
	p.time("ExpiresAt", exp)
	b, err := entity{keys: indexKeys(pk, exp), props: p.m}.body("")
	if err != nil {
		return err
	}
	return s.call(ctx, func(ctx context.Context) error {
		_, err := s.client.UpsertEntity(ctx, b, &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace})
		return err
	})
}

// purgeCursor is where DeleteExpired goes on from: a shard, and the last
// index entry it finished there (nil: the shard's start).
type purgeCursor struct {
	Shard int        `json:"s"`
	After *[2]string `json:"a,omitempty"`
}

// DeleteExpired walks the index shard by shard from cursor. A call reads
// one page of index entries (at most max, up to the hour of now, ExpiresAt
// before now), skipping shards that have none, and visits each listed
// partition: its expired rows are deleted with the ETag they were listed
// with, and the entry is deleted or, if rows remain, moved to the hour of
// the earliest (a registration touched since, say). It stops after max
// deleted rows; an entry whose partition it did not finish stays for the
// next call. So a call costs at most 16 empty index reads plus, per expired
// partition, one query and its deletes: nothing in it grows with the rows
// that are still live.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, cursor string, max int) (int, string, error) {
	c := purgeCursor{}
	if cursor != "" {
		if err := json.Unmarshal([]byte(cursor), &c); err != nil || c.Shard < 0 || c.Shard >= indexShards {
			return 0, "", fmt.Errorf("aztable: bad purge cursor %q", cursor)
		}
	}
	top := int32(min(max, 1000))
	for ; c.Shard < indexShards; c.Shard, c.After = c.Shard+1, nil {
		entries, more, err := s.indexPage(ctx, c, now, top)
		if err != nil {
			return 0, cursor, err
		}
		if len(entries) == 0 && !more {
			continue // nothing expired in this shard
		}
		n := 0
		for _, e := range entries {
			d, done, err := s.visit(ctx, e, now, max-n)
			n += d
			if err != nil || !done {
				return n, c.String(), err
			}
			c.After = &[2]string{e.pk, e.rk}
			if n >= max {
				return n, c.String(), nil
			}
		}
		if !more && len(entries) < int(top) {
			c.Shard, c.After = c.Shard+1, nil // this shard is done
		}
		if c.Shard == indexShards {
			return n, "", nil
		}
		return n, c.String(), nil
	}
	return 0, "", nil
}

func (c purgeCursor) String() string {
	b, _ := json.Marshal(c) // cannot fail: an int and strings
	return string(b)
}

// indexPage reads the index entries of one shard after c.After that are due
// at now. The service may end a page early (at a partition boundary, after
// 5 s) even with nothing in it; then up to a few more pages are read, so
// that an empty page is not mistaken for the end. more says the service
// has more.
func (s *Store) indexPage(ctx context.Context, c purgeCursor, now time.Time, top int32) ([]listed, bool, error) {
	prefix := indexShard(c.Shard)
	filter := "PartitionKey ge " + quote(prefix) +
		" and PartitionKey le " + quote(prefix+now.UTC().Format(indexHour)) +
		" and ExpiresAt lt " + odataTime(now)
	if a := c.After; a != nil {
		filter += " and (PartitionKey gt " + quote(a[0]) +
			" or (PartitionKey eq " + quote(a[0]) + " and RowKey gt " + quote(a[1]) + "))"
	}
	var next *[2]string
	for range 5 {
		rows, cont, err := s.list(ctx, filter, "PartitionKey,RowKey,ExpiresAt", top, next)
		if err != nil || len(rows) > 0 || cont == nil {
			return rows, cont != nil, err
		}
		next = cont
	}
	return nil, true, nil
}

// visit purges the partition index entry e lists: it deletes the rows that
// expired before now, at most budget of them, and returns how many records
// it deleted (the rows of a grant index, list.go, are not records: they
// use the budget but are not counted). done is false when the budget ran
// out first: e stays, to be visited again.
func (s *Store) visit(ctx context.Context, e listed, now time.Time, budget int) (n int, done bool, err error) {
	target := e.rk
	work := 0 // rows deleted, records or not
	var next *[2]string
	var earliest time.Time // of the rows that stay
	rewritten := false
	for {
		rows, cont, err := s.list(ctx, "PartitionKey eq "+quote(target), "PartitionKey,RowKey,ExpiresAt", 1000, next)
		if err != nil {
			return n, false, err
		}
		for _, r := range rows {
			exp := r.f.time("ExpiresAt")
			if exp.IsZero() || !exp.Before(now) {
				if !exp.IsZero() && (earliest.IsZero() || exp.Before(earliest)) {
					earliest = exp
				}
				continue
			}
			if work >= budget {
				return n, false, nil
			}
			d, err := s.deleteListed(ctx, r)
			if err != nil {
				return n, false, err
			}
			switch d {
			case removed:
				work++
				if !isGrantIndex(target) {
					n++
				}
			case changed:
				rewritten = true
			}
		}
		if cont == nil {
			break
		}
		next = cont
	}
	switch {
	case rewritten:
		// A row changed since it was listed: its writer indexed it anew,
		// or the next pass sees it as it is now. Keep the entry until then.
		return n, true, nil
	case !earliest.IsZero():
		if err := s.putIndex(ctx, target, earliest); err != nil {
			return n, false, err
		}
		if indexKeys(target, earliest) == e.keys {
			return n, true, nil
		}
	}
	// Deleted with the ETag it was listed with: an entry a writer has just
	// written again survives.
	_, err = s.deleteListed(ctx, e)
	return n, err == nil, err
}
