package aztable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"

	"github.com/azure-mcp/entra-mcp-functions/handler/internal/store"
)

func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeClient(c)
	return s.add(ctx, b, err)
}

func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, kindClient, id, "ID")
	if err != nil {
		return store.Client{}, err
	}
	return decodeClient(f)
}

func (s *Store) PutAuthRequest(ctx context.Context, a store.AuthRequest) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeAuthRequest(a)
	return s.put(ctx, b, err)
}

func (s *Store) GetAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, kindAuthReq, id, "ID")
	if err != nil {
		return store.AuthRequest{}, err
	}
	return decodeAuthRequest(f)
}

func (s *Store) TakeAuthRequest(ctx context.Context, id string) (store.AuthRequest, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, err := s.take(ctx, kindAuthReq, id, "ID")
	if err != nil {
		return store.AuthRequest{}, err
	}
	return decodeAuthRequest(f)
}

func (s *Store) PutConsent(ctx context.Context, c store.Consent) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeConsent(c)
	return s.put(ctx, b, err)
}

func (s *Store) GetConsent(ctx context.Context, key string) (store.Consent, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, _, err := s.get(ctx, kindConsent, key, "Key")
	if err != nil {
		return store.Consent{}, err
	}
	return decodeConsent(f)
}

func (s *Store) PutCode(ctx context.Context, c store.Code) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeCode(c)
	return s.put(ctx, b, err)
}

// TakeCode marks the code redeemed with a replace under If-Match, so of
// any number of racing callers exactly one wins; the others' replace fails
// with 412, and reading the code again shows them it was redeemed. The
// marked record stays until it expires and is purged.
func (s *Store) TakeCode(ctx context.Context, hash string) (store.Code, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	for {
		f, etag, err := s.get(ctx, kindCode, hash, "Hash")
		if err != nil {
			return store.Code{}, err
		}
		c, err := decodeCode(f)
		if err != nil {
			return store.Code{}, err
		}
		if !c.RedeemedAt.IsZero() {
			return c, store.ErrRedeemed
		}
		redeemed := c
		redeemed.RedeemedAt = s.now().UTC()
		b, err := encodeCode(redeemed)
		err = s.update(ctx, string(etag), b, err)
		if !errors.Is(err, store.ErrConflict) {
			if err != nil {
				return store.Code{}, err
			}
			return c, nil
		}
		// Lost the race: read again, which finds it redeemed (a code is
		// written once, so nothing else changes it). The operation
		// timeout bounds the loop.
	}
}

// CreateGrant writes the grant's index rows first, then the grant: an
// index row whose grant never came is skipped (and deleted) by ListGrants,
// while a grant without its rows could not be listed by its user.
func (s *Store) CreateGrant(ctx context.Context, g store.Grant) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeGrant(g)
	if err != nil {
		return err
	}
	if err := s.putGrantIndex(ctx, g); err != nil {
		return err
	}
	return s.add(ctx, b, nil)
}

func (s *Store) GetGrant(ctx context.Context, id string) (store.Grant, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, etag, err := s.get(ctx, kindGrant, id, "ID")
	if err != nil {
		return store.Grant{}, err
	}
	g, err := decodeGrant(f)
	g.ETag = string(etag)
	return g, err
}

func (s *Store) UpdateGrant(ctx context.Context, g store.Grant) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeGrant(g)
	return s.update(ctx, g.ETag, b, err)
}

// DeleteGrant deletes the grant first, so its access tokens stop working at
// once, then its refresh tokens. If that second step fails the error says
// so and a retry finishes it; the leftovers are useless meanwhile, since a
// refresh needs the grant.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	tctx, cancel := s.withTimeout(ctx)
	f, _, readErr := s.getAny(tctx, kindGrant, id, "ID")
	err := s.del(tctx, kindGrant, id)
	cancel()
	if err != nil {
		return err
	}
	if readErr == nil {
		if g, err := decodeGrant(f); err == nil {
			if err := s.deleteGrantIndex(ctx, g); err != nil {
				return err
			}
		}
	}
	// Not a point read, but revocation is rare and the filter stays inside
	// the refresh partition. GrantRow holds only key-safe characters.
	filter := "PartitionKey eq '" + kindRefresh + "' and GrantRow eq '" + rowKey(id) + "'"
	_, err = s.deleteWhere(ctx, filter, "PartitionKey,RowKey,GrantID", func(f *fields) bool {
		return f.str("GrantID") == id
	})
	return err
}

func (s *Store) PutRefresh(ctx context.Context, r store.RefreshToken) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeRefresh(r)
	return s.put(ctx, b, err)
}

func (s *Store) GetRefresh(ctx context.Context, hash string) (store.RefreshToken, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	f, etag, err := s.get(ctx, kindRefresh, hash, "Hash")
	if err != nil {
		return store.RefreshToken{}, err
	}
	r, err := decodeRefresh(f)
	r.ETag = string(etag)
	return r, err
}

func (s *Store) UpdateRefresh(ctx context.Context, r store.RefreshToken) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	b, err := encodeRefresh(r)
	return s.update(ctx, r.ETag, b, err)
}

func (s *Store) DeleteRefresh(ctx context.Context, hash string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	return s.del(ctx, kindRefresh, hash)
}

// DeleteExpired reads one page of the query ExpiresAt lt now (at most max
// entities, and the service ends a page early after 5 s or at a partition
// boundary) and deletes what it lists, each with the ETag it was listed
// with. The query's continuation (NextPartitionKey, NextRowKey) is the
// cursor, so a caller walks the table over several calls, each bounded
// whatever the size of the table
// (learn.microsoft.com/rest/api/storageservices/query-timeout-and-pagination).
// Records that never expire have no ExpiresAt property, and an entity
// without it does not match the comparison, so they are never listed.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, cursor string, max int) (int, string, error) {
	filter, sel, top := "ExpiresAt lt "+odataTime(now), "PartitionKey,RowKey", int32(min(max, 1000))
	opts := &aztables.ListEntitiesOptions{Filter: &filter, Select: &sel, Top: &top}
	if cursor != "" {
		var c [2]string
		if err := json.Unmarshal([]byte(cursor), &c); err != nil {
			return 0, "", fmt.Errorf("aztable: bad purge cursor: %w", err)
		}
		opts.NextPartitionKey, opts.NextRowKey = &c[0], &c[1]
	}
	tctx, cancel := s.withTimeout(ctx)
	page, err := s.client.NewListEntitiesPager(opts).NextPage(tctx)
	cancel()
	if hasCode(err, aztables.TableNotFound) {
		return 0, "", nil // no table yet, nothing to delete
	}
	if err != nil {
		return 0, "", mapError(err)
	}
	// Index rows (list.go) expire with their grants but are not records:
	// they are deleted and not counted.
	isIndex := func(f *fields) bool {
		pk := f.str("PartitionKey")
		return pk == kindUserGrant || pk == kindClientGrant
	}
	n, err := s.deleteListed(ctx, page.Entities, func(f *fields) bool { return !isIndex(f) })
	if err == nil {
		_, err = s.deleteListed(ctx, page.Entities, isIndex)
	}
	next := ""
	if page.NextPartitionKey != nil && err == nil {
		rk := ""
		if page.NextRowKey != nil {
			rk = *page.NextRowKey
		}
		b, _ := json.Marshal([2]string{*page.NextPartitionKey, rk})
		next = string(b)
	}
	return n, next, err
}
